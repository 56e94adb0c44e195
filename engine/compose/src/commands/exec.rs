//! `exec` and `run`: a process in a service's container, or a one-off container, with the
//! terminal wired to it.

use std::io::IsTerminal;
use std::os::fd::AsFd;

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::query_parameters::{AttachContainerOptionsBuilder, RemoveContainerOptionsBuilder};
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::Ctx;
use crate::cli::{ExecArgs, RunArgs};
use crate::convergence::container::{self, Instance, Peers};
use crate::convergence::dependencies::exit_code;
use crate::convergence::images::{self, ImagePolicy};
use crate::convergence::up::{self as converge, UpOptions};
use crate::convergence::{members, resources, Oneoff};
use crate::error::{ComposeError, Result};

/// Puts the terminal in raw mode while a TTY session runs; restores it when dropped.
struct RawMode(Option<nix::sys::termios::Termios>);

impl RawMode {
    fn enable(tty: bool) -> Self {
        use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
        let stdin = std::io::stdin();
        if !tty || !stdin.is_terminal() {
            return RawMode(None);
        }
        let Ok(saved) = tcgetattr(stdin.as_fd()) else { return RawMode(None) };
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        let _ = tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw);
        RawMode(Some(saved))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ = nix::sys::termios::tcsetattr(std::io::stdin().as_fd(), nix::sys::termios::SetArg::TCSANOW, saved);
        }
    }
}

/// Copies our stdin into the process and its output to our stdout/stderr until the output ends.
async fn pump(
    mut output: impl Stream<Item = Result<LogOutput, bollard::errors::Error>> + Unpin,
    mut input: std::pin::Pin<Box<dyn AsyncWrite + Send>>,
    forward_stdin: bool,
) -> Result<()> {
    let feeder = forward_stdin.then(|| {
        tokio::spawn(async move {
            let mut stdin = tokio::io::stdin();
            let _ = tokio::io::copy(&mut stdin, &mut input).await;
            let _ = input.shutdown().await;
        })
    });
    let mut stdout = tokio::io::stdout();
    let mut stderr = tokio::io::stderr();
    while let Some(chunk) = output.next().await {
        match chunk? {
            LogOutput::StdErr { message } => {
                stderr.write_all(&message).await.ok();
                stderr.flush().await.ok();
            }
            LogOutput::StdOut { message } | LogOutput::Console { message } | LogOutput::StdIn { message } => {
                stdout.write_all(&message).await.ok();
                stdout.flush().await.ok();
            }
        }
    }
    if let Some(f) = feeder {
        f.abort();
    }
    Ok(())
}

pub async fn exec(ctx: &Ctx, a: &ExecArgs) -> Result<i32> {
    let project = ctx.project_or_named(std::slice::from_ref(&a.service))?;
    let docker = ctx.docker()?;
    let list = members(&docker, &project.name, std::slice::from_ref(&a.service), Oneoff::Exclude, false).await?;
    let target = list
        .iter()
        .find(|m| m.number == a.index)
        .ok_or_else(|| ComposeError::Failed(format!("service {:?} is not running", a.service)))?;
    let tty = !a.no_tty && std::io::stdin().is_terminal();
    let attach = !a.detach;
    let opts = CreateExecOptions {
        cmd: Some(a.command.clone()),
        env: Some(a.env.clone()),
        user: a.user.clone(),
        working_dir: a.workdir.clone(),
        privileged: Some(a.privileged),
        tty: Some(tty),
        attach_stdin: Some(attach && a.interactive),
        attach_stdout: Some(attach),
        attach_stderr: Some(attach),
        ..Default::default()
    };
    let created = docker.create_exec(&target.id, opts).await?;
    let start = StartExecOptions { detach: a.detach, tty, ..Default::default() };
    match docker.start_exec(&created.id, Some(start)).await? {
        StartExecResults::Detached => Ok(0),
        StartExecResults::Attached { output, input } => {
            let _raw = RawMode::enable(tty);
            pump(output, input, a.interactive).await?;
            let info = docker.inspect_exec(&created.id).await?;
            Ok(info.exit_code.unwrap_or(0) as i32)
        }
    }
}

pub async fn run(ctx: &Ctx, a: &RunArgs) -> Result<i32> {
    let project = ctx.project(std::slice::from_ref(&a.service))?;
    let docker = ctx.docker()?;
    let base = project
        .services
        .get(&a.service)
        .ok_or_else(|| ComposeError::Failed(format!("no such service: {}", a.service)))?;
    let deps: Vec<String> = converge::scope(&project, std::slice::from_ref(&a.service), false)?
        .into_iter()
        .filter(|s| s != &a.service)
        .collect();
    if !a.no_deps && !deps.is_empty() {
        let opts = UpOptions { services: deps, start: true, remove_orphans: a.remove_orphans, ..Default::default() };
        converge::up(&docker, &project, &opts, ctx.progress).await?;
    }
    let mut service = base.clone();
    let failed = |m: String| ComposeError::Failed(m);
    if !a.command.is_empty() {
        service.command = Some(a.command.clone());
    }
    if let Some(ep) = &a.entrypoint {
        service.entrypoint = Some(shlex::split(ep).ok_or_else(|| failed(format!("invalid --entrypoint {ep:?}")))?);
    }
    for e in &a.env {
        match e.split_once('=') {
            Some((k, v)) => service.environment.insert(k.to_string(), Some(v.to_string())),
            None => service.environment.insert(e.clone(), std::env::var(e).ok()),
        };
    }
    for l in &a.labels {
        let (k, v) = l.split_once('=').unwrap_or((l, ""));
        service.labels.insert(k.to_string(), v.to_string());
    }
    if a.user.is_some() {
        service.user = a.user.clone();
    }
    if a.workdir.is_some() {
        service.working_dir = a.workdir.clone();
    }
    for v in &a.volumes {
        service.volumes.push(crate::project::volume_arg(v, &project.working_dir).map_err(failed)?);
    }
    if !a.service_ports {
        service.ports.clear();
    }
    for p in &a.publish {
        service.ports.extend(crate::project::port_arg(p).map_err(failed)?);
    }
    service.restart = None;
    if let Some(d) = service.deploy.as_mut() {
        d.restart_policy = None;
    }
    service.container_name = None;
    let tty = !a.no_tty && std::io::stdin().is_terminal() && !a.detach;
    service.tty = tty;
    service.stdin_open = !a.detach;

    let policy = ImagePolicy { build: a.build, ..Default::default() };
    let ids = images::ensure(&docker, &project, &[&service], &policy, ctx.progress).await?;
    resources::ensure_networks(&docker, &project, &resources::used_networks([&service].into_iter()), ctx.progress)
        .await?;
    resources::ensure_volumes(
        &docker,
        &project,
        &resources::used_volumes(&project, [&service].into_iter()),
        ctx.progress,
    )
    .await?;
    let suffix = run_suffix();
    let name = a.name.clone().unwrap_or_else(|| format!("{}-{}-run-{suffix}", project.name, a.service));
    let peers: Peers =
        project.services.values().map(|s| (s.name.clone(), container::container_name(&project, s, 1))).collect();
    let inst = Instance { service: &service, number: 1, oneoff: true, image_id: ids[&a.service].clone() };
    let id = converge::create(&docker, &project, &inst, &peers, &name, Vec::new()).await?;

    if a.detach {
        docker.start_container(&id, None::<bollard::query_parameters::StartContainerOptions>).await?;
        println!("{name}");
        return Ok(0);
    }
    let attach = AttachContainerOptionsBuilder::new().stream(true).stdin(true).stdout(true).stderr(true).build();
    let attached = docker.attach_container(&id, Some(attach)).await?;
    docker.start_container(&id, None::<bollard::query_parameters::StartContainerOptions>).await?;
    let result = {
        let _raw = RawMode::enable(tty);
        pump(attached.output, attached.input, true).await
    };
    let code = exit_code(&docker, &id).await;
    if a.rm {
        docker.remove_container(&id, Some(RemoveContainerOptionsBuilder::new().force(true).v(true).build())).await?;
    }
    result?;
    Ok(code? as i32)
}

/// A random-enough suffix for one-off container names: the time and our PID, hashed.
fn run_suffix() -> String {
    use sha2::Digest;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let digest = sha2::Sha256::digest(format!("{}-{}", now.as_nanos(), std::process::id()).as_bytes());
    format!("{digest:x}")[..12].to_string()
}
