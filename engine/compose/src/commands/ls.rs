//! `ls` (projects known to the engine) and `version`.

use std::collections::BTreeMap;

use bollard::query_parameters::ListContainersOptionsBuilder;

use super::Ctx;
use crate::cli::{LsArgs, VersionArgs};
use crate::convergence::labels;
use crate::error::{ComposeError, Result};

pub fn version(a: &VersionArgs) -> Result<i32> {
    match (a.short, a.format.as_str()) {
        (true, _) => println!("{}", crate::VERSION),
        (false, "json") => println!("{}", serde_json::json!({"version": format!("v{}", crate::VERSION)})),
        _ => println!("Docker Compose version v{}", crate::VERSION),
    }
    Ok(0)
}

#[derive(Default)]
struct Summary {
    states: BTreeMap<String, usize>,
    files: String,
}

pub async fn ls(ctx: &Ctx, a: &LsArgs) -> Result<i32> {
    let docker = ctx.docker()?;
    let filters = std::collections::HashMap::from([("label".to_string(), vec![labels::PROJECT.to_string()])]);
    let opts = ListContainersOptionsBuilder::new().all(true).filters(&filters).build();
    let mut projects: BTreeMap<String, Summary> = BTreeMap::new();
    for c in docker.list_containers(Some(opts)).await? {
        let l = c.labels.clone().unwrap_or_default();
        let Some(name) = l.get(labels::PROJECT) else { continue };
        let entry = projects.entry(name.clone()).or_default();
        entry.files = l.get(labels::CONFIG_FILES).cloned().unwrap_or_default();
        *entry.states.entry(c.state.map(|s| s.to_string()).unwrap_or_default()).or_default() += 1;
    }
    if let Some(f) = &a.filter {
        let wanted = f
            .strip_prefix("name=")
            .ok_or_else(|| ComposeError::Usage(format!("invalid filter {f:?}: use name=...")))?;
        projects.retain(|n, _| n.contains(wanted));
    }
    if !a.all {
        projects.retain(|_, s| s.states.contains_key("running"));
    }
    let status = |s: &Summary| s.states.iter().map(|(k, n)| format!("{k}({n})")).collect::<Vec<_>>().join(", ");
    if a.quiet {
        projects.keys().for_each(|n| println!("{n}"));
    } else if a.format == "json" {
        let rows: Vec<_> = projects
            .iter()
            .map(|(n, s)| serde_json::json!({"Name": n, "Status": status(s), "ConfigFiles": s.files}))
            .collect();
        println!("{}", serde_json::Value::Array(rows));
    } else {
        println!("{:<20}{:<24}CONFIG FILES", "NAME", "STATUS");
        for (n, s) in &projects {
            println!("{n:<20}{:<24}{}", status(s), s.files);
        }
    }
    Ok(0)
}
