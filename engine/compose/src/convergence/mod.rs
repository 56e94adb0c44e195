//! Bringing the engine to what the project describes, and taking it down again.

pub mod container;
pub mod dependencies;
pub mod down;
mod hash;
pub mod images;
pub mod labels;
pub mod resources;
pub mod up;

use bollard::models::ContainerSummary;
use bollard::query_parameters::ListContainersOptionsBuilder;
use bollard::Docker;

use crate::error::Result;

/// A container of the project as the engine lists it.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub service: String,
    pub number: u64,
    pub oneoff: bool,
    pub state: String,
    pub summary: ContainerSummary,
}

impl Member {
    fn from_summary(c: ContainerSummary) -> Self {
        let label = |k: &str| c.labels.as_ref().and_then(|l| l.get(k)).cloned().unwrap_or_default();
        Member {
            id: c.id.clone().unwrap_or_default(),
            name: c
                .names
                .as_ref()
                .and_then(|n| n.first())
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or_default(),
            service: label(labels::SERVICE),
            number: label(labels::NUMBER).parse().unwrap_or(0),
            oneoff: label(labels::ONEOFF) == "True",
            state: c.state.as_ref().map(|s| s.to_string()).unwrap_or_default(),
            summary: c,
        }
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.summary.labels.as_ref().and_then(|l| l.get(key)).map(String::as_str)
    }

    pub fn running(&self) -> bool {
        matches!(self.state.as_str(), "running" | "restarting")
    }
}

/// Stop options: `timeout` seconds if given, else the container's own (its `stop_grace_period`).
pub fn stop_options(timeout: Option<i64>) -> bollard::query_parameters::StopContainerOptions {
    let mut b = bollard::query_parameters::StopContainerOptionsBuilder::new();
    if let Some(t) = timeout {
        b = b.t(t as i32);
    }
    b.build()
}

/// Restart options, with the same timeout rule as [`stop_options`].
pub fn restart_options(timeout: Option<i64>) -> bollard::query_parameters::RestartContainerOptions {
    let mut b = bollard::query_parameters::RestartContainerOptionsBuilder::new();
    if let Some(t) = timeout {
        b = b.t(t as i32);
    }
    b.build()
}

/// Which of the project's containers to list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Oneoff {
    Exclude,
    Include,
}

/// The project's containers, by service and number; `services` empty means every service.
pub async fn members(
    docker: &Docker,
    project: &str,
    services: &[String],
    oneoff: Oneoff,
    all: bool,
) -> Result<Vec<Member>> {
    let extra: Vec<(&str, &str)> = match oneoff {
        Oneoff::Exclude => vec![(labels::ONEOFF, "False")],
        Oneoff::Include => vec![],
    };
    let opts = ListContainersOptionsBuilder::new().all(all).filters(&labels::filter(project, &extra)).build();
    let mut list: Vec<Member> = docker
        .list_containers(Some(opts))
        .await?
        .into_iter()
        .map(Member::from_summary)
        .filter(|m| services.is_empty() || services.contains(&m.service))
        .collect();
    list.sort_by(|a, b| (&a.service, a.oneoff, a.number, &a.name).cmp(&(&b.service, b.oneoff, b.number, &b.name)));
    Ok(list)
}
