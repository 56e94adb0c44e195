//! Steps that change only the image's configuration (ENV, LABEL, CMD, ...):
//! a new config-only image, or the cached one.

use super::*;

impl Build<'_> {
    pub(super) async fn instruction(&mut self, stage: &mut Stage, i: &Instruction) -> Result<(), BuildError> {
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
    pub(super) async fn commit_meta(&mut self, stage: &mut Stage, original: &str) -> Result<(), BuildError> {
        let created_by = format!("/bin/sh -c #(nop)  {original}");
        let parent = stage.image.as_ref().map_or("scratch", |d| d.as_str()).to_string();
        let key = cache::key(&parent, &created_by, &config_bytes(&stage.config));
        if let Some(id) = self.cached(stage, &key, &created_by)? {
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

    /// The image of a step made before: from the local cache, else from a
    /// `--cache-from` image that goes on with this step (recorded in the
    /// local cache then).
    pub(super) fn cached(&self, stage: &Stage, key: &str, created_by: &str) -> Result<Option<Digest>, BuildError> {
        if self.opts.no_cache {
            return Ok(None);
        }
        let dir = self.svc.root.join("cache");
        let local = cache::get(&dir, key).filter(|id| self.svc.images.resolve(id.as_str()).is_ok());
        // With `--cache-from`, as in dockerd, the local cache counts only
        // along the sources' own lineage.
        if let Some(id) = local.filter(|id| self.opts.cache_from.is_empty() || self.in_source_lineage(id)) {
            return Ok(Some(id));
        }
        let id = match cache_from::find(&self.cache_sources, &stage.config, created_by) {
            None => return Ok(None),
            Some(cache_from::Hit::Whole(id)) => id,
            Some(cache_from::Hit::Restore { source, config }) => {
                self.svc.images.restore_image(stage.image.as_ref(), source, &config)?
            }
        };
        cache::put(&dir, key, &id);
        Ok(Some(id))
    }

    /// Whether `id` is a `--cache-from` image or one of its local parents.
    fn in_source_lineage(&self, id: &Digest) -> bool {
        self.cache_sources.iter().any(|s| {
            let mut at = Some(s.record.id.clone());
            while let Some(image) = at {
                if &image == id {
                    return true;
                }
                at = self.svc.images.resolve(image.as_str()).ok().and_then(|r| r.parent);
            }
            false
        })
    }

    pub(super) fn adopt(&mut self, stage: &mut Stage, id: Digest) -> Result<(), BuildError> {
        self.out.stream(format!(" ---> Using cache\n ---> {}\n", short(&id)));
        self.adopt_quiet(stage, id)
    }

    pub(super) fn adopt_quiet(&mut self, stage: &mut Stage, id: Digest) -> Result<(), BuildError> {
        stage.config = self.svc.images.config_of(&id)?;
        stage.image = Some(id);
        Ok(())
    }
}

fn argv(cmd: &Command, shell: &[String]) -> Vec<String> {
    match cmd {
        Command::Exec(v) => v.clone(),
        Command::Shell(text) if text.is_empty() => Vec::new(),
        Command::Shell(text) => shell.iter().cloned().chain([text.clone()]).collect(),
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
