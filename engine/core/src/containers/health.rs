//! Healthchecks: the image's `HEALTHCHECK` or `--health-*`, run as an exec
//! on a schedule while the container runs; status, streak and the last
//! results land in the container's state, changes on `/events`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use super::exec::ExecConfig;
use super::record::Status;
use super::ContainerService;

/// A healthcheck as Docker's config holds it (durations in nanoseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthConfig {
    pub test: Vec<String>,
    pub interval: i64,
    pub timeout: i64,
    pub start_period: i64,
    pub start_interval: i64,
    pub retries: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthResult {
    pub start: String,
    pub end: String,
    pub exit_code: i64,
    pub output: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    pub status: String,
    pub failing_streak: i64,
    pub log: Vec<HealthResult>,
}

const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_RETRIES: i64 = 3;
/// Results kept in inspect, as dockerd keeps.
const KEEP: usize = 5;
/// Output kept per result.
const MAX_OUTPUT: usize = 4096;

fn dur(ns: i64, default: Duration) -> Duration {
    if ns > 0 {
        Duration::from_nanos(ns as u64)
    } else {
        default
    }
}

impl HealthConfig {
    /// The command to run, or `None` when the check is disabled.
    fn command(&self) -> Option<Vec<String>> {
        match self.test.first().map(String::as_str) {
            Some("CMD") => Some(self.test[1..].to_vec()),
            Some("CMD-SHELL") => Some(vec!["/bin/sh".into(), "-c".into(), self.test[1..].join(" ")]),
            _ => None,
        }
    }
}

impl ContainerService {
    /// Starts the schedule for a container that just started.
    pub(super) fn start_healthcheck(&self, id: &str) {
        let Ok(c) = self.get(id) else { return };
        let Some(check) = c.health_config.clone() else { return };
        let Some(cmd) = check.command() else { return };
        let started = c.state.started_at.clone();
        let _ = self.update(id, |r| r.state.health = Some(Health { status: "starting".into(), ..Default::default() }));
        let svc = self.clone();
        let id = id.to_string();
        tokio::spawn(async move {
            let interval = dur(check.interval, DEFAULT_INTERVAL);
            let timeout = dur(check.timeout, DEFAULT_TIMEOUT);
            let retries = if check.retries > 0 { check.retries } else { DEFAULT_RETRIES };
            let start_period = Duration::from_nanos(check.start_period.max(0) as u64);
            let begun = tokio::time::Instant::now();
            loop {
                let in_start_period = begun.elapsed() < start_period;
                let wait = if in_start_period && check.start_interval > 0 {
                    Duration::from_nanos(check.start_interval as u64)
                } else {
                    interval
                };
                tokio::time::sleep(wait).await;
                // Stop once this run of the container is over.
                match svc.get(&id) {
                    Ok(c) if c.state.status == Status::Running && c.state.started_at == started => {}
                    _ => return,
                }
                let result = svc.probe(&id, &cmd, timeout).await;
                svc.record_health(&id, result, retries, in_start_period);
            }
        });
    }

    async fn probe(&self, id: &str, cmd: &[String], timeout: Duration) -> HealthResult {
        let start = now();
        let config = ExecConfig { cmd: cmd.to_vec(), attach_stdout: true, attach_stderr: true, ..Default::default() };
        let run = async {
            let exec = self.exec_create(id, config).map_err(|e| e.to_string())?;
            let io = self.exec_start(&exec).await.map_err(|e| e.to_string())?;
            let mut output = Vec::new();
            for mut r in [io.stdout, io.stderr].into_iter().flatten() {
                let _ = (&mut r).take(MAX_OUTPUT as u64).read_to_end(&mut output).await;
            }
            let code = self.exec_wait(&exec).await.ok_or("the check's exit status was lost")?;
            Ok::<_, String>((code, output))
        };
        let (exit_code, output) = match tokio::time::timeout(timeout, run).await {
            Ok(Ok((code, out))) => (code as i64, String::from_utf8_lossy(&out).into_owned()),
            Ok(Err(e)) => (-1, e),
            Err(_) => (-1, format!("Health check exceeded timeout ({timeout:?})")),
        };
        HealthResult { start, end: now(), exit_code, output }
    }

    fn record_health(&self, id: &str, result: HealthResult, retries: i64, in_start_period: bool) {
        let mut changed_to = None;
        let updated = self.update(id, |r| {
            let h = r.state.health.get_or_insert_with(Default::default);
            let before = h.status.clone();
            if result.exit_code == 0 {
                h.failing_streak = 0;
                h.status = "healthy".into();
            } else if !in_start_period {
                h.failing_streak += 1;
                if h.failing_streak >= retries {
                    h.status = "unhealthy".into();
                }
            }
            h.log.push(result);
            let excess = h.log.len().saturating_sub(KEEP);
            h.log.drain(..excess);
            if h.status != before {
                changed_to = Some(h.status.clone());
            }
        });
        if let (Ok(c), Some(status)) = (updated, changed_to) {
            self.emit(&c, &format!("health_status: {status}"), &[]);
        }
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}
