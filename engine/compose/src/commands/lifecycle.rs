//! Commands on existing containers: start, stop, restart, rm, kill, pause, unpause, top, port,
//! wait, events.

use std::io::{IsTerminal, Write};

use bollard::query_parameters::{
    EventsOptionsBuilder, KillContainerOptionsBuilder, RemoveContainerOptionsBuilder, TopOptionsBuilder,
};
use futures_util::StreamExt;

use super::Ctx;
use crate::cli::{EventsArgs, KillArgs, PortArgs, RmArgs, ServicesArgs, StopArgs, WaitArgs};
use crate::convergence::dependencies::exit_code;
use crate::convergence::up::{scope, start_service};
use crate::convergence::{labels, members, restart_options, stop_options, Member, Oneoff};
use crate::error::{ComposeError, Result};
use crate::project::{dependency_order, Project};

/// The project's (non one-off) containers of the named services, dependents first when `reverse`.
async fn ordered(ctx: &Ctx, project: &Project, services: &[String], reverse: bool, all: bool) -> Result<Vec<Member>> {
    let docker = ctx.docker()?;
    let list = members(&docker, &project.name, services, Oneoff::Exclude, all).await?;
    let mut order = dependency_order(&project.services)?;
    if reverse {
        order.reverse();
    }
    let rank = |m: &Member| order.iter().position(|s| s == &m.service).unwrap_or(usize::MAX);
    let mut list = list;
    list.sort_by_key(|m| (rank(m), m.number));
    Ok(list)
}

pub async fn start(ctx: &Ctx, a: &ServicesArgs) -> Result<i32> {
    let project = ctx.project(&a.services)?;
    let docker = ctx.docker()?;
    for name in scope(&project, &a.services, true)? {
        start_service(&docker, &project, &project.services[&name], ctx.progress).await?;
    }
    Ok(0)
}

pub async fn stop(ctx: &Ctx, a: &StopArgs) -> Result<i32> {
    let project = ctx.project_or_named(&a.services)?;
    let docker = ctx.docker()?;
    for m in ordered(ctx, &project, &a.services, true, false).await? {
        ctx.progress.event("Container", &m.name, "Stopping");
        docker.stop_container(&m.id, Some(stop_options(a.timeout))).await?;
        ctx.progress.event("Container", &m.name, "Stopped");
    }
    Ok(0)
}

pub async fn restart(ctx: &Ctx, a: &StopArgs) -> Result<i32> {
    let project = ctx.project_or_named(&a.services)?;
    let docker = ctx.docker()?;
    for m in ordered(ctx, &project, &a.services, false, true).await? {
        ctx.progress.event("Container", &m.name, "Restarting");
        docker.restart_container(&m.id, Some(restart_options(a.timeout))).await?;
        ctx.progress.event("Container", &m.name, "Started");
    }
    Ok(0)
}

pub async fn rm(ctx: &Ctx, a: &RmArgs) -> Result<i32> {
    let project = ctx.project_or_named(&a.services)?;
    let docker = ctx.docker()?;
    if a.stop {
        stop(ctx, &StopArgs { timeout: None, services: a.services.clone() }).await?;
    }
    let list: Vec<Member> = members(&docker, &project.name, &a.services, Oneoff::Include, true)
        .await?
        .into_iter()
        .filter(|m| !m.running())
        .collect();
    if list.is_empty() {
        eprintln!("No stopped containers");
        return Ok(0);
    }
    if !a.force && std::io::stdin().is_terminal() {
        let names: Vec<&str> = list.iter().map(|m| m.name.as_str()).collect();
        eprint!("Going to remove {}\n? Are you sure? (y/N) ", names.join(", "));
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if !answer.trim().eq_ignore_ascii_case("y") {
            return Ok(0);
        }
    }
    for m in list {
        ctx.progress.event("Container", &m.name, "Removing");
        docker.remove_container(&m.id, Some(RemoveContainerOptionsBuilder::new().v(a.volumes).build())).await?;
        ctx.progress.event("Container", &m.name, "Removed");
    }
    Ok(0)
}

pub async fn kill(ctx: &Ctx, a: &KillArgs) -> Result<i32> {
    let project = ctx.project_or_named(&a.services)?;
    let docker = ctx.docker()?;
    for m in ordered(ctx, &project, &a.services, true, false).await? {
        ctx.progress.event("Container", &m.name, "Killing");
        docker.kill_container(&m.id, Some(KillContainerOptionsBuilder::new().signal(&a.signal).build())).await?;
        ctx.progress.event("Container", &m.name, "Killed");
    }
    Ok(0)
}

pub async fn pause(ctx: &Ctx, a: &ServicesArgs, pause: bool) -> Result<i32> {
    let project = ctx.project_or_named(&a.services)?;
    let docker = ctx.docker()?;
    for m in ordered(ctx, &project, &a.services, pause, false).await? {
        if pause {
            ctx.progress.event("Container", &m.name, "Pausing");
            docker.pause_container(&m.id).await?;
            ctx.progress.event("Container", &m.name, "Paused");
        } else {
            ctx.progress.event("Container", &m.name, "Unpausing");
            docker.unpause_container(&m.id).await?;
            ctx.progress.event("Container", &m.name, "Unpaused");
        }
    }
    Ok(0)
}

pub async fn top(ctx: &Ctx, a: &ServicesArgs) -> Result<i32> {
    let project = ctx.project_or_named(&a.services)?;
    let docker = ctx.docker()?;
    for m in ordered(ctx, &project, &a.services, false, false).await? {
        let top = docker.top_processes(&m.id, Some(TopOptionsBuilder::new().ps_args("-ef").build())).await?;
        let titles = top.titles.unwrap_or_default();
        let rows = top.processes.unwrap_or_default();
        let mut widths: Vec<usize> = titles.iter().map(String::len).collect();
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.len());
            }
        }
        println!("{}", m.name);
        let fmt = |cells: &[String]| {
            cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect::<Vec<_>>().join("   ")
        };
        println!("{}", fmt(&titles).trim_end());
        rows.iter().for_each(|r| println!("{}", fmt(r).trim_end()));
        println!();
    }
    Ok(0)
}

pub async fn port(ctx: &Ctx, a: &PortArgs) -> Result<i32> {
    let project = ctx.project_or_named(std::slice::from_ref(&a.service))?;
    let docker = ctx.docker()?;
    let list = members(&docker, &project.name, std::slice::from_ref(&a.service), Oneoff::Exclude, false).await?;
    let m = list.iter().find(|m| m.number == a.index).ok_or_else(|| {
        ComposeError::Failed(format!("service {:?} is not running container #{}", a.service, a.index))
    })?;
    let info = docker.inspect_container(&m.id, None::<bollard::query_parameters::InspectContainerOptions>).await?;
    let key = format!("{}/{}", a.private_port, a.protocol);
    let binding = info
        .network_settings
        .and_then(|n| n.ports)
        .and_then(|p| p.get(&key).cloned().flatten())
        .and_then(|b| b.into_iter().next())
        .ok_or_else(|| ComposeError::Failed(format!("no port {key} for container {}", m.name)))?;
    println!("{}:{}", binding.host_ip.unwrap_or_default(), binding.host_port.unwrap_or_default());
    Ok(0)
}

pub async fn wait(ctx: &Ctx, a: &WaitArgs) -> Result<i32> {
    let project = ctx.project_or_named(&a.services)?;
    let docker = ctx.docker()?;
    let list = members(&docker, &project.name, &a.services, Oneoff::Exclude, true).await?;
    let waits = list.iter().map(|m| Box::pin(exit_code(&docker, &m.id)));
    let mut first = 0;
    if a.down_project {
        if let (Ok(code), _, _) = futures_util::future::select_all(waits).await {
            first = code;
        }
        let opts = crate::convergence::down::DownOptions::default();
        crate::convergence::down::down(&docker, &project, &opts, ctx.progress).await?;
    } else {
        for (i, code) in futures_util::future::join_all(waits).await.into_iter().enumerate() {
            let code = code?;
            if i == 0 {
                first = code;
            }
        }
    }
    Ok(first as i32)
}

pub async fn events(ctx: &Ctx, a: &EventsArgs) -> Result<i32> {
    let project = ctx.project_or_named(&a.services)?;
    let docker = ctx.docker()?;
    let filters = labels::filter(&project.name, &[]);
    let mut stream = docker.events(Some(EventsOptionsBuilder::new().filters(&filters).build()));
    while let Some(event) = stream.next().await {
        let event = event?;
        let attrs = event.actor.as_ref().and_then(|a| a.attributes.clone()).unwrap_or_default();
        let service = attrs.get(labels::SERVICE).cloned().unwrap_or_default();
        if !a.services.is_empty() && !a.services.contains(&service) {
            continue;
        }
        let id = event.actor.as_ref().and_then(|a| a.id.clone()).unwrap_or_default();
        let kind = event.typ.map(|t| t.to_string()).unwrap_or_default();
        let action = event.action.clone().unwrap_or_default();
        let time = chrono::DateTime::from_timestamp(
            event.time.unwrap_or(0),
            event.time_nano.map_or(0, |n| (n % 1_000_000_000) as u32),
        )
        .unwrap_or_default();
        if a.json {
            let line = serde_json::json!({
                "time": time.to_rfc3339(), "type": kind, "action": action, "id": id, "service": service, "attributes": attrs,
            });
            println!("{line}");
        } else {
            let mut shown: Vec<String> = attrs
                .iter()
                .filter(|(k, _)| !k.starts_with("com.docker.compose"))
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            shown.sort();
            println!("{} {kind} {action} {id} ({})", time.format("%Y-%m-%d %H:%M:%S%.6f"), shown.join(", "));
        }
    }
    Ok(0)
}
