//! Steps that run in a container: RUN, and the step containers COPY and ADD
//! write into, committed as the stage's next image.

use super::*;

impl Build<'_> {
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
    pub(super) fn step_container(
        &self,
        stage: &mut Stage,
        cmd: Vec<String>,
        env: Vec<String>,
    ) -> Result<String, BuildError> {
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
            volumes_from: Vec::new(),
            // The image's healthcheck has no business in a build step.
            healthcheck: Some(crate::containers::health::HealthConfig {
                test: vec!["NONE".into()],
                ..Default::default()
            }),
        };
        Ok(self.svc.containers.create(req)?.id)
    }

    pub(super) async fn remove_container(&self, id: &str) {
        if let Err(e) = self.svc.containers.remove(id, true, true).await {
            tracing::warn!(container = %id, error = %e, "failed to remove an intermediate container");
        }
    }

    /// Commits a step container's changes as the stage's next image.
    pub(super) async fn commit_container(
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

    pub(super) async fn run(&mut self, stage: &mut Stage, i: &Instruction, cmd: &Command) -> Result<(), BuildError> {
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
        if let Some(id) = self.cached(stage, &key, &created_by)? {
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
                    Ok((stream, data)) => self.out.stream(step_output(stream, &data)),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(wait.await),
                },
                code = &mut wait => {
                    while let Ok((stream, data)) = output.try_recv() {
                        self.out.stream(step_output(stream, &data));
                    }
                    return Ok(code);
                }
            }
        }
    }
}

/// What a step's process wrote, for the build stream: stderr in red, as
/// the classic builder shows it.
fn step_output(stream: u8, data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    if stream == 2 {
        format!("\x1b[91m{text}\x1b[0m")
    } else {
        text.into_owned()
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

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
