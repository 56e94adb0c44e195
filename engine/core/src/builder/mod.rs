//! The classic Dockerfile builder behind `POST /build`: the context is
//! unpacked into a scratch directory, each instruction becomes an image
//! (a container runs RUN and receives COPY/ADD; metadata steps need none),
//! and a cache keyed by parent image + step + content hash lets unchanged
//! steps reuse their image, across engine restarts too.

mod cache;
mod cache_from;
mod context;
mod output;
mod remote;
mod stage;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use context::Context;
pub use output::{BuildEvent, BuildOutput};

use crate::containers::{ContainerError, ContainerService};
use crate::content::Digest;
use crate::distribution::manifest::Platform;
use crate::distribution::Credentials;
use crate::images::{ImageError, ImageService};
use crate::reference::ImageRef;
use crate::{Classify, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Parse(#[from] berth_dockerfile::ParseError),
    #[error("{0}")]
    Invalid(String),
    /// A RUN that failed, with its exit code.
    #[error("The command '{command}' returned a non-zero code: {code}")]
    Command { command: String, code: i32 },
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Container(#[from] ContainerError),
    #[error("failed to {action} {path}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
}

impl Classify for BuildError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Parse(_) | Self::Invalid(_) => ErrorKind::InvalidParameter,
            Self::Command { .. } => ErrorKind::Internal,
            Self::Image(e) => e.kind(),
            Self::Container(e) => e.kind(),
            Self::Io { .. } => ErrorKind::Internal,
        }
    }
}

impl BuildError {
    /// The exit code clients show for a failed RUN.
    pub fn code(&self) -> Option<i32> {
        match self {
            Self::Command { code, .. } => Some(*code),
            _ => None,
        }
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BuildError {
    let path = path.to_path_buf();
    move |source| BuildError::Io { action, path, source }
}

/// The parameters of `POST /build` the builder honours.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The Dockerfile's path inside the context.
    pub dockerfile: String,
    pub tags: Vec<ImageRef>,
    /// `--build-arg`; a `None` value takes the variable from... nowhere
    /// (the client resolves `--build-arg NAME` from its environment).
    pub build_args: BTreeMap<String, Option<String>>,
    pub labels: BTreeMap<String, String>,
    pub target: Option<String>,
    pub no_cache: bool,
    /// `--cache-from`: images whose history may serve steps.
    pub cache_from: Vec<String>,
    /// Pull base images even when present.
    pub pull: bool,
    pub quiet: bool,
    pub network_mode: String,
    pub extra_hosts: Vec<String>,
    pub platform: Option<Platform>,
    /// Registry credentials by registry host, for base images.
    pub auth: BTreeMap<String, Credentials>,
}

#[derive(Clone)]
pub struct BuildService {
    images: ImageService,
    containers: ContainerService,
    root: PathBuf,
    /// For ADD from a URL (proxies from the environment).
    http: reqwest::Client,
}

impl BuildService {
    pub fn open(data_root: &Path, images: ImageService, containers: ContainerService) -> Result<Self, BuildError> {
        let root = data_root.join("builder");
        let tmp = root.join("tmp");
        // Contexts of builds cut short by a crash.
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(io("create", &tmp))?;
        std::fs::create_dir_all(root.join("cache")).map_err(io("create", &root))?;
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Ok(Self { images, containers, root, http })
    }

    /// Unpacks a build context tar (plain or compressed). Blocking.
    pub fn context(&self, archive: impl std::io::Read) -> Result<Context, BuildError> {
        Context::unpack(archive, &self.root.join("tmp"))
    }

    /// Reads and parses the context's Dockerfile: errors here come before
    /// any output, so they can be answered with a status code.
    pub fn parse(&self, ctx: &Context, opts: &BuildOptions) -> Result<berth_dockerfile::Dockerfile, BuildError> {
        let parsed = berth_dockerfile::parse(&ctx.dockerfile(&opts.dockerfile)?)?;
        if let Some(t) = opts.target.as_deref().filter(|t| !t.is_empty()) {
            if !parsed.stages.iter().any(|s| s.name.as_deref() == Some(t.to_ascii_lowercase().as_str())) {
                return Err(BuildError::Invalid(format!("failed to reach build target {t} in Dockerfile")));
            }
        }
        Ok(parsed)
    }

    /// Runs a build; progress and output go to `out`. Returns the image ID.
    pub async fn build(
        &self,
        ctx: &Context,
        dockerfile: &berth_dockerfile::Dockerfile,
        opts: &BuildOptions,
        out: &BuildOutput,
    ) -> Result<Digest, BuildError> {
        for w in &dockerfile.warnings {
            out.stream(format!("[WARNING]: {w}\n"));
        }
        let id = stage::Build::new(self, ctx, opts, dockerfile, out)?.execute().await?;
        out.built(id.as_str());
        out.stream(format!("Successfully built {}\n", id.short()));
        for tag in &opts.tags {
            self.images.tag(id.as_str(), &tag.name(), tag.tag())?;
            out.stream(format!("Successfully tagged {}\n", tag.familiar()));
        }
        out.always_if_quiet(format!("{id}\n"));
        Ok(id)
    }

    /// `docker builder prune`: forgets the cache and removes the step
    /// images nothing else holds. Returns those images and the freed bytes.
    pub fn prune(&self) -> Result<(Vec<String>, u64), BuildError> {
        let (mut removed, mut freed) = (Vec::new(), 0);
        for id in cache::drain(&self.root.join("cache")) {
            let Ok(image) = self.images.inspect(id.as_str()) else { continue };
            if !image.repo_tags.is_empty() || !self.containers.users_of(&image.record.id).is_empty() {
                continue;
            }
            if let Ok((_, bytes)) = self.images.remove_counting(image.record.id.as_str(), false) {
                removed.push(image.record.id.to_string());
                freed += bytes;
            }
        }
        Ok((removed, freed))
    }
}
