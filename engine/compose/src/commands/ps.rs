//! `ps`: the project's containers as a table, JSON lines, IDs or service names.

use std::collections::BTreeSet;

use serde_json::json;

use super::Ctx;
use crate::cli::PsArgs;
use crate::convergence::{members, Member, Oneoff};
use crate::error::{ComposeError, Result};

pub async fn run(ctx: &Ctx, a: &PsArgs) -> Result<i32> {
    let project = ctx.project_or_named(&a.names)?;
    let docker = ctx.docker()?;
    let mut statuses: Vec<String> = a.status.clone();
    if let Some(f) = &a.filter {
        match f.split_once('=') {
            Some(("status", s)) => statuses.push(s.to_string()),
            _ => return Err(ComposeError::Usage(format!("invalid filter {f:?}: only status=... is supported"))),
        }
    }
    let all = a.all || !statuses.is_empty();
    let oneoff = if a.all { Oneoff::Include } else { Oneoff::Exclude };
    let mut list = members(&docker, &project.name, &a.names, oneoff, all).await?;
    if !statuses.is_empty() {
        list.retain(|m| statuses.contains(&m.state));
    }
    if a.services {
        let names: BTreeSet<&str> = list.iter().map(|m| m.service.as_str()).collect();
        names.iter().for_each(|n| println!("{n}"));
        return Ok(0);
    }
    if a.quiet {
        list.iter().for_each(|m| println!("{}", m.id));
        return Ok(0);
    }
    match a.format.as_str() {
        "json" => list.iter().for_each(|m| println!("{}", row_json(&project.name, m))),
        "table" => print_table(&list),
        other => return Err(ComposeError::Usage(format!("unsupported format {other:?}: use table or json"))),
    }
    Ok(0)
}

fn ports(m: &Member) -> String {
    let mut out: Vec<String> = Vec::new();
    for p in m.summary.ports.clone().unwrap_or_default() {
        let proto = p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into());
        let text = match p.public_port {
            Some(public) => format!("{}:{public}->{}/{proto}", p.ip.unwrap_or_default(), p.private_port),
            None => format!("{}/{proto}", p.private_port),
        };
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out.join(", ")
}

fn row_json(project: &str, m: &Member) -> serde_json::Value {
    let c = &m.summary;
    let labels: Vec<String> = c.labels.clone().unwrap_or_default().iter().map(|(k, v)| format!("{k}={v}")).collect();
    let publishers: Vec<_> = c
        .ports
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            json!({
                "URL": p.ip.unwrap_or_default(),
                "TargetPort": p.private_port,
                "PublishedPort": p.public_port.unwrap_or(0),
                "Protocol": p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into()),
            })
        })
        .collect();
    let networks: Vec<String> = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|n| n.keys().cloned().collect())
        .unwrap_or_default();
    let status = c.status.clone().unwrap_or_default();
    json!({
        "Command": format!("\"{}\"", c.command.clone().unwrap_or_default()),
        "CreatedAt": chrono::DateTime::from_timestamp(c.created.unwrap_or(0), 0).map(|t| t.to_rfc3339()).unwrap_or_default(),
        "ExitCode": exit_code_from_status(&status),
        "Health": health_from_status(&status),
        "ID": m.id,
        "Image": c.image.clone().unwrap_or_default(),
        "Labels": labels.join(","),
        "LocalVolumes": c.mounts.as_ref().map(|v| v.iter().filter(|m| m.driver.as_deref() == Some("local")).count()).unwrap_or(0).to_string(),
        "Mounts": c.mounts.clone().unwrap_or_default().iter().filter_map(|m| m.name.clone().or(m.source.clone())).collect::<Vec<_>>().join(","),
        "Name": m.name,
        "Names": m.name,
        "Networks": networks.join(","),
        "Ports": ports(m),
        "Project": project,
        "Publishers": publishers,
        "RunningFor": status,
        "Service": m.service,
        "Size": "0B",
        "State": m.state,
        "Status": status,
    })
}

fn exit_code_from_status(status: &str) -> i64 {
    status.strip_prefix("Exited (").and_then(|r| r.split(')').next()).and_then(|c| c.parse().ok()).unwrap_or(0)
}

fn health_from_status(status: &str) -> &'static str {
    if status.contains("(healthy)") {
        "healthy"
    } else if status.contains("(unhealthy)") {
        "unhealthy"
    } else if status.contains("(health: starting)") {
        "starting"
    } else {
        ""
    }
}

fn print_table(list: &[Member]) {
    let header = ["NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS"];
    let now = chrono::Utc::now().timestamp();
    let rows: Vec<[String; 7]> = list
        .iter()
        .map(|m| {
            let c = &m.summary;
            let mut command = c.command.clone().unwrap_or_default();
            if command.chars().count() > 20 {
                command = command.chars().take(19).collect::<String>() + "…";
            }
            [
                m.name.clone(),
                c.image.clone().unwrap_or_default(),
                format!("\"{command}\""),
                m.service.clone(),
                ago(now - c.created.unwrap_or(now)),
                c.status.clone().unwrap_or_default(),
                ports(m),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut text: String =
            cells.iter().zip(&widths).map(|(c, w)| format!("{c:<width$}", width = w + 3)).collect::<String>();
        text.truncate(text.trim_end().len());
        println!("{text}");
    };
    line(header.to_vec());
    for r in &rows {
        line(r.iter().map(String::as_str).collect());
    }
}

/// "2 minutes ago", as the docker CLI words ages.
fn ago(secs: i64) -> String {
    let (n, unit) = match secs {
        s if s < 60 => return format!("{} seconds ago", s.max(1)),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 86400 => (s / 3600, "hour"),
        s => (s / 86400, "day"),
    };
    if n == 1 {
        format!("About a{} {unit} ago", if unit == "hour" { "n" } else { "" })
    } else {
        format!("{n} {unit}s ago")
    }
}
