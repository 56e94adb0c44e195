//! The managed engine service: finds the engine, reports its state, starts and stops it, and
//! watches its health with backoff.

pub mod context;
pub mod locate;
mod supervise;

use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;
use serde::Serialize;
use tokio::sync::Mutex;

use crate::error::CommandError;

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Running,
    Starting,
    Stopped,
    Unreachable,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EngineStatus {
    pub state: State,
    pub host: String,
    pub version: Option<String>,
    pub api_version: Option<String>,
    pub os: Option<String>,
    /// The app started this engine (and may stop it).
    pub managed: bool,
    pub message: Option<String>,
    /// What the user can run to start the engine when the app cannot.
    pub start_hint: Option<String>,
}

impl EngineStatus {
    fn unreachable(host: String, managed: bool, message: String) -> Self {
        EngineStatus {
            state: State::Unreachable,
            host,
            version: None,
            api_version: None,
            os: None,
            managed,
            message: Some(message),
            start_hint: Some(supervise::start_hint()),
        }
    }
}

struct Inner {
    docker: Option<Docker>,
    status: EngineStatus,
    child: Option<tokio::process::Child>,
}

/// Shared by commands, the tray and the background watchers.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Mutex<Inner>>,
}

impl Engine {
    pub fn new() -> Self {
        let status = EngineStatus::unreachable(String::new(), false, "not checked yet".into());
        Engine { inner: Arc::new(Mutex::new(Inner { docker: None, status, child: None })) }
    }

    pub async fn status(&self) -> EngineStatus {
        self.inner.lock().await.status.clone()
    }

    /// A client for the engine, or the reason there is none.
    pub async fn docker(&self) -> Result<Docker, CommandError> {
        let inner = self.inner.lock().await;
        inner.docker.clone().ok_or_else(|| {
            CommandError(format!(
                "The engine is not running{}",
                inner.status.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
            ))
        })
    }

    /// Tries every candidate address; the first that answers becomes the engine.
    pub async fn refresh(&self) -> EngineStatus {
        let env = locate::Environment::from_process();
        let managed = self.inner.lock().await.child.is_some();
        let mut last_error = String::from("no engine address to try");
        let mut first_host = String::new();
        for candidate in locate::candidates(&env) {
            if first_host.is_empty() {
                first_host = candidate.host.clone();
            }
            match probe(&candidate.host).await {
                Ok((docker, status)) => {
                    let status = EngineStatus { managed, ..status };
                    let mut inner = self.inner.lock().await;
                    inner.docker = Some(docker);
                    inner.status = status.clone();
                    return status;
                }
                Err(e) => last_error = format!("{}: {e}", candidate.host),
            }
        }
        let status = EngineStatus::unreachable(first_host, managed, last_error);
        let mut inner = self.inner.lock().await;
        inner.docker = None;
        inner.status = status.clone();
        status
    }

    /// Starts the engine when none answers: the systemd unit, else berthd as our child process.
    pub async fn start(&self) -> Result<EngineStatus, CommandError> {
        let now = self.refresh().await;
        if now.state == State::Running {
            return Ok(now);
        }
        match supervise::start().await.map_err(CommandError)? {
            supervise::Started::Systemd => {}
            supervise::Started::Child(child) => self.inner.lock().await.child = Some(child),
        }
        self.inner.lock().await.status.state = State::Starting;
        self.wait_running(Duration::from_secs(20)).await
    }

    /// Stops the engine the app started (child or systemd unit).
    pub async fn stop(&self) -> Result<EngineStatus, CommandError> {
        let child = self.inner.lock().await.child.take();
        match child {
            Some(child) => supervise::stop_child(child).await.map_err(CommandError)?,
            None => supervise::stop_service().await.map_err(CommandError)?,
        }
        let mut status = self.refresh().await;
        if status.state == State::Unreachable {
            status.state = State::Stopped;
            self.inner.lock().await.status = status.clone();
        }
        Ok(status)
    }

    pub async fn restart(&self) -> Result<EngineStatus, CommandError> {
        self.stop().await?;
        self.start().await
    }

    /// Whether the app started the engine itself (so Quit should stop it).
    pub async fn managed(&self) -> bool {
        self.inner.lock().await.child.is_some()
    }

    async fn wait_running(&self, limit: Duration) -> Result<EngineStatus, CommandError> {
        let deadline = tokio::time::Instant::now() + limit;
        let mut delay = Duration::from_millis(100);
        loop {
            let status = self.refresh().await;
            if status.state == State::Running {
                return Ok(status);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(CommandError(format!(
                    "The engine did not answer within {} s: {}",
                    limit.as_secs(),
                    status.message.unwrap_or_default()
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }
}

async fn probe(host: &str) -> Result<(Docker, EngineStatus), String> {
    let docker = locate::connect(host)?;
    let version = tokio::time::timeout(Duration::from_secs(3), docker.version())
        .await
        .map_err(|_| "no answer within 3 s".to_string())?
        .map_err(|e| e.to_string())?;
    let status = EngineStatus {
        state: State::Running,
        host: host.to_string(),
        version: version.version.clone(),
        api_version: version.api_version.clone(),
        os: version.os.clone(),
        managed: false,
        message: None,
        start_hint: None,
    };
    Ok((docker, status))
}

/// How long to wait before the next health check: steady while running, backing off while not.
pub fn next_check(state: State, previous: Duration) -> Duration {
    match state {
        State::Running => Duration::from_secs(5),
        _ => (previous * 2).clamp(Duration::from_secs(1), Duration::from_secs(30)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_checks_back_off_while_down() {
        let mut d = Duration::from_secs(5);
        d = next_check(State::Unreachable, d);
        assert_eq!(d, Duration::from_secs(10));
        for _ in 0..5 {
            d = next_check(State::Unreachable, d);
        }
        assert_eq!(d, Duration::from_secs(30));
        assert_eq!(next_check(State::Running, d), Duration::from_secs(5));
        assert_eq!(next_check(State::Stopped, Duration::ZERO), Duration::from_secs(1));
    }
}
