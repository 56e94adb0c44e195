//! `up`/`create`: converge each service's containers to the project (create, recreate only what
//! changed, scale), then start them in dependency order, waiting on `depends_on` conditions.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use bollard::query_parameters::{
    CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder, RenameContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::future::try_join_all;

use super::container::{self, config_hash, container_name, Instance, Peers};
use super::images::{self, ImagePolicy};
use super::{dependencies, labels, members, resources, Member, Oneoff};
use crate::error::{ComposeError, Result};
use crate::progress::Progress;
use crate::project::{dependency_order, Project, Service};

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Recreate {
    /// Only containers whose configuration or image changed.
    #[default]
    Diverged,
    Force,
    Never,
}

#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    pub services: Vec<String>,
    pub no_deps: bool,
    pub recreate: Recreate,
    pub images: ImagePolicy,
    pub start: bool,
    pub remove_orphans: bool,
    pub scale: BTreeMap<String, u64>,
    pub timeout: Option<i64>,
}

/// The services an operation covers, in dependency order: those named (all when none) plus, unless
/// `no_deps`, everything they depend on.
pub fn scope(project: &Project, named: &[String], no_deps: bool) -> Result<Vec<String>> {
    for n in named {
        if !project.services.contains_key(n) {
            return Err(ComposeError::Failed(format!("no such service: {n}")));
        }
    }
    let mut wanted: BTreeSet<String> =
        if named.is_empty() { project.services.keys().cloned().collect() } else { named.iter().cloned().collect() };
    if !no_deps {
        let mut stack: Vec<String> = wanted.iter().cloned().collect();
        while let Some(s) = stack.pop() {
            for dep in project.services[&s].depends_on.keys().filter(|d| project.services.contains_key(*d)) {
                if wanted.insert(dep.clone()) {
                    stack.push(dep.clone());
                }
            }
        }
    }
    Ok(dependency_order(&project.services)?.into_iter().filter(|s| wanted.contains(s)).collect())
}

/// Groups ordered services so each group only depends on earlier groups; groups run in parallel.
pub fn levels(project: &Project, ordered: &[String]) -> Vec<Vec<String>> {
    let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out: Vec<Vec<String>> = Vec::new();
    for name in ordered {
        let d = project.services[name]
            .depends_on
            .keys()
            .filter_map(|dep| depth.get(dep.as_str()))
            .map(|d| d + 1)
            .max()
            .unwrap_or(0);
        depth.insert(name, d);
        if out.len() <= d {
            out.resize(d + 1, Vec::new());
        }
        out[d].push(name.clone());
    }
    out
}

pub fn replicas(s: &Service, overrides: &BTreeMap<String, u64>) -> u64 {
    overrides.get(&s.name).copied().or(s.deploy.as_ref().and_then(|d| d.replicas)).or(s.scale).unwrap_or(1)
}

pub async fn up(docker: &Docker, project: &Project, opts: &UpOptions, progress: Progress) -> Result<Vec<String>> {
    let scope = scope(project, &opts.services, opts.no_deps)?;
    orphans(docker, project, opts.remove_orphans, opts.timeout, progress).await?;
    let services: Vec<&Service> = scope.iter().map(|n| &project.services[n]).collect();
    let image_ids = images::ensure(docker, project, &services, &opts.images, progress).await?;
    resources::ensure_networks(docker, project, &resources::used_networks(services.iter().copied()), progress).await?;
    resources::ensure_volumes(docker, project, &resources::used_volumes(project, services.iter().copied()), progress)
        .await?;
    let peers: Peers = project.services.values().map(|s| (s.name.clone(), container_name(project, s, 1))).collect();
    let groups = levels(project, &scope);
    let mut recreated = BTreeSet::new();
    for group in &groups {
        let changed = try_join_all(group.iter().map(|name| {
            converge_service(docker, project, &project.services[name], &image_ids[name], opts, &peers, progress)
        }))
        .await?;
        recreated.extend(group.iter().zip(changed).filter(|(_, c)| *c).map(|(n, _)| n.clone()));
    }
    if opts.start {
        for group in &groups {
            try_join_all(group.iter().map(|name| async {
                let service = &project.services[name];
                start_service(docker, project, service, progress).await?;
                // `depends_on: {x: {restart: true}}`: a recreated dependency restarts its dependents.
                let dependency_changed = service.depends_on.iter().any(|(dep, d)| d.restart && recreated.contains(dep));
                if dependency_changed && !recreated.contains(name) {
                    restart_service(docker, project, service, opts.timeout, progress).await?;
                }
                Ok::<_, ComposeError>(())
            }))
            .await?;
        }
    }
    Ok(scope)
}

/// Containers of services no longer in the project: removed on request, else reported.
async fn orphans(
    docker: &Docker,
    project: &Project,
    remove: bool,
    timeout: Option<i64>,
    progress: Progress,
) -> Result<()> {
    let found: Vec<Member> = members(docker, &project.name, &[], Oneoff::Exclude, true)
        .await?
        .into_iter()
        .filter(|m| !project.services.contains_key(&m.service) && !project.disabled.contains(&m.service))
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    if remove {
        for m in &found {
            stop_and_remove(docker, m, timeout, progress).await?;
        }
    } else {
        let names: Vec<&str> = found.iter().map(|m| m.name.as_str()).collect();
        tracing::warn!(
            "Found orphan containers ([{}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.",
            names.join(" ")
        );
    }
    Ok(())
}

async fn converge_service(
    docker: &Docker,
    project: &Project,
    service: &Service,
    image_id: &str,
    opts: &UpOptions,
    peers: &Peers,
    progress: Progress,
) -> Result<bool> {
    let existing = members(docker, &project.name, std::slice::from_ref(&service.name), Oneoff::Exclude, true).await?;
    let wanted = replicas(service, &opts.scale);
    if service.container_name.is_some() && wanted > 1 {
        return Err(ComposeError::Failed(format!(
            "services.{}: can't set container_name and {} as container name must be unique",
            service.name, service.name
        )));
    }
    let expected = config_hash(project, &service.name);
    // Containers of one service are independent: scale down and recreate them all at once.
    let (current, excess) = existing.split_at(existing.len().min(wanted as usize));
    try_join_all(excess.iter().map(|m| stop_and_remove(docker, m, opts.timeout, progress))).await?;
    let mut kept: BTreeSet<u64> = current.iter().map(|m| m.number).collect();
    let needs_recreate = |m: &&Member| match opts.recreate {
        Recreate::Force => true,
        Recreate::Never => false,
        Recreate::Diverged => {
            m.label(labels::CONFIG_HASH) != Some(expected.as_str()) || m.label(labels::IMAGE) != Some(image_id)
        }
    };
    let (stale, fresh): (Vec<&Member>, Vec<&Member>) = current.iter().partition(needs_recreate);
    let changed = !stale.is_empty();
    fresh.iter().filter(|m| m.running()).for_each(|m| progress.event("Container", &m.name, "Running"));
    try_join_all(
        stale
            .into_iter()
            .map(|m| recreate_container(docker, project, service, m, image_id, opts.timeout, peers, progress)),
    )
    .await?;
    let mut number = 1;
    while (kept.len() as u64) < wanted {
        if !kept.contains(&number) {
            let name = container_name(project, service, number);
            let inst = Instance { service, number, oneoff: false, image_id: image_id.to_string() };
            progress.event("Container", &name, "Creating");
            create(docker, project, &inst, peers, &name, Vec::new()).await?;
            progress.event("Container", &name, "Created");
            kept.insert(number);
        }
        number += 1;
    }
    Ok(changed)
}

/// Restarts a service's running containers.
async fn restart_service(
    docker: &Docker,
    project: &Project,
    service: &Service,
    timeout: Option<i64>,
    progress: Progress,
) -> Result<()> {
    for m in members(docker, &project.name, std::slice::from_ref(&service.name), Oneoff::Exclude, false).await? {
        progress.event("Container", &m.name, "Restarting");
        docker.restart_container(&m.id, Some(super::restart_options(timeout))).await?;
        progress.event("Container", &m.name, "Restarted");
    }
    Ok(())
}

/// Creates one container and copies in its inline secrets and configs.
pub async fn create(
    docker: &Docker,
    project: &Project,
    inst: &Instance<'_>,
    peers: &Peers,
    name: &str,
    inherited: Vec<bollard::models::Mount>,
) -> Result<String> {
    let mut body = container::create_body(project, inst, peers)?;
    if !inherited.is_empty() {
        let host = body.host_config.get_or_insert_with(Default::default);
        let mut mounts = host.mounts.take().unwrap_or_default();
        mounts.retain(|m| !inherited.iter().any(|i| i.target == m.target));
        mounts.extend(inherited);
        host.mounts = Some(mounts);
    }
    let mut opts = CreateContainerOptionsBuilder::new().name(name);
    if let Some(platform) = &inst.service.platform {
        opts = opts.platform(platform);
    }
    let id = docker.create_container(Some(opts.build()), body).await?.id;
    if let Some(tar) = container::inline_files(project, inst.service)? {
        let at = bollard::query_parameters::UploadToContainerOptionsBuilder::new().path("/").build();
        docker.upload_to_container(&id, Some(at), bollard::body_full(tar.into())).await?;
    }
    Ok(id)
}

/// New container beside the old one, old one stopped and removed, new one renamed into its place;
/// anonymous volumes move over so their data survives.
#[allow(clippy::too_many_arguments)]
async fn recreate_container(
    docker: &Docker,
    project: &Project,
    service: &Service,
    old: &Member,
    image_id: &str,
    timeout: Option<i64>,
    peers: &Peers,
    progress: Progress,
) -> Result<()> {
    progress.event("Container", &old.name, "Recreate");
    let info = docker.inspect_container(&old.id, None::<bollard::query_parameters::InspectContainerOptions>).await?;
    let anonymous: BTreeSet<&str> = service
        .volumes
        .iter()
        .filter(|m| m.kind == "volume" && m.source.is_none())
        .map(|m| m.target.as_str())
        .collect();
    let inherited: Vec<bollard::models::Mount> = info
        .mounts
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.destination.as_deref().is_some_and(|d| anonymous.contains(d)))
        .map(|m| bollard::models::Mount {
            target: m.destination,
            source: m.name,
            typ: Some(bollard::models::MountTypeEnum::VOLUME),
            ..Default::default()
        })
        .collect();
    let inst = Instance { service, number: old.number, oneoff: false, image_id: image_id.to_string() };
    let temp = format!("{}_{}", &old.id[..12.min(old.id.len())], old.name);
    let new_id = create(docker, project, &inst, peers, &temp, inherited).await?;
    docker.stop_container(&old.id, Some(super::stop_options(timeout))).await?;
    docker.remove_container(&old.id, Some(RemoveContainerOptionsBuilder::new().force(true).build())).await?;
    docker.rename_container(&new_id, RenameContainerOptionsBuilder::new().name(&old.name).build()).await?;
    progress.event("Container", &old.name, "Recreated");
    Ok(())
}

pub async fn stop_and_remove(docker: &Docker, m: &Member, timeout: Option<i64>, progress: Progress) -> Result<()> {
    if m.running() {
        progress.event("Container", &m.name, "Stopping");
        docker.stop_container(&m.id, Some(super::stop_options(timeout))).await?;
        progress.event("Container", &m.name, "Stopped");
    }
    progress.event("Container", &m.name, "Removing");
    docker.remove_container(&m.id, Some(RemoveContainerOptionsBuilder::new().force(true).build())).await?;
    progress.event("Container", &m.name, "Removed");
    Ok(())
}

/// Starts a service's stopped containers once its dependencies are ready.
pub async fn start_service(docker: &Docker, project: &Project, service: &Service, progress: Progress) -> Result<()> {
    dependencies::wait_for(docker, project, service, progress).await?;
    for m in members(docker, &project.name, std::slice::from_ref(&service.name), Oneoff::Exclude, true).await? {
        if m.running() {
            continue;
        }
        progress.event("Container", &m.name, "Starting");
        docker.start_container(&m.id, None::<bollard::query_parameters::StartContainerOptions>).await?;
        progress.event("Container", &m.name, "Started");
    }
    Ok(())
}

/// `up --wait`: every container running, and healthy where it has a healthcheck. Containers that
/// others wait on to complete may have exited with 0.
pub async fn wait_ready(
    docker: &Docker,
    project: &Project,
    scope: &[String],
    timeout: Option<Duration>,
    progress: Progress,
) -> Result<()> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let completes: BTreeSet<&str> = project
        .services
        .values()
        .flat_map(|s| s.depends_on.iter())
        .filter(|(_, d)| d.condition == "service_completed_successfully")
        .map(|(n, _)| n.as_str())
        .collect();
    for m in members(docker, &project.name, scope, Oneoff::Exclude, true).await? {
        progress.event("Container", &m.name, "Waiting");
        let check = async {
            let info =
                docker.inspect_container(&m.id, None::<bollard::query_parameters::InspectContainerOptions>).await?;
            let state = info.state.unwrap_or_default();
            let exited = state.running != Some(true);
            let code = state.exit_code.unwrap_or(0);
            match (exited, completes.contains(m.service.as_str()), state.health.is_some()) {
                (true, true, _) => {
                    let code = dependencies::exit_code(docker, &m.id).await?;
                    if code != 0 {
                        return Err(ComposeError::Failed(format!("container {} exited ({code})", m.name)));
                    }
                    Ok("Exited")
                }
                (true, false, _) => Err(ComposeError::Failed(format!("container {} exited ({code})", m.name))),
                (false, _, true) => dependencies::healthy(docker, &m).await.map(|_| "Healthy"),
                // Compose reports a running container without a healthcheck as healthy too.
                (false, _, false) => Ok("Healthy"),
            }
        };
        let status = match deadline {
            Some(d) => tokio::time::timeout(d.saturating_duration_since(Instant::now()), check)
                .await
                .map_err(|_| ComposeError::Failed("timeout waiting for the project to be running|healthy".into()))??,
            None => check.await?,
        };
        progress.event("Container", &m.name, status);
    }
    Ok(())
}
