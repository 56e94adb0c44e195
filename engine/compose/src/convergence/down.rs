//! `down`: containers stopped in reverse dependency order and removed, then the project's networks,
//! and on request its volumes and images.

use std::collections::BTreeSet;

use bollard::query_parameters::RemoveImageOptionsBuilder;
use bollard::Docker;
use futures_util::future::try_join_all;

use super::container::image_name;
use super::up::{levels, stop_and_remove};
use super::{members, resources, Oneoff};
use crate::error::{is_status, Result};
use crate::progress::Progress;
use crate::project::{dependency_order, Project};

#[derive(Debug, Clone, Default)]
pub struct DownOptions {
    pub volumes: bool,
    pub rmi: Option<String>,
    pub remove_orphans: bool,
    pub timeout: Option<i64>,
}

pub async fn down(docker: &Docker, project: &Project, opts: &DownOptions, progress: Progress) -> Result<()> {
    let all = members(docker, &project.name, &[], Oneoff::Include, true).await?;
    let known = |svc: &str| project.services.contains_key(svc) || project.disabled.contains(svc);
    if !opts.remove_orphans && !project.config_files.is_empty() {
        let orphans: Vec<&str> =
            all.iter().filter(|m| !m.oneoff && !known(&m.service)).map(|m| m.name.as_str()).collect();
        if !orphans.is_empty() {
            tracing::warn!(
                "Found orphan containers ([{}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.",
                orphans.join(" ")
            );
        }
    }
    // Dependents go first: orphans and one-offs, then dependency levels in reverse, each level at once.
    let mut order = levels(project, &dependency_order(&project.services)?);
    order.reverse();
    // With no files (`-p NAME down`), every container of the project goes, as in Compose.
    let everything = opts.remove_orphans || project.config_files.is_empty();
    let mut batches: Vec<Vec<_>> =
        vec![all.iter().filter(|m| !known(&m.service) && (everything || m.oneoff)).collect()];
    for level in &order {
        batches.push(all.iter().filter(|m| level.contains(&m.service)).collect());
    }
    for batch in batches {
        try_join_all(batch.into_iter().map(|m| stop_and_remove(docker, m, opts.timeout, progress))).await?;
    }
    resources::remove_networks(docker, &project.name, progress).await?;
    if opts.volumes {
        resources::remove_volumes(docker, &project.name, progress).await?;
    }
    if let Some(mode) = &opts.rmi {
        let images: BTreeSet<String> = project
            .services
            .values()
            .filter(|s| mode == "all" || s.image.is_none())
            .map(|s| image_name(project, s))
            .collect();
        for image in images {
            progress.event("Image", &image, "Removing");
            match docker.remove_image(&image, Some(RemoveImageOptionsBuilder::new().build()), None).await {
                Ok(_) => progress.event("Image", &image, "Removed"),
                Err(e) if is_status(&e, 404) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}
