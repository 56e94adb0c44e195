//! Running a parsed Dockerfile: the stages the target needs, one step at a
//! time, each step's image from the cache or made anew.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use berth_dockerfile::{Command, CopySource, Dockerfile, Healthcheck, Instruction, InstructionKind};

use super::context::{is_archive, Ownership, SourceTar};
use super::{cache, cache_from, remote, BuildError, BuildOptions, BuildOutput, BuildService, Context};
use crate::containers::{CommitConfig, CommitRequest, ContainerSpec, CreateRequest, HostSpec};
use crate::content::Digest;
use crate::images::config::{History, ImageConfig, RootFs};
use crate::reference::ImageRef;

mod copy;
mod metadata;
mod run;

/// Build arguments every Dockerfile may use without declaring them; they
/// reach RUN but never the image's history.
const PROXY_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

pub(super) struct Build<'a> {
    svc: &'a BuildService,
    ctx: &'a Context,
    opts: &'a BuildOptions,
    df: &'a Dockerfile,
    out: &'a BuildOutput,
    step: usize,
    total: usize,
    needed: BTreeSet<usize>,
    target: usize,
    /// The final image of each stage built so far.
    done: BTreeMap<usize, Digest>,
    global_args: BTreeMap<String, Option<String>>,
    used_args: BTreeSet<String>,
    cache_sources: Vec<cache_from::Source>,
}

/// Where a stage is: its current image (none yet for `FROM scratch`) and
/// configuration, and the ARGs in scope.
struct Stage {
    image: Option<Digest>,
    config: ImageConfig,
    args: BTreeMap<String, Option<String>>,
    cmd_set: bool,
}

impl Stage {
    fn shell(&self) -> Vec<String> {
        self.config.config.shell.clone().unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
    }

    fn env(&self) -> Vec<String> {
        self.config.config.env.clone().unwrap_or_default()
    }

    /// A variable as expansion sees it: ENV first, then ARG.
    fn lookup(&self, name: &str) -> Option<String> {
        self.env()
            .iter()
            .rev()
            .find_map(|e| e.strip_prefix(name).and_then(|r| r.strip_prefix('=')).map(String::from))
            .or_else(|| self.args.get(name).cloned().flatten())
    }
}

fn short(id: &Digest) -> &str {
    id.short()
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

impl<'a> Build<'a> {
    pub fn new(
        svc: &'a BuildService,
        ctx: &'a Context,
        opts: &'a BuildOptions,
        df: &'a Dockerfile,
        out: &'a BuildOutput,
    ) -> Result<Self, BuildError> {
        let target = match &opts.target {
            Some(t) if !t.is_empty() => df
                .stage_index(t)
                .filter(|i| df.stages[*i].name.is_some())
                .ok_or_else(|| BuildError::Invalid(format!("failed to reach build target {t} in Dockerfile")))?,
            _ => df.stages.len() - 1,
        };
        let needed = needed_stages(df, target);
        let total = df.global_args.len() + needed.iter().map(|i| 1 + df.stages[*i].instructions.len()).sum::<usize>();
        // As dockerd: a source that is not here is skipped, not an error.
        let cache_sources = opts
            .cache_from
            .iter()
            .filter_map(|name| match svc.images.resolve(name) {
                Ok(record) => Some(cache_from::Source { config: svc.images.config_of(&record.id).ok()?, record }),
                Err(e) => {
                    tracing::warn!(image = %name, error = %e, "cache source not found, skipping it");
                    None
                }
            })
            .collect();
        Ok(Self {
            svc,
            ctx,
            opts,
            df,
            out,
            step: 0,
            total,
            needed,
            target,
            done: BTreeMap::new(),
            global_args: BTreeMap::new(),
            used_args: BTreeSet::new(),
            cache_sources,
        })
    }

    fn announce(&mut self, i: &Instruction) {
        self.step += 1;
        self.out.stream(format!("Step {}/{} : {}\n", self.step, self.total, i.original));
    }

    /// The value of a build argument declared with `default`.
    fn arg_value(&mut self, name: &str, default: Option<String>) -> Option<String> {
        match self.opts.build_args.get(name) {
            Some(Some(v)) => {
                self.used_args.insert(name.to_string());
                Some(v.clone())
            }
            _ => default,
        }
    }

    pub async fn execute(&mut self) -> Result<Digest, BuildError> {
        let escape = self.df.escape;
        for i in &self.df.global_args {
            self.announce(i);
            if let InstructionKind::Arg(decls) = &i.kind {
                for d in decls {
                    let args = self.global_args.clone();
                    let lookup = |n: &str| args.get(n).cloned().flatten();
                    let default = d.default.as_deref().map(|v| expand(v, escape, &lookup)).transpose()?;
                    let value = self.arg_value(&d.name, default);
                    self.global_args.insert(d.name.clone(), value);
                }
            }
        }
        let mut last = None;
        for index in 0..=self.target {
            if !self.needed.contains(&index) {
                continue;
            }
            let id = self.run_stage(index).await?;
            self.done.insert(index, id.clone());
            last = Some(id);
        }
        let mut id = last.ok_or_else(|| BuildError::Invalid("no build stage in current context".into()))?;
        if !self.opts.labels.is_empty() {
            let mut config = self.svc.images.config_of(&id)?;
            config.config.labels.get_or_insert_with(Default::default).extend(self.opts.labels.clone());
            let mut stage = Stage { image: Some(id.clone()), config, args: BTreeMap::new(), cmd_set: true };
            let labels: Vec<String> = self.opts.labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            self.commit_meta(&mut stage, &format!("LABEL {}", labels.join(" "))).await?;
            id = stage.image.clone().unwrap_or(id);
        }
        let unused: Vec<&String> = self
            .opts
            .build_args
            .keys()
            .filter(|k| !self.used_args.contains(*k) && !PROXY_ARGS.contains(&k.as_str()))
            .collect();
        if !unused.is_empty() {
            let names: Vec<&str> = unused.iter().map(|s| s.as_str()).collect();
            self.out.stream(format!("[Warning] One or more build-args [{}] were not consumed\n", names.join(" ")));
        }
        Ok(id)
    }

    async fn run_stage(&mut self, index: usize) -> Result<Digest, BuildError> {
        let df = self.df;
        let stage_def = &df.stages[index];
        self.announce(&stage_def.from);
        let mut stage = self.from(index).await?;
        for i in &stage_def.instructions {
            self.announce(i);
            self.instruction(&mut stage, i).await?;
        }
        match stage.image {
            Some(id) => Ok(id),
            // `FROM scratch` and nothing that made an image: an empty one.
            None => {
                let id = self.svc.images.commit_image(None, None, stage.config, &[])?;
                self.out.stream(format!(" ---> {}\n", short(&id)));
                Ok(id)
            }
        }
    }

    /// FROM: the base image (pulled if needed), an earlier stage, or scratch.
    async fn from(&mut self, index: usize) -> Result<Stage, BuildError> {
        let def = &self.df.stages[index];
        let args = self.global_args.clone();
        let lookup = |n: &str| args.get(n).cloned().flatten();
        let base = expand(&def.base, self.df.escape, &lookup)?;
        let scoped: BTreeMap<String, Option<String>> = BTreeMap::new();
        if base == "scratch" {
            self.out.stream(" ---> \n");
            let platform = crate::distribution::manifest::Platform::host();
            let config = ImageConfig {
                architecture: platform.architecture,
                os: platform.os,
                variant: platform.variant,
                rootfs: RootFs { kind: "layers".into(), diff_ids: Vec::new() },
                ..Default::default()
            };
            return Ok(Stage { image: None, config, args: scoped, cmd_set: false });
        }
        let id = match self.df.stage_index(&base).filter(|i| *i < index) {
            Some(i) => {
                self.done.get(&i).cloned().ok_or_else(|| BuildError::Invalid(format!("stage {base} was not built")))?
            }
            None => self.image(&base).await?,
        };
        self.out.stream(format!(" ---> {}\n", short(&id)));
        let config = self.svc.images.config_of(&id)?;
        let mut stage = Stage { image: Some(id), config, args: scoped, cmd_set: false };
        if let Some(triggers) = stage.config.config.on_build.take().filter(|t| !t.is_empty()) {
            self.out.stream(format!(
                "# Executing {} build trigger{}\n",
                triggers.len(),
                if triggers.len() == 1 { "" } else { "s" }
            ));
            let text = format!("FROM scratch\n{}\n", triggers.join("\n"));
            let parsed = berth_dockerfile::parse(&text)?;
            for t in &parsed.stages[0].instructions {
                Box::pin(self.instruction(&mut stage, t)).await?;
            }
        }
        Ok(stage)
    }

    /// A base image by name: local unless `--pull`, else from its registry.
    async fn image(&mut self, name: &str) -> Result<Digest, BuildError> {
        if !self.opts.pull {
            if let Ok(record) = self.svc.images.resolve(name) {
                return Ok(record.id);
            }
        }
        let reference = ImageRef::parse(name).map_err(|e| BuildError::Invalid(e.to_string()))?;
        let creds = self.opts.auth.get(reference.domain()).cloned();
        let plan = self.svc.images.resolve_pull(reference, self.opts.platform.clone(), creds).await?;
        Ok(plan.execute(&self.out.progress()).await?)
    }
}

/// The stages the target needs: itself and, transitively, the stages it
/// builds on or copies from.
fn needed_stages(df: &Dockerfile, target: usize) -> BTreeSet<usize> {
    let mut needed = BTreeSet::new();
    let mut todo = vec![target];
    while let Some(i) = todo.pop() {
        if !needed.insert(i) {
            continue;
        }
        let stage = &df.stages[i];
        let base = df.stage_index(&stage.base).filter(|b| *b < i);
        let froms = stage.instructions.iter().filter_map(|ins| ins.copy_from()).filter_map(|f| df.stage_index(f));
        todo.extend(base.into_iter().chain(froms).filter(|d| *d < i));
    }
    needed
}

fn expand(raw: &str, escape: char, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, BuildError> {
    berth_dockerfile::expand_word(raw, escape, lookup).map_err(bad)
}

fn bad(e: impl std::fmt::Display) -> BuildError {
    BuildError::Invalid(e.to_string())
}

/// An absolute, normalised path in the image.
fn clean_abs(p: &Path) -> String {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            std::path::Component::Normal(n) => out.push(n),
            std::path::Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out.display().to_string()
}

/// The configuration part of a cache key: the run config and author.
fn config_bytes(c: &ImageConfig) -> Vec<u8> {
    serde_json::to_vec(&(&c.config, &c.author)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_the_target_needs() {
        let df = berth_dockerfile::parse(
            "FROM busybox AS a\nRUN true\nFROM busybox AS unused\nFROM a AS b\nCOPY --from=0 /x /x\nFROM busybox\n",
        )
        .unwrap();
        assert_eq!(needed_stages(&df, 2), BTreeSet::from([0, 2]));
        assert_eq!(needed_stages(&df, 3), BTreeSet::from([3]));
        assert_eq!(clean_abs(Path::new("/a/../b/./c")), "/b/c");
    }
}
