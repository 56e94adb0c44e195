//! Dockerfile-style `changes` applied to an image's run configuration, as
//! `docker import --change` and `docker commit --change` take them.

use super::config::ContainerConfig;
use super::ImageError;

/// Applies instructions such as `CMD ["sh"]`, `ENV A=b`, `EXPOSE 80/tcp`.
pub fn apply(config: &mut ContainerConfig, changes: &[String]) -> Result<(), ImageError> {
    for change in changes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        let (instruction, rest) = change.split_once(char::is_whitespace).unwrap_or((change, ""));
        let rest = rest.trim();
        match instruction.to_ascii_uppercase().as_str() {
            "CMD" => config.cmd = Some(command(rest)),
            "ENTRYPOINT" => config.entrypoint = Some(command(rest)),
            "ENV" => {
                let env = config.env.get_or_insert_with(Vec::new);
                for (k, v) in pairs(rest) {
                    env.retain(|e| e.split('=').next() != Some(k.as_str()));
                    env.push(format!("{k}={v}"));
                }
            }
            "LABEL" => config.labels.get_or_insert_with(Default::default).extend(pairs(rest)),
            "EXPOSE" => {
                let ports = config.exposed_ports.get_or_insert_with(Default::default);
                for p in rest.split_whitespace() {
                    let p = if p.contains('/') { p.to_string() } else { format!("{p}/tcp") };
                    ports.insert(p, serde_json::json!({}));
                }
            }
            "VOLUME" => {
                let vols = config.volumes.get_or_insert_with(Default::default);
                for v in list(rest) {
                    vols.insert(v, serde_json::json!({}));
                }
            }
            "USER" => config.user = rest.into(),
            "WORKDIR" => config.working_dir = rest.into(),
            "STOPSIGNAL" => config.stop_signal = rest.into(),
            "ONBUILD" => config.on_build.get_or_insert_with(Vec::new).push(rest.into()),
            other => {
                return Err(ImageError::InvalidParameter(format!(
                    "{other} is not a valid change command (expected CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, \
                     ONBUILD, STOPSIGNAL, USER, VOLUME or WORKDIR)"
                )))
            }
        }
    }
    Ok(())
}

/// JSON form (`["a","b"]`) as is; shell form runs through `/bin/sh -c`.
fn command(rest: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(rest).unwrap_or_else(|_| vec!["/bin/sh".into(), "-c".into(), rest.into()])
}

fn list(rest: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(rest).unwrap_or_else(|_| rest.split_whitespace().map(str::to_owned).collect())
}

/// `k=v k2="v 2"`, or the legacy single `k v`.
fn pairs(rest: &str) -> Vec<(String, String)> {
    if !rest.contains('=') {
        return rest
            .split_once(char::is_whitespace)
            .map(|(k, v)| vec![(k.into(), v.trim().into())])
            .unwrap_or_default();
    }
    let mut out = Vec::new();
    let mut chars = rest.chars().peekable();
    while chars.peek().is_some() {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        let mut value = String::new();
        let mut quote = None;
        while let Some(&c) = chars.peek() {
            chars.next();
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, c) if c.is_whitespace() => break,
                (_, c) => value.push(c),
            }
        }
        if !key.is_empty() {
            out.push((key, value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_changes() {
        let mut c = ContainerConfig::default();
        let changes: Vec<String> = [
            r#"CMD ["sh", "-c", "echo hi"]"#,
            "ENTRYPOINT /bin/run",
            r#"ENV A=1 B="two words""#,
            "ENV A 3",
            "EXPOSE 80 53/udp",
            "LABEL x=y",
            "WORKDIR /srv",
            "USER nobody",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        apply(&mut c, &changes).unwrap();
        assert_eq!(c.cmd.unwrap(), ["sh", "-c", "echo hi"]);
        assert_eq!(c.entrypoint.unwrap(), ["/bin/sh", "-c", "/bin/run"]);
        assert_eq!(c.env.unwrap(), ["B=two words", "A=3"]);
        assert!(c.exposed_ports.unwrap().contains_key("53/udp"));
        assert_eq!(c.labels.unwrap()["x"], "y");
        assert_eq!((c.working_dir.as_str(), c.user.as_str()), ("/srv", "nobody"));
        assert!(apply(&mut ContainerConfig::default(), &["RUN rm -rf /".into()]).is_err());
    }
}
