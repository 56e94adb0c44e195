//! Containers: list, actions, inspect, stats, logs, run.

use std::collections::HashMap;

use bollard::container::LogOutput;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    StatsOptionsBuilder,
};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tauri::ipc::Channel;
use tauri::State;

use crate::engine::Engine;
use crate::error::{CommandError, CommandResult};
use crate::{LogFollowers, UsageSamples};

#[tauri::command]
pub async fn list_containers(engine: State<'_, Engine>) -> CommandResult<Value> {
    let docker = engine.docker().await?;
    let list = docker.list_containers(Some(ListContainersOptionsBuilder::new().all(true).build())).await?;
    serde_json::to_value(list).map_err(|e| CommandError(e.to_string()))
}

#[tauri::command]
pub async fn container_action(engine: State<'_, Engine>, id: String, action: String) -> CommandResult<()> {
    let docker = engine.docker().await?;
    match action.as_str() {
        "start" => docker.start_container(&id, None::<bollard::query_parameters::StartContainerOptions>).await?,
        "stop" => docker.stop_container(&id, None::<bollard::query_parameters::StopContainerOptions>).await?,
        "restart" => docker.restart_container(&id, None::<bollard::query_parameters::RestartContainerOptions>).await?,
        "pause" => docker.pause_container(&id).await?,
        "unpause" => docker.unpause_container(&id).await?,
        "remove" => {
            docker.remove_container(&id, Some(RemoveContainerOptionsBuilder::new().force(true).build())).await?
        }
        other => return Err(CommandError(format!("unknown container action {other:?}"))),
    }
    Ok(())
}

#[tauri::command]
pub async fn container_inspect(engine: State<'_, Engine>, id: String) -> CommandResult<Value> {
    let docker = engine.docker().await?;
    let info = docker.inspect_container(&id, None::<bollard::query_parameters::InspectContainerOptions>).await?;
    serde_json::to_value(info).map_err(|e| CommandError(e.to_string()))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    cpu_percent: f64,
    memory_usage: u64,
    memory_limit: u64,
}

/// One sample: CPU as a percentage of one core over the engine's sampling interval.
#[tauri::command]
pub async fn container_stats(engine: State<'_, Engine>, id: String) -> CommandResult<Stats> {
    let docker = engine.docker().await?;
    let mut stream = docker.stats(&id, Some(StatsOptionsBuilder::new().stream(false).one_shot(false).build()));
    let s = stream.next().await.ok_or_else(|| CommandError("no statistics".into()))??;
    let cpu = CpuSample::of(&s.cpu_stats.unwrap_or_default());
    let cpu_percent = cpu.percent_since(&CpuSample::of(&s.precpu_stats.unwrap_or_default())).unwrap_or(0.0);
    let mem = s.memory_stats.unwrap_or_default();
    Ok(Stats { cpu_percent, memory_usage: mem.usage.unwrap_or(0), memory_limit: mem.limit.unwrap_or(0) })
}

/// A container's CPU counters at one moment, as the engine reports them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuSample {
    container: u64,
    system: u64,
    cpus: u64,
}

impl CpuSample {
    fn of(c: &bollard::models::ContainerCpuStats) -> Self {
        Self {
            container: c.cpu_usage.as_ref().and_then(|u| u.total_usage).unwrap_or(0),
            system: c.system_cpu_usage.unwrap_or(0),
            cpus: u64::from(c.online_cpus.unwrap_or(1).max(1)),
        }
    }

    /// CPU use between `before` and now, in percent of one core (as `docker stats`), if the
    /// system counter moved.
    fn percent_since(&self, before: &CpuSample) -> Option<f64> {
        let system = self.system.checked_sub(before.system).filter(|d| *d > 0)? as f64;
        let used = self.container.saturating_sub(before.container) as f64;
        Some(used / system * self.cpus as f64 * 100.0)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// None until a second sample gives a rate.
    cpu_percent: Option<f64>,
    memory_usage: u64,
}

/// CPU and memory of several running containers for the containers view: one quick sample each
/// (no waiting for a second one in the engine); CPU is the rate since this command's last call.
#[tauri::command]
pub async fn containers_usage(
    engine: State<'_, Engine>,
    samples: State<'_, UsageSamples>,
    ids: Vec<String>,
) -> CommandResult<HashMap<String, Usage>> {
    let docker = engine.docker().await?;
    let taken: Vec<(String, Option<bollard::models::ContainerStatsResponse>)> = futures_util::stream::iter(ids)
        .map(|id| {
            let docker = docker.clone();
            async move {
                let opts = StatsOptionsBuilder::new().stream(false).one_shot(true).build();
                let s = docker.stats(&id, Some(opts)).next().await.and_then(Result::ok);
                (id, s)
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let mut previous = samples.0.lock().await;
    let mut usage = HashMap::new();
    let mut kept = HashMap::new();
    for (id, s) in taken {
        let Some(s) = s else { continue };
        let cpu = CpuSample::of(&s.cpu_stats.unwrap_or_default());
        let cpu_percent = previous.get(&id).and_then(|before| cpu.percent_since(before));
        let memory_usage = s.memory_stats.and_then(|m| m.usage).unwrap_or(0);
        usage.insert(id.clone(), Usage { cpu_percent, memory_usage });
        kept.insert(id, cpu);
    }
    // Containers no longer asked about are forgotten.
    *previous = kept;
    Ok(usage)
}

#[derive(Clone, Serialize)]
pub struct LogLine {
    stream: &'static str,
    line: String,
}

/// Streams a container's log lines into `on_line` until the log ends or `stop_logs` is called.
#[tauri::command]
pub async fn container_logs(
    engine: State<'_, Engine>,
    followers: State<'_, LogFollowers>,
    id: String,
    follow: bool,
    timestamps: bool,
    tail: String,
    on_line: Channel<LogLine>,
) -> CommandResult<()> {
    let docker = engine.docker().await?;
    let opts =
        LogsOptionsBuilder::new().stdout(true).stderr(true).follow(follow).timestamps(timestamps).tail(&tail).build();
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel();
    // Streams are told apart by their channel, so a stream ending never unregisters a newer one.
    let token = on_line.id();
    followers.0.lock().await.entry(id.clone()).or_default().push((token, stop_tx));
    let mut logs = docker.logs(&id, Some(opts));
    let mut pending: HashMap<&'static str, String> = HashMap::new();
    let result = loop {
        let chunk = tokio::select! {
            c = logs.next() => c,
            _ = &mut stop_rx => break Ok(()),
        };
        let Some(chunk) = chunk else { break Ok(()) };
        let (stream, bytes) = match chunk {
            Ok(LogOutput::StdErr { message }) => ("stderr", message),
            Ok(LogOutput::StdOut { message } | LogOutput::Console { message } | LogOutput::StdIn { message }) => {
                ("stdout", message)
            }
            Err(e) => break Err(CommandError::from(e)),
        };
        let buf = pending.entry(stream).or_default();
        buf.push_str(&String::from_utf8_lossy(&bytes));
        while let Some(nl) = buf.find('\n') {
            let line: String = buf.drain(..=nl).collect();
            let _ = on_line.send(LogLine { stream, line: line.trim_end_matches(['\n', '\r']).to_string() });
        }
    };
    for (stream, rest) in pending.into_iter().filter(|(_, r)| !r.is_empty()) {
        let _ = on_line.send(LogLine { stream, line: rest });
    }
    let mut map = followers.0.lock().await;
    if let Some(list) = map.get_mut(&id) {
        list.retain(|(t, _)| *t != token);
        if list.is_empty() {
            map.remove(&id);
        }
    }
    result
}

#[tauri::command]
pub async fn stop_logs(followers: State<'_, LogFollowers>, id: String) -> CommandResult<()> {
    for (_, stop) in followers.0.lock().await.remove(&id).unwrap_or_default() {
        let _ = stop.send(());
    }
    Ok(())
}

#[derive(Deserialize)]
pub struct PortSpec {
    host: String,
    container: String,
}

#[derive(Deserialize)]
pub struct RunSpec {
    image: String,
    name: Option<String>,
    #[serde(default)]
    ports: Vec<PortSpec>,
    #[serde(default)]
    env: Vec<String>,
    #[serde(default)]
    volumes: Vec<String>,
    command: Option<String>,
    restart: Option<String>,
}

/// The Run dialog: create and start a container; returns its ID.
#[tauri::command]
pub async fn run_container(engine: State<'_, Engine>, spec: RunSpec) -> CommandResult<String> {
    let docker = engine.docker().await?;
    let mut exposed = serde_json::Map::new();
    let mut bindings = serde_json::Map::new();
    for p in &spec.ports {
        let key = if p.container.contains('/') { p.container.clone() } else { format!("{}/tcp", p.container) };
        exposed.insert(key.clone(), json!({}));
        bindings.insert(key, json!([{"HostIp": "", "HostPort": p.host}]));
    }
    let cmd = match spec.command.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => Some(shlex::split(c).ok_or_else(|| CommandError(format!("unbalanced quotes in the command: {c}")))?),
        None => None,
    };
    let (restart, retries) = match spec.restart.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => match r.split_once(':') {
            Some((name, n)) => {
                (name.to_string(), n.parse::<i64>().map_err(|_| CommandError(format!("invalid restart policy {r}")))?)
            }
            None => (r.to_string(), 0),
        },
        None => ("no".to_string(), 0),
    };
    let body = json!({
        "Image": spec.image,
        "Cmd": cmd,
        "Env": spec.env.iter().filter(|e| !e.trim().is_empty()).collect::<Vec<_>>(),
        "ExposedPorts": exposed,
        "HostConfig": {
            "PortBindings": bindings,
            "Binds": spec.volumes.iter().filter(|v| !v.trim().is_empty()).collect::<Vec<_>>(),
            "RestartPolicy": {"Name": restart, "MaximumRetryCount": retries},
        },
    });
    let body: bollard::models::ContainerCreateBody =
        serde_json::from_value(body).map_err(|e| CommandError(e.to_string()))?;
    let mut opts = CreateContainerOptionsBuilder::new();
    if let Some(name) = spec.name.as_deref().filter(|n| !n.is_empty()) {
        opts = opts.name(name);
    }
    let id = docker.create_container(Some(opts.build()), body).await?.id;
    docker.start_container(&id, None::<bollard::query_parameters::StartContainerOptions>).await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::CpuSample;

    #[test]
    fn cpu_percent_is_of_one_core_between_two_samples() {
        let before = CpuSample { container: 1_000, system: 10_000, cpus: 2 };
        // Half of the system's time over two CPUs is one whole core.
        let now = CpuSample { container: 3_500, system: 15_000, cpus: 2 };
        assert_eq!(now.percent_since(&before), Some(100.0));
        // No time passed for the system: no rate.
        assert_eq!(before.percent_since(&before), None);
        assert_eq!(before.percent_since(&now), None);
    }
}
