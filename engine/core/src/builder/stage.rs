//! Running a parsed Dockerfile: the stages the target needs, one step at a
//! time, each step's image from the cache or made anew.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use berth_dockerfile::{Command, CopySource, Dockerfile, Healthcheck, Instruction, InstructionKind};

use super::context::{is_archive, Ownership, SourceTar};
use super::{cache, BuildError, BuildOptions, BuildOutput, BuildService, Context};
use crate::containers::{CommitConfig, CommitRequest, ContainerSpec, CreateRequest, HostSpec};
use crate::content::Digest;
use crate::images::config::{History, ImageConfig, RootFs};
use crate::reference::ImageRef;

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

    async fn instruction(&mut self, stage: &mut Stage, i: &Instruction) -> Result<(), BuildError> {
        let escape = self.df.escape;
        let c = stage.config.config.clone();
        match &i.kind {
            InstructionKind::From { .. } => return Err(BuildError::Invalid("FROM cannot be a build trigger".into())),
            InstructionKind::Run(cmd) => return self.run(stage, i, cmd).await,
            InstructionKind::Copy(args) | InstructionKind::Add(args) => return self.copy(stage, i, args).await,
            InstructionKind::Arg(decls) => {
                for d in decls {
                    let global = self.global_args.get(&d.name).cloned().flatten();
                    let default = match &d.default {
                        Some(v) => Some(expand(v, escape, &|n| stage.lookup(n))?),
                        None => global,
                    };
                    let value = self.arg_value(&d.name, default);
                    stage.args.insert(d.name.clone(), value);
                }
            }
            InstructionKind::Env(pairs) => {
                let mut env = c.env.clone().unwrap_or_default();
                for kv in pairs {
                    let key = expand(&kv.key, escape, &|n| stage.lookup(n))?;
                    let value = expand(&kv.value, escape, &|n| stage.lookup(n))?;
                    env.retain(|e| e.split('=').next() != Some(key.as_str()));
                    env.push(format!("{key}={value}"));
                }
                stage.config.config.env = Some(env);
            }
            InstructionKind::Label(pairs) => {
                let mut labels = c.labels.clone().unwrap_or_default();
                for kv in pairs {
                    labels.insert(
                        expand(&kv.key, escape, &|n| stage.lookup(n))?,
                        expand(&kv.value, escape, &|n| stage.lookup(n))?,
                    );
                }
                stage.config.config.labels = Some(labels);
            }
            InstructionKind::Expose(ports) => {
                let mut exposed = c.exposed_ports.clone().unwrap_or_default();
                for raw in ports {
                    for p in berth_dockerfile::expand_words(raw, escape, &|n| stage.lookup(n)).map_err(bad)? {
                        let p = if p.contains('/') { p } else { format!("{p}/tcp") };
                        exposed.insert(p, serde_json::json!({}));
                    }
                }
                stage.config.config.exposed_ports = Some(exposed);
            }
            InstructionKind::Workdir(dir) => {
                let dir = expand(dir, escape, &|n| stage.lookup(n))?;
                let base = if c.working_dir.is_empty() { "/".to_string() } else { c.working_dir.clone() };
                stage.config.config.working_dir = clean_abs(&Path::new(&base).join(dir));
            }
            InstructionKind::User(user) => stage.config.config.user = expand(user, escape, &|n| stage.lookup(n))?,
            InstructionKind::Volume(vols) => {
                let mut volumes = c.volumes.clone().unwrap_or_default();
                for v in vols {
                    let v = expand(v, escape, &|n| stage.lookup(n))?;
                    if v.is_empty() {
                        return Err(BuildError::Invalid("VOLUME specified can not be an empty string".into()));
                    }
                    volumes.insert(v, serde_json::json!({}));
                }
                stage.config.config.volumes = Some(volumes);
            }
            InstructionKind::Cmd(cmd) => {
                stage.config.config.cmd = Some(argv(cmd, &stage.shell()));
                stage.cmd_set = true;
            }
            InstructionKind::Entrypoint(cmd) => {
                stage.config.config.entrypoint = Some(argv(cmd, &stage.shell())).filter(|a| !a.is_empty());
                // An inherited CMD makes no sense for a new entrypoint.
                if !stage.cmd_set {
                    stage.config.config.cmd = None;
                }
            }
            InstructionKind::Healthcheck(h) => stage.config.config.healthcheck = Some(healthcheck(h)),
            InstructionKind::Shell(shell) => stage.config.config.shell = Some(shell.clone()),
            InstructionKind::Stopsignal(sig) => {
                stage.config.config.stop_signal = expand(sig, escape, &|n| stage.lookup(n))?
            }
            InstructionKind::Onbuild(o) => {
                stage.config.config.on_build.get_or_insert_with(Vec::new).push(o.expression.clone())
            }
            InstructionKind::Maintainer(who) => stage.config.author = who.clone(),
        }
        self.commit_meta(stage, &i.original).await
    }

    /// A step that changes only the configuration: a new image, no layer.
    async fn commit_meta(&mut self, stage: &mut Stage, original: &str) -> Result<(), BuildError> {
        let created_by = format!("/bin/sh -c #(nop)  {original}");
        let parent = stage.image.as_ref().map_or("scratch", |d| d.as_str()).to_string();
        let key = cache::key(&parent, &created_by, &config_bytes(&stage.config));
        if let Some(id) = self.cached(&key) {
            return self.adopt(stage, id);
        }
        let mut config = stage.config.clone();
        config.created = Some(now());
        config.history.push(History {
            created: config.created.clone(),
            created_by,
            empty_layer: true,
            ..Default::default()
        });
        let parent = stage.image.as_ref().map(|id| self.svc.images.resolve(id.as_str())).transpose()?;
        let id = self.svc.images.commit_image(parent.as_ref(), None, config, &[])?;
        cache::put(&self.svc.root.join("cache"), &key, &id);
        self.out.stream(format!(" ---> {}\n", short(&id)));
        self.adopt_quiet(stage, id)
    }

    fn cached(&self, key: &str) -> Option<Digest> {
        if self.opts.no_cache {
            return None;
        }
        cache::get(&self.svc.root.join("cache"), key).filter(|id| self.svc.images.resolve(id.as_str()).is_ok())
    }

    fn adopt(&mut self, stage: &mut Stage, id: Digest) -> Result<(), BuildError> {
        self.out.stream(format!(" ---> Using cache\n ---> {}\n", short(&id)));
        self.adopt_quiet(stage, id)
    }

    fn adopt_quiet(&mut self, stage: &mut Stage, id: Digest) -> Result<(), BuildError> {
        stage.config = self.svc.images.config_of(&id)?;
        stage.image = Some(id);
        Ok(())
    }

    /// The image a step's container starts from; scratch gets an empty one.
    fn base_image(&self, stage: &mut Stage) -> Result<Digest, BuildError> {
        if let Some(id) = &stage.image {
            return Ok(id.clone());
        }
        let id = self.svc.images.commit_image(None, None, stage.config.clone(), &[])?;
        stage.image = Some(id.clone());
        Ok(id)
    }

    /// A container for a step: created, not started.
    fn step_container(&self, stage: &mut Stage, cmd: Vec<String>, env: Vec<String>) -> Result<String, BuildError> {
        let image = self.base_image(stage)?;
        let spec = ContainerSpec {
            image: image.to_string(),
            cmd: Some(cmd),
            entrypoint: Some(Vec::new()),
            env,
            working_dir: stage.config.config.working_dir.clone(),
            user: stage.config.config.user.clone(),
            host: HostSpec {
                network_mode: if self.opts.network_mode.is_empty() {
                    "default".into()
                } else {
                    self.opts.network_mode.clone()
                },
                extra_hosts: self.opts.extra_hosts.clone(),
                ..Default::default()
            },
            ..Default::default()
        };
        let req = CreateRequest {
            name: None,
            spec,
            config_json: serde_json::json!({}),
            host_config_json: serde_json::json!({}),
            binds: Vec::new(),
            mounts: Vec::new(),
            tmpfs: Default::default(),
            volumes: Vec::new(),
            // The image's healthcheck has no business in a build step.
            healthcheck: Some(crate::containers::health::HealthConfig {
                test: vec!["NONE".into()],
                ..Default::default()
            }),
        };
        Ok(self.svc.containers.create(req)?.id)
    }

    async fn remove_container(&self, id: &str) {
        if let Err(e) = self.svc.containers.remove(id, true, true).await {
            tracing::warn!(container = %id, error = %e, "failed to remove an intermediate container");
        }
    }

    /// Commits a step container's changes as the stage's next image.
    async fn commit_container(
        &mut self,
        stage: &mut Stage,
        cid: &str,
        created_by: String,
        key: &str,
    ) -> Result<(), BuildError> {
        let req = CommitRequest {
            config: CommitConfig::Replace(stage.config.config.clone()),
            created_by: Some(created_by),
            layer: true,
            ..Default::default()
        };
        let committed = self.svc.containers.commit(cid, req).await;
        self.out.stream(format!("Removing intermediate container {}\n", &cid[..12]));
        self.remove_container(cid).await;
        let id = committed?;
        cache::put(&self.svc.root.join("cache"), key, &id);
        self.out.stream(format!(" ---> {}\n", short(&id)));
        self.adopt_quiet(stage, id)
    }

    async fn run(&mut self, stage: &mut Stage, i: &Instruction, cmd: &Command) -> Result<(), BuildError> {
        if let Some(flag) = i.flags.first() {
            return Err(BuildError::Invalid(format!(
                "RUN --{} needs BuildKit, which Berth's classic builder does not provide",
                flag.name
            )));
        }
        let argv = match cmd {
            Command::Exec(v) => v.clone(),
            Command::Shell(text) => {
                let mut a = stage.shell();
                a.push(with_heredocs(text, &i.heredocs));
                a
            }
        };
        // Declared ARGs reach the command's environment and, so that a
        // changed value misses the cache, its history line.
        let env_names: BTreeSet<String> =
            stage.env().iter().map(|e| e.split('=').next().unwrap_or_default().to_string()).collect();
        let args: Vec<String> = stage
            .args
            .iter()
            .filter(|(k, _)| !env_names.contains(*k))
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
            .collect();
        let proxies: Vec<String> = PROXY_ARGS
            .iter()
            .filter_map(|k| self.opts.build_args.get(*k).cloned().flatten().map(|v| format!("{k}={v}")))
            .collect();
        let command = argv.join(" ");
        let created_by =
            if args.is_empty() { command.clone() } else { format!("|{} {} {command}", args.len(), args.join(" ")) };
        let parent = stage.image.as_ref().map_or("scratch", |d| d.as_str()).to_string();
        let key = cache::key(&parent, &created_by, &config_bytes(&stage.config));
        if let Some(id) = self.cached(&key) {
            return self.adopt(stage, id);
        }
        let env: Vec<String> = args.iter().chain(&proxies).cloned().collect();
        let cid = self.step_container(stage, argv, env)?;
        self.out.stream(format!(" ---> Running in {}\n", &cid[..12]));
        let code = match self.run_container(&cid).await {
            Ok(code) => code,
            Err(e) => {
                self.remove_container(&cid).await;
                return Err(e);
            }
        };
        if code != 0 {
            self.remove_container(&cid).await;
            return Err(BuildError::Command { command, code });
        }
        self.commit_container(stage, &cid, created_by, &key).await
    }

    /// Starts a step container, streams its output, returns its exit code.
    async fn run_container(&self, cid: &str) -> Result<i32, BuildError> {
        let containers = &self.svc.containers;
        let hub = containers.hub(cid)?;
        let mut output = hub.subscribe();
        let wait = containers.wait(cid, "next-exit")?;
        containers.start(cid).await?;
        tokio::pin!(wait);
        loop {
            tokio::select! {
                biased;
                frame = output.recv() => match frame {
                    Ok((_, data)) => self.out.stream(String::from_utf8_lossy(&data).into_owned()),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(wait.await),
                },
                code = &mut wait => {
                    while let Ok((_, data)) = output.try_recv() {
                        self.out.stream(String::from_utf8_lossy(&data).into_owned());
                    }
                    return Ok(code);
                }
            }
        }
    }

    async fn copy(
        &mut self,
        stage: &mut Stage,
        i: &Instruction,
        args: &berth_dockerfile::CopyArgs,
    ) -> Result<(), BuildError> {
        let escape = self.df.escape;
        let add = i.keyword() == "ADD";
        let own = Ownership::parse(
            i.chown().map(|c| expand(c, escape, &|n| stage.lookup(n))).transpose()?.as_deref(),
            i.chmod(),
        )?;
        let dest_raw = expand(&args.dest, escape, &|n| stage.lookup(n))?;
        let workdir = if stage.config.config.working_dir.is_empty() {
            "/".into()
        } else {
            stage.config.config.working_dir.clone()
        };
        let mut dest = PathBuf::from(clean_abs(&Path::new(&workdir).join(&dest_raw)));
        let dest_is_dir = dest_raw.ends_with('/') || dest_raw == "." || dest_raw.ends_with("/.");
        if args.sources.len() > 1 && !dest_is_dir {
            return Err(BuildError::Invalid(format!(
                "When using {} with more than one source file, the destination must be a directory and end with a /",
                i.keyword()
            )));
        }
        if dest_is_dir {
            dest.push("");
        }
        let to = Dest { path: dest.clone(), is_dir: dest_is_dir, own };
        let tar_path = self.ctx.root().with_extension(format!("step{}.tar", self.step));
        let mut tar = SourceTar::create(tar_path.clone())?;
        let result = async {
            match i.copy_from() {
                Some(from) => {
                    let from = expand(from, escape, &|n| stage.lookup(n))?;
                    self.copy_from(&mut tar, &from, args, stage, &to).await?;
                }
                None => self.copy_context(&mut tar, args, stage, &to, add)?,
            }
            tar.finish()
        }
        .await;
        let hash = match result {
            Ok(h) => h,
            Err(e) => {
                let _ = std::fs::remove_file(&tar_path);
                return Err(e);
            }
        };
        let created_by = format!("/bin/sh -c #(nop) {} {hash} in {} ", i.keyword(), dest.display());
        let parent = stage.image.as_ref().map_or("scratch", |d| d.as_str()).to_string();
        let key = cache::key(&parent, &created_by, &config_bytes(&stage.config));
        if let Some(id) = self.cached(&key) {
            let _ = std::fs::remove_file(&tar_path);
            return self.adopt(stage, id);
        }
        let cid = self.step_container(stage, vec!["#(nop)".into()], Vec::new());
        let cid = match cid {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_file(&tar_path);
                return Err(e);
            }
        };
        let containers = self.svc.containers.clone();
        let (id, path) = (cid.clone(), tar_path.clone());
        let written = tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(&path).map_err(super::io("open", &path))?;
            containers.write_path(&id, "/", std::io::BufReader::new(file), false).map_err(BuildError::from)
        })
        .await
        .map_err(|e| BuildError::Invalid(format!("copy task failed: {e}")))
        .and_then(|r| r);
        let _ = std::fs::remove_file(&tar_path);
        if let Err(e) = written {
            self.remove_container(&cid).await;
            return Err(e);
        }
        self.commit_container(stage, &cid, created_by, &key).await
    }

    fn copy_context(
        &self,
        tar: &mut SourceTar,
        args: &berth_dockerfile::CopyArgs,
        stage: &Stage,
        to: &Dest,
        add: bool,
    ) -> Result<(), BuildError> {
        let (dest, dest_is_dir, own) = (to.path.as_path(), to.is_dir, to.own);
        let escape = self.df.escape;
        for source in &args.sources {
            match source {
                CopySource::Heredoc(h) => {
                    let body = if h.expand { expand(&h.body, escape, &|n| stage.lookup(n))? } else { h.body.clone() };
                    let target = if dest_is_dir { dest.join(&h.name) } else { dest.to_path_buf() };
                    tar.add_bytes(&target, body.as_bytes(), own)?;
                }
                CopySource::Path(raw) => {
                    let src = expand(raw, escape, &|n| stage.lookup(n))?;
                    if add && (src.starts_with("http://") || src.starts_with("https://")) {
                        return Err(BuildError::Invalid(format!(
                            "ADD {src}: downloading from a URL is not supported by Berth's builder yet; fetch the file into the build context and COPY it"
                        )));
                    }
                    let matches = self.ctx.select(&src)?;
                    let many = matches.len() > 1 || src.contains(['*', '?', '[']);
                    if many && !dest_is_dir && args.sources.len() == 1 && matches.len() > 1 {
                        return Err(BuildError::Invalid(format!(
                            "When using {} with more than one source file, the destination must be a directory and end with a /",
                            if add { "ADD" } else { "COPY" }
                        )));
                    }
                    for rel in matches {
                        let host = self.ctx.root().join(&rel);
                        let is_dir = host.is_dir();
                        if add && !is_dir && is_archive(&host) {
                            let file = std::fs::File::open(&host).map_err(super::io("open", &host))?;
                            let base = dest.to_path_buf();
                            tar.add_archive(file, None, &|name| Some(base.join(name)))?;
                            continue;
                        }
                        let target = if is_dir || !dest_is_dir {
                            dest.to_path_buf()
                        } else {
                            dest.join(rel.file_name().unwrap_or_default())
                        };
                        tar.add_host(self.ctx, &rel, &target, own, true)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// COPY --from: files of an earlier stage or another image, read
    /// through a throwaway container of it.
    async fn copy_from(
        &mut self,
        tar: &mut SourceTar,
        from: &str,
        args: &berth_dockerfile::CopyArgs,
        stage: &Stage,
        to: &Dest,
    ) -> Result<(), BuildError> {
        let image = match self.df.stage_index(from) {
            Some(i) => self.done.get(&i).cloned().ok_or_else(|| {
                BuildError::Invalid(format!("COPY --from={from}: stage {from} is not built before this one"))
            })?,
            None => self.image(from).await?,
        };
        let config = self.svc.images.config_of(&image)?;
        let mut source = Stage { image: Some(image), config, args: BTreeMap::new(), cmd_set: false };
        let cid = self.step_container(&mut source, vec!["#(nop)".into()], Vec::new())?;
        let result = self.read_sources(tar, &cid, args, stage, to);
        self.remove_container(&cid).await;
        result
    }

    fn read_sources(
        &self,
        tar: &mut SourceTar,
        cid: &str,
        args: &berth_dockerfile::CopyArgs,
        stage: &Stage,
        to: &Dest,
    ) -> Result<(), BuildError> {
        let (dest, dest_is_dir, own) = (to.path.as_path(), to.is_dir, to.own);
        for source in &args.sources {
            let CopySource::Path(raw) = source else {
                return Err(BuildError::Invalid("COPY --from cannot take a heredoc".into()));
            };
            let src = expand(raw, self.df.escape, &|n| stage.lookup(n))?;
            let mut archive = Vec::new();
            self.svc
                .containers
                .read_path(cid, &src, &mut archive)
                .map_err(|_| BuildError::Invalid(format!("COPY failed: stat {src}: file does not exist")))?;
            // docker cp names the top entry after the source; a directory's
            // contents land in dest, a file at dest (or inside it).
            let top_is_dir = tar::Archive::new(&archive[..])
                .entries()
                .ok()
                .and_then(|mut e| e.next())
                .and_then(Result::ok)
                .is_some_and(|e| e.header().entry_type().is_dir());
            let base = dest.to_path_buf();
            let rename = |name: &Path| -> Option<PathBuf> {
                let mut parts = name.components();
                let first = parts.next()?;
                let rest = parts.as_path();
                if top_is_dir {
                    (!rest.as_os_str().is_empty()).then(|| base.join(rest))
                } else if dest_is_dir {
                    Some(base.join(first.as_os_str()))
                } else {
                    Some(base.clone())
                }
            };
            // New files belong to root unless --chown says otherwise, as in Docker.
            tar.add_archive(&archive[..], Some(own), &rename)?;
        }
        Ok(())
    }
}

/// Where COPY/ADD puts its files, and whose they are.
struct Dest {
    path: PathBuf,
    /// Written with a trailing `/`: sources go inside.
    is_dir: bool,
    own: Ownership,
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

fn argv(cmd: &Command, shell: &[String]) -> Vec<String> {
    match cmd {
        Command::Exec(v) => v.clone(),
        Command::Shell(text) if text.is_empty() => Vec::new(),
        Command::Shell(text) => shell.iter().cloned().chain([text.clone()]).collect(),
    }
}

/// A shell-form RUN with its heredocs: the shell reads them itself; a RUN
/// that is only a heredoc runs the heredoc as its script.
fn with_heredocs(text: &str, heredocs: &[berth_dockerfile::Heredoc]) -> String {
    match heredocs {
        [] => text.to_string(),
        [h] if text.trim().trim_start_matches("<<").trim_start_matches('-').trim_matches(['"', '\'']) == h.name => {
            h.body.clone()
        }
        _ => {
            let mut script = text.to_string();
            for h in heredocs {
                script.push('\n');
                script.push_str(&h.body);
                script.push_str(&h.name);
            }
            script.push('\n');
            script
        }
    }
}

fn healthcheck(h: &Healthcheck) -> serde_json::Value {
    match h {
        Healthcheck::None => serde_json::json!({ "Test": ["NONE"] }),
        Healthcheck::Cmd(c) => {
            let test: Vec<String> = match &c.test {
                Command::Exec(v) => std::iter::once("CMD".to_string()).chain(v.iter().cloned()).collect(),
                Command::Shell(t) => vec!["CMD-SHELL".into(), t.clone()],
            };
            let mut v = serde_json::json!({ "Test": test });
            for (key, value) in [
                ("Interval", c.interval),
                ("Timeout", c.timeout),
                ("StartPeriod", c.start_period),
                ("StartInterval", c.start_interval),
            ] {
                if let Some(ns) = value {
                    v[key] = serde_json::json!(ns);
                }
            }
            if let Some(r) = c.retries {
                v["Retries"] = serde_json::json!(r);
            }
            v
        }
    }
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
    }

    #[test]
    fn heredoc_scripts() {
        let h = |name: &str, body: &str| berth_dockerfile::Heredoc {
            name: name.into(),
            body: body.into(),
            expand: true,
            strip_tabs: false,
        };
        assert_eq!(with_heredocs("<<EOF", &[h("EOF", "echo hi\n")]), "echo hi\n");
        assert_eq!(with_heredocs("cat <<EOF > /f", &[h("EOF", "x\n")]), "cat <<EOF > /f\nx\nEOF\n");
        assert_eq!(clean_abs(Path::new("/a/../b/./c")), "/b/c");
    }
}
