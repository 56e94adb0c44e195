//! Waiting for what a service `depends_on`: started, healthy, or completed successfully.

use std::time::Duration;

use bollard::models::HealthStatusEnum;
use bollard::Docker;
use futures_util::StreamExt;

use super::{members, Member, Oneoff};
use crate::error::{ComposeError, Result};
use crate::progress::Progress;
use crate::project::{Project, Service};

const POLL: Duration = Duration::from_millis(200);

/// Returns once every dependency of `service` meets its condition.
pub async fn wait_for(docker: &Docker, project: &Project, service: &Service, progress: Progress) -> Result<()> {
    for (dep, d) in &service.depends_on {
        if !project.services.contains_key(dep) {
            continue;
        }
        let containers = members(docker, &project.name, std::slice::from_ref(dep), Oneoff::Exclude, true).await?;
        for c in containers {
            let outcome = match d.condition.as_str() {
                "service_healthy" => {
                    progress.event("Container", &c.name, "Waiting");
                    healthy(docker, &c).await.map(|_| "Healthy")
                }
                "service_completed_successfully" => {
                    progress.event("Container", &c.name, "Waiting");
                    completed(docker, dep, &c).await.map(|_| "Exited")
                }
                _ => continue,
            };
            match outcome {
                Ok(status) => progress.event("Container", &c.name, status),
                Err(e) if !d.required => {
                    tracing::warn!("optional dependency {dep:?} failed: {e}");
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// Polls the container's health until it is healthy, or fails when it is unhealthy or gone.
pub async fn healthy(docker: &Docker, c: &Member) -> Result<()> {
    loop {
        let info = docker.inspect_container(&c.id, None::<bollard::query_parameters::InspectContainerOptions>).await?;
        let state = info.state.unwrap_or_default();
        let Some(health) = state.health else {
            return Err(ComposeError::Failed(format!("container {} has no healthcheck configured", c.name)));
        };
        match health.status {
            Some(HealthStatusEnum::HEALTHY) => return Ok(()),
            Some(HealthStatusEnum::UNHEALTHY) => {
                return Err(ComposeError::Failed(format!(
                    "dependency failed to start: container {} is unhealthy",
                    c.name
                )))
            }
            _ => {}
        }
        if state.running != Some(true) {
            return Err(ComposeError::Failed(format!(
                "dependency failed to start: container {} exited ({})",
                c.name,
                state.exit_code.unwrap_or(0)
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits for the container to exit and fails unless it exited with 0.
async fn completed(docker: &Docker, service: &str, c: &Member) -> Result<()> {
    let code = exit_code(docker, &c.id).await?;
    if code != 0 {
        return Err(ComposeError::Failed(format!("service {service:?} didn't complete successfully: exit {code}")));
    }
    Ok(())
}

/// Waits until the container is not running and returns its exit code.
pub async fn exit_code(docker: &Docker, id: &str) -> Result<i64> {
    let mut stream = docker.wait_container(id, None::<bollard::query_parameters::WaitContainerOptions>);
    match stream.next().await {
        Some(Ok(r)) => Ok(r.status_code),
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
        Some(Err(e)) => Err(e.into()),
        None => Ok(0),
    }
}
