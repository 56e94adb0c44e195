//! `docker commit` and every build step: a container's writable layer (or
//! only a new configuration) as an image on top of the container's own.

use crate::content::Digest;
use crate::images::config::{ContainerConfig, History};
use crate::reference::ImageRef;

use super::record::{Container, Status};
use super::rootfs::RwLayer;
use super::{io_err, ContainerError, ContainerService};

/// Where the new image's run configuration comes from.
#[derive(Debug, Default, Clone)]
pub enum CommitConfig {
    /// The container's own.
    #[default]
    Container,
    /// The container's, with the fields set here taking over (`docker commit`).
    Merge(ContainerConfig),
    /// Exactly this (a build step).
    Replace(ContainerConfig),
}

#[derive(Debug, Default, Clone)]
pub struct CommitRequest {
    pub config: CommitConfig,
    /// Dockerfile instructions applied on top (`--change`).
    pub changes: Vec<String>,
    pub comment: String,
    pub author: String,
    pub tags: Vec<ImageRef>,
    /// The history line; the container's command when `None`.
    pub created_by: Option<String>,
    /// False for build steps that change only metadata: no new layer.
    pub layer: bool,
    /// Freeze a running container while its files are read.
    pub pause: bool,
}

impl ContainerService {
    pub async fn commit(&self, name: &str, req: CommitRequest) -> Result<Digest, ContainerError> {
        let c = self.get(name)?;
        let parent = self.inner.images.resolve(c.image_id.as_str())?;
        let mut image = self.inner.images.config_of(&c.image_id)?;
        let mut config = match &req.config {
            CommitConfig::Container => run_config(&c, &image.config),
            CommitConfig::Merge(user) => merge(run_config(&c, &image.config), user.clone()),
            CommitConfig::Replace(config) => config.clone(),
        };
        crate::images::changes::apply(&mut config, &req.changes)?;
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        image.config = config;
        image.created = Some(now.clone());
        image.author.clone_from(&req.author);
        image.comment.clone_from(&req.comment);
        let created_by = req.created_by.clone().unwrap_or_else(|| {
            let mut argv = vec![c.path.clone()];
            argv.extend(c.args.iter().cloned());
            argv.join(" ")
        });
        image.history.push(History {
            created: Some(now),
            created_by,
            author: req.author.clone(),
            comment: req.comment.clone(),
            empty_layer: !req.layer,
        });
        // A container that ends just now cannot be paused, and need not be.
        let pause = req.pause
            && req.layer
            && c.state.status == Status::Running
            && match self.pause(&c.id).await {
                Ok(()) => true,
                Err(_) if self.runtime_state(&c.id).await.as_deref() != Some("running") => false,
                Err(e) => return Err(e),
            };
        let images = self.inner.images.clone();
        let upper = RwLayer::at(&self.dirs(&c.id).data).upper;
        let tar = self.dirs(&c.id).data.join("commit.tar");
        let (layer, tags) = (req.layer, req.tags);
        let result = tokio::task::spawn_blocking(move || {
            let layer_path = if layer {
                let file = std::fs::File::create(&tar).map_err(io_err("create", &tar))?;
                crate::snapshots::pack_layer(&upper, std::io::BufWriter::new(file)).map_err(io_err("pack", &upper))?;
                Some(tar.as_path())
            } else {
                None
            };
            let id = images.commit_image(Some(&parent), layer_path, image, &tags);
            let _ = std::fs::remove_file(&tar);
            id.map_err(ContainerError::from)
        })
        .await
        .map_err(|e| ContainerError::Internal(format!("commit task failed: {e}")));
        if pause {
            self.unpause(&c.id).await?;
        }
        result?
    }
}

/// The container's run configuration as an image keeps it; what the
/// container cannot change (volumes, healthcheck, shell, triggers) comes
/// from its image.
fn run_config(c: &Container, image: &ContainerConfig) -> ContainerConfig {
    let s = &c.spec;
    ContainerConfig {
        user: s.user.clone(),
        exposed_ports: (!s.exposed_ports.is_empty())
            .then(|| s.exposed_ports.iter().map(|p| (p.clone(), serde_json::json!({}))).collect()),
        env: Some(s.env.clone()),
        entrypoint: s.entrypoint.clone(),
        cmd: s.cmd.clone(),
        working_dir: s.working_dir.clone(),
        labels: (!s.labels.is_empty()).then(|| s.labels.clone()),
        stop_signal: s.stop_signal.clone().unwrap_or_default(),
        ..image.clone()
    }
}

/// `docker commit`'s merge: what the request sets wins; environment
/// variables and exposed ports add to the container's.
fn merge(base: ContainerConfig, user: ContainerConfig) -> ContainerConfig {
    let mut env = base.env.unwrap_or_default();
    for e in user.env.unwrap_or_default() {
        let key = e.split('=').next().unwrap_or_default().to_string();
        env.retain(|x| x.split('=').next() != Some(key.as_str()));
        env.push(e);
    }
    let mut ports = base.exposed_ports.unwrap_or_default();
    ports.extend(user.exposed_ports.unwrap_or_default());
    let pick = |a: String, b: String| if a.is_empty() { b } else { a };
    ContainerConfig {
        user: pick(user.user, base.user),
        exposed_ports: (!ports.is_empty()).then_some(ports),
        env: (!env.is_empty()).then_some(env),
        entrypoint: user.entrypoint.or(base.entrypoint),
        cmd: user.cmd.or(base.cmd),
        healthcheck: user.healthcheck.or(base.healthcheck),
        args_escaped: base.args_escaped,
        volumes: user.volumes.or(base.volumes),
        working_dir: pick(user.working_dir, base.working_dir),
        labels: user.labels.or(base.labels),
        stop_signal: pick(user.stop_signal, base.stop_signal),
        on_build: user.on_build.or(base.on_build),
        shell: user.shell.or(base.shell),
    }
}
