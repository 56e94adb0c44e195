//! `docker compose config` against the official Compose on a corpus of projects: every project
//! must load to the same canonical model (compared as JSON, ignoring empty values), and every
//! broken project must be refused by both. The official binary is only a test oracle here.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn oracle() -> PathBuf {
    let path = std::env::var_os("BERTH_COMPOSE_ORACLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/compose-oracle/docker-compose"));
    assert!(
        path.exists(),
        "the official Compose binary (test oracle) is missing at {}: run scripts/test, which installs it, or set BERTH_COMPOSE_ORACLE",
        path.display()
    );
    path
}

fn ours() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().and_then(Path::parent).unwrap().join("docker-compose");
    assert!(bin.exists(), "{} is missing: build it first (cargo build -p berth-compose)", bin.display());
    bin
}

/// `config --format json` in `dir`: the document, or the error text.
fn config(bin: &Path, dir: &Path) -> Result<Value, String> {
    let mut cmd = Command::new(bin);
    cmd.args(["config", "--format", "json"]).current_dir(dir);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("COMPOSE_") || k.starts_with("DOCKER_")) {
        cmd.env_remove(k);
    }
    let out = cmd.env("FROM_SHELL", "from-the-shell").env("FROM_ENV", "e").env("API_KEY", "k").output().unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{}: not JSON: {e}", bin.display())))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Drops empty maps, lists and nulls, which the two implementations write out differently.
fn without_empty(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, without_empty(v)))
                .filter(|(k, v)| k == "default" || !is_empty(v))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_empty).collect()),
        other => other,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

#[test]
fn config_matches_the_official_compose() {
    let (oracle, ours) = (oracle(), ours());
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("compose/corpus");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&corpus).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    assert!(cases.len() >= 20, "corpus missing");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        match (config(&oracle, case), config(&ours, case)) {
            (Ok(theirs), Ok(mine)) => {
                let (theirs, mine) = (without_empty(theirs), without_empty(mine));
                if theirs != mine {
                    failures.push(format!("{name}: models differ\n  official: {theirs}\n  berth:    {mine}"));
                }
            }
            (Err(_), Err(mine)) => assert!(!mine.is_empty(), "{name}: refused without a message"),
            (Ok(_), Err(mine)) => failures.push(format!("{name}: official accepts it, berth refuses: {mine}")),
            (Err(theirs), Ok(_)) => failures.push(format!("{name}: official refuses it ({theirs}), berth accepts it")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
