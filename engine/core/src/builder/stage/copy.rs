//! COPY and ADD: sources from the context, an earlier stage or an image,
//! gathered into one hashed tar and written into a step container.

use super::*;

impl Build<'_> {
    pub(super) async fn copy(
        &mut self,
        stage: &mut Stage,
        i: &Instruction,
        args: &berth_dockerfile::CopyArgs,
    ) -> Result<(), BuildError> {
        let escape = self.df.escape;
        let add = i.keyword() == "ADD";
        let images = &self.svc.images;
        let image = stage.image.as_ref().map(|d| d.to_string());
        let files = |path: &str| {
            let bytes = images.read_file(image.as_deref()?, path)?;
            Some(String::from_utf8_lossy(&bytes).into_owned())
        };
        let own = Ownership::parse(
            i.chown().map(|c| expand(c, escape, &|n| stage.lookup(n))).transpose()?.as_deref(),
            i.chmod(),
            &files,
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
            return Err(needs_dir_dest(i.keyword()));
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
                None => {
                    let fetched = self.fetch_urls(args, stage, add, &tar_path).await;
                    let copied = fetched.and_then(|f| {
                        let r = self.copy_context(&mut tar, args, stage, &to, add, &f);
                        f.iter().for_each(|d| drop(std::fs::remove_file(&d.path)));
                        r
                    });
                    copied?
                }
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
        let hit = self.cached(stage, &key, &created_by);
        if !matches!(hit, Ok(None)) {
            let _ = std::fs::remove_file(&tar_path);
        }
        if let Some(id) = hit? {
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
            let file = std::fs::File::open(&path).map_err(crate::builder::io("open", &path))?;
            let owners = crate::containers::Owners::FromArchive;
            containers.write_path(&id, "/", std::io::BufReader::new(file), false, owners).map_err(BuildError::from)
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

    /// ADD's URL sources, fetched next to the step's tar, in source order.
    async fn fetch_urls(
        &self,
        args: &berth_dockerfile::CopyArgs,
        stage: &Stage,
        add: bool,
        near: &Path,
    ) -> Result<Vec<remote::Download>, BuildError> {
        let mut out = Vec::new();
        for source in args.sources.iter().filter(|_| add) {
            let CopySource::Path(raw) = source else { continue };
            let src = expand(raw, self.df.escape, &|n| stage.lookup(n))?;
            if remote::is_url(&src) {
                let path = near.with_extension(format!("url{}", out.len()));
                match remote::fetch(&self.svc.http, &src, &path).await {
                    Ok(d) => out.push(d),
                    Err(e) => {
                        let _ = std::fs::remove_file(&path);
                        out.iter().for_each(|d: &remote::Download| drop(std::fs::remove_file(&d.path)));
                        return Err(e);
                    }
                }
            }
        }
        Ok(out)
    }

    fn copy_context(
        &self,
        tar: &mut SourceTar,
        args: &berth_dockerfile::CopyArgs,
        stage: &Stage,
        to: &Dest,
        add: bool,
        fetched: &[remote::Download],
    ) -> Result<(), BuildError> {
        let mut fetched = fetched.iter();
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
                    if add && remote::is_url(&src) {
                        let d = fetched.next().ok_or_else(|| BuildError::Invalid(format!("ADD {src}: not fetched")))?;
                        let target = match (dest_is_dir, &d.name) {
                            (false, _) => dest.to_path_buf(),
                            (true, Some(name)) => dest.join(name),
                            (true, None) => {
                                return Err(BuildError::Invalid(format!("cannot determine filename from url: {src}")))
                            }
                        };
                        let file = std::fs::File::open(&d.path).map_err(crate::builder::io("open", &d.path))?;
                        let size = file.metadata().map_err(crate::builder::io("read", &d.path))?.len();
                        let mode = own.mode.unwrap_or(0o600);
                        tar.add_file(&target, file, size, (mode, d.mtime), own)?;
                        continue;
                    }
                    let matches = self.ctx.select(&src)?;
                    if matches.len() > 1 && !dest_is_dir {
                        return Err(needs_dir_dest(if add { "ADD" } else { "COPY" }));
                    }
                    for rel in matches {
                        let host = self.ctx.root().join(&rel);
                        let is_dir = host.is_dir();
                        if add && !is_dir && is_archive(&host) {
                            let file = std::fs::File::open(&host).map_err(crate::builder::io("open", &host))?;
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

/// Several sources go into a directory, which Docker wants written as one.
fn needs_dir_dest(keyword: &str) -> BuildError {
    BuildError::Invalid(format!(
        "When using {keyword} with more than one source file, the destination must be a directory and end with a /"
    ))
}
