//! Users and groups by name or number, as an image's /etc/passwd and
//! /etc/group define them: for `--user`, `--group-add` and the builder's
//! `COPY --chown`.

/// `user` (a name or a uid) in `passwd`: uid, primary gid and name.
pub fn user(passwd: &str, user: &str) -> Option<(u32, u32, String)> {
    let f = fields(passwd, 4).find(|f| f[0] == user || f[2] == user)?;
    Some((f[2].parse().ok()?, f[3].parse().ok()?, f[0].to_string()))
}

/// `group` (a name or a gid) in `groups`.
pub fn group(groups: &str, group: &str) -> Option<u32> {
    fields(groups, 3).find(|f| f[0] == group || f[2] == group)?[2].parse().ok()
}

/// The gids of the groups that list `name` as a member.
pub fn memberships(groups: &str, name: &str) -> Vec<u32> {
    fields(groups, 4).filter(|f| f[3].split(',').any(|m| m == name)).filter_map(|f| f[2].parse().ok()).collect()
}

fn fields(text: &str, at_least: usize) -> impl Iterator<Item = Vec<&str>> {
    text.lines().map(|l| l.split(':').collect::<Vec<_>>()).filter(move |f| f.len() >= at_least)
}

/// The error for a user name nowhere in passwd, in dockerd's words.
pub fn no_user(user: &str) -> String {
    format!("unable to find user {user}: no matching entries in passwd file")
}

/// The error for a group name nowhere in group, in dockerd's words.
pub fn no_group(group: &str) -> String {
    format!("unable to find group {group}: no matching entries in group file")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nstaff:x:50:app,other\napp:x:1001:\n";

    #[test]
    fn by_name_and_number() {
        assert_eq!(user(PASSWD, "app"), Some((1000, 1001, "app".into())));
        assert_eq!(user(PASSWD, "0").map(|u| u.2), Some("root".into()));
        assert_eq!(user(PASSWD, "nobody"), None);
        assert_eq!(group(GROUP, "staff"), Some(50));
        assert_eq!(group(GROUP, "1001"), Some(1001));
        assert_eq!(memberships(GROUP, "app"), [50]);
    }
}
