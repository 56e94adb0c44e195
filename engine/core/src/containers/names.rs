//! Container names: Docker's rules, and a random `adjective_name` when the
//! user gives none.

use std::io::Read;

/// Docker's name grammar, after an optional leading `/`.
pub fn valid(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

const ADJECTIVES: &[&str] = &[
    "brave", "calm", "clever", "eager", "gentle", "happy", "jolly", "keen", "lucid", "merry", "nimble", "quiet",
    "rapid", "serene", "steady", "swift", "tidy", "vivid", "wise", "zen",
];
const NAMES: &[&str] = &[
    "anchor", "beacon", "buoy", "capstan", "compass", "dock", "ferry", "harbor", "hull", "jetty", "keel", "lantern",
    "mast", "mooring", "pier", "quay", "rudder", "sail", "tide", "wharf",
];

/// A random name; `attempt` adds a number once the plain names collide.
pub fn random(attempt: u32) -> String {
    let mut b = [0u8; 2];
    let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    let base = format!("{}_{}", ADJECTIVES[b[0] as usize % ADJECTIVES.len()], NAMES[b[1] as usize % NAMES.len()]);
    if attempt == 0 {
        base
    } else {
        format!("{base}{attempt}")
    }
}

/// A random 64-hex-digit container ID.
pub fn new_id() -> String {
    let mut b = [0u8; 32];
    let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(valid("web-1") && valid("a.b_c") && valid("ab"));
        assert!(!valid("a") && !valid("-x") && !valid("a b") && !valid(""));
        assert!(valid(&random(0)));
        assert_eq!(new_id().len(), 64);
    }
}
