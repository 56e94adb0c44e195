//! `up`, `create` and `down`.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use bollard::Docker;
use futures_util::future::join_all;
use tokio::task::JoinSet;

use super::logs::{self, LogOptions};
use super::Ctx;
use crate::cli::{CreateArgs, DownArgs, UpArgs};
use crate::convergence::dependencies::exit_code;
use crate::convergence::down::{self, DownOptions};
use crate::convergence::images::ImagePolicy;
use crate::convergence::up::{self as converge, Recreate, UpOptions};
use crate::convergence::{members, Member, Oneoff};
use crate::error::{ComposeError, Result};
use crate::progress::Progress;

fn scale_overrides(specs: &[String]) -> Result<BTreeMap<String, u64>> {
    specs
        .iter()
        .map(|s| {
            let (svc, n) = s
                .split_once('=')
                .ok_or_else(|| ComposeError::Usage(format!("invalid --scale {s:?}: use SERVICE=NUM")))?;
            let n = n.parse().map_err(|_| ComposeError::Usage(format!("invalid --scale {s:?}: use SERVICE=NUM")))?;
            Ok((svc.to_string(), n))
        })
        .collect()
}

fn recreate(force: bool, never: bool) -> Result<Recreate> {
    match (force, never) {
        (true, true) => Err(ComposeError::Usage("--force-recreate and --no-recreate are incompatible".into())),
        (true, false) => Ok(Recreate::Force),
        (false, true) => Ok(Recreate::Never),
        (false, false) => Ok(Recreate::Diverged),
    }
}

pub async fn create(ctx: &Ctx, a: &CreateArgs) -> Result<i32> {
    let project = ctx.project(&a.services)?;
    let docker = ctx.docker()?;
    let opts = UpOptions {
        services: a.services.clone(),
        recreate: recreate(a.force_recreate, a.no_recreate)?,
        images: ImagePolicy { build: a.build, no_build: a.no_build, pull: a.pull.clone(), quiet: false },
        start: false,
        remove_orphans: a.remove_orphans,
        scale: scale_overrides(&a.scale)?,
        ..Default::default()
    };
    converge::up(&docker, &project, &opts, ctx.progress).await?;
    Ok(0)
}

pub async fn up(ctx: &Ctx, a: &UpArgs) -> Result<i32> {
    let abort = a.abort_on_container_exit || a.exit_code_from.is_some();
    if a.detach && abort {
        return Err(ComposeError::Usage("--abort-on-container-exit and --detach are incompatible".into()));
    }
    let project = ctx.project(&a.services)?;
    if let Some(svc) = &a.exit_code_from {
        if !project.services.contains_key(svc) {
            return Err(ComposeError::Failed(format!("no such service: {svc}")));
        }
    }
    let docker = ctx.docker()?;
    let opts = UpOptions {
        services: a.services.clone(),
        no_deps: a.no_deps,
        recreate: recreate(a.force_recreate, a.no_recreate)?,
        images: ImagePolicy { build: a.build, no_build: a.no_build, pull: a.pull.clone(), quiet: a.quiet_pull },
        start: !a.no_start,
        remove_orphans: a.remove_orphans,
        scale: scale_overrides(&a.scale)?,
        timeout: a.timeout,
    };
    let scope = converge::up(&docker, &project, &opts, ctx.progress).await?;
    if a.no_start {
        return Ok(0);
    }
    if a.wait {
        converge::wait_ready(&docker, &project, &scope, a.wait_timeout.map(Duration::from_secs), ctx.progress).await?;
        return Ok(0);
    }
    if a.detach {
        return Ok(0);
    }
    let attached = if a.services.is_empty() { scope.clone() } else { a.services.clone() };
    let list = members(&docker, &project.name, &attached, Oneoff::Exclude, true).await?;
    let log_opts = LogOptions {
        follow: true,
        tail: "all".into(),
        timestamps: a.timestamps,
        color: !a.no_color && std::io::stdout().is_terminal(),
        prefix: !a.no_log_prefix,
        ..Default::default()
    };
    attach(&docker, &project.name, list, &log_opts, abort, a.exit_code_from.as_deref(), a.timeout, ctx.progress).await
}

/// Foreground `up`: prints every container's output until they all exit, the first one exits
/// (with `--abort-on-container-exit`), or Ctrl-C, which stops them.
#[allow(clippy::too_many_arguments)]
async fn attach(
    docker: &Docker,
    project: &str,
    list: Vec<Member>,
    opts: &LogOptions,
    abort: bool,
    exit_code_from: Option<&str>,
    timeout: Option<i64>,
    progress: Progress,
) -> Result<i32> {
    let names: Vec<String> = list.iter().map(|m| logs::short_name(project, m)).collect();
    println!("Attaching to {}", names.join(", "));
    let prefixes = logs::prefixes(project, &list, opts.color);
    let mut exits = JoinSet::new();
    for (m, prefix) in list.iter().cloned().zip(prefixes) {
        let docker = docker.clone();
        let opts = opts.clone();
        let shown = logs::short_name(project, &m);
        exits.spawn(async move {
            let prefix = if opts.prefix { prefix } else { String::new() };
            let _ = logs::follow_one(&docker, &m, prefix, &opts).await;
            let code = exit_code(&docker, &m.id).await.unwrap_or(-1);
            (m, shown, code)
        });
    }
    let mut result = 0;
    let mut interrupted = false;
    loop {
        tokio::select! {
            next = exits.join_next() => {
                let Some(done) = next else { break };
                let (m, shown, code) = done.map_err(|e| ComposeError::Failed(e.to_string()))?;
                println!("{shown} exited with code {code}");
                let chosen = exit_code_from.is_none_or(|s| s == m.service);
                if abort && chosen {
                    result = code as i32;
                    println!("Aborting on container exit...");
                    break;
                }
            }
            _ = tokio::signal::ctrl_c() => {
                println!("Gracefully stopping... (press Ctrl+C again to force)");
                interrupted = true;
                break;
            }
        }
    }
    let _ = std::io::stdout().flush();
    if abort || interrupted {
        let stops = list.iter().filter(|m| m.running() || abort).map(|m| async move {
            progress.event("Container", &m.name, "Stopping");
            let _ = docker.stop_container(&m.id, Some(crate::convergence::stop_options(timeout))).await;
            progress.event("Container", &m.name, "Stopped");
        });
        join_all(stops).await;
        exits.abort_all();
    }
    Ok(if interrupted { 130 } else { result })
}

pub async fn down(ctx: &Ctx, a: &DownArgs) -> Result<i32> {
    let project = ctx.project_or_named(&[])?;
    let docker = ctx.docker()?;
    let opts =
        DownOptions { volumes: a.volumes, rmi: a.rmi.clone(), remove_orphans: a.remove_orphans, timeout: a.timeout };
    if let Some(mode) = &opts.rmi {
        if mode != "local" && mode != "all" {
            return Err(ComposeError::Usage(format!("invalid --rmi option {mode:?}: use \"local\" or \"all\"")));
        }
    }
    down::down(&docker, &project, &opts, ctx.progress).await?;
    Ok(0)
}
