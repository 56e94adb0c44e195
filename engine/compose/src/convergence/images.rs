//! Getting each service's image: pulled by its `pull_policy`, or built from its `build` section.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use bollard::query_parameters::{BuildImageOptionsBuilder, CreateImageOptionsBuilder, PushImageOptionsBuilder};
use bollard::Docker;
use futures_util::StreamExt;

use super::container::image_name;
use crate::error::{is_status, ComposeError, Result};
use crate::progress::Progress;
use crate::project::model::Build;
use crate::project::{Project, Service};

/// What the command line says about building and pulling.
#[derive(Debug, Clone, Default)]
pub struct ImagePolicy {
    /// `--build`: build every service that has a build section.
    pub build: bool,
    /// `--no-build`: never build.
    pub no_build: bool,
    /// `--pull always|missing|never`, over each service's `pull_policy`.
    pub pull: Option<String>,
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Pull {
    Always,
    Missing,
    Never,
    Build,
}

/// Makes sure every service has its image; returns the image ID per service.
pub async fn ensure(
    docker: &Docker,
    project: &Project,
    services: &[&Service],
    policy: &ImagePolicy,
    progress: Progress,
) -> Result<BTreeMap<String, String>> {
    let mut ids = BTreeMap::new();
    for s in services {
        let image = image_name(project, s);
        // `if_not_present` and the periodic policies (`daily`, `every_12h`, ...) pull only what is missing.
        let pull = match policy.pull.clone().or_else(|| s.pull_policy.clone()).as_deref() {
            Some("always") => Pull::Always,
            Some("never") => Pull::Never,
            Some("build") => Pull::Build,
            _ => Pull::Missing,
        };
        let present = image_id(docker, &image).await?;
        let build_now = match (&s.build, &present) {
            (Some(_), _) if policy.no_build => false,
            (Some(_), _) if policy.build || pull == Pull::Build => true,
            (Some(_), None) => pull != Pull::Always,
            _ => false,
        };
        let id = match (&s.build, present) {
            (Some(build), _) if build_now => {
                build_one(docker, project, s, build, &Default::default(), policy.quiet).await?
            }
            (_, Some(id)) if pull != Pull::Always => id,
            (_, None) if pull == Pull::Never => {
                return Err(ComposeError::Failed(format!("No such image: {image}")));
            }
            _ => {
                pull_one(docker, &s.name, &image, progress).await?;
                image_id(docker, &image)
                    .await?
                    .ok_or_else(|| ComposeError::Failed(format!("No such image: {image}")))?
            }
        };
        ids.insert(s.name.clone(), id);
    }
    Ok(ids)
}

pub async fn image_id(docker: &Docker, image: &str) -> Result<Option<String>> {
    match docker.inspect_image(image).await {
        Ok(found) => Ok(found.id),
        Err(e) if is_status(&e, 404) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `repo:tag` / `repo@digest` split the way the pull endpoint wants it.
fn split_reference(image: &str) -> (&str, &str) {
    if let Some((repo, digest)) = image.split_once('@') {
        return (repo, digest);
    }
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].rfind(':') {
        Some(i) => (&image[..slash + i], &image[slash + i + 1..]),
        None => (image, "latest"),
    }
}

pub async fn pull_one(docker: &Docker, service: &str, image: &str, progress: Progress) -> Result<()> {
    progress.event("", service, "Pulling");
    let (repo, tag) = split_reference(image);
    let opts = CreateImageOptionsBuilder::new().from_image(repo).tag(tag).build();
    let mut stream = docker.create_image(Some(opts), None, None);
    while let Some(item) = stream.next().await {
        item?;
    }
    progress.event("", service, "Pulled");
    Ok(())
}

pub async fn push_one(docker: &Docker, service: &str, image: &str, progress: Progress) -> Result<()> {
    progress.event("", service, "Pushing");
    let (repo, tag) = split_reference(image);
    let opts = PushImageOptionsBuilder::new().tag(tag).build();
    let mut stream = docker.push_image(repo, Some(opts), None);
    while let Some(item) = stream.next().await {
        item?;
    }
    progress.event("", service, "Pushed");
    Ok(())
}

/// Extra settings from `compose build`'s command line.
#[derive(Debug, Clone, Default)]
pub struct BuildFlags {
    pub no_cache: bool,
    pub pull: bool,
    pub args: BTreeMap<String, String>,
}

/// Builds a service's image through the engine's `/build` and returns the new image ID.
pub async fn build_one(
    docker: &Docker,
    project: &Project,
    service: &Service,
    build: &Build,
    flags: &BuildFlags,
    quiet: bool,
) -> Result<String> {
    let image = image_name(project, service);
    let context = Path::new(&build.context);
    let failed = |m: String| ComposeError::Failed(format!("service {:?}: build: {m}", service.name));
    let inline = build.dockerfile_inline.as_deref();
    let dockerfile = if inline.is_some() {
        ".berth-compose.Dockerfile".to_string()
    } else {
        build.dockerfile.clone().unwrap_or_else(|| "Dockerfile".into())
    };
    let tar = context_tar(context, inline.map(|t| (dockerfile.as_str(), t))).map_err(|e| failed(e.to_string()))?;
    let mut args: std::collections::HashMap<String, String> = build
        .args
        .iter()
        .filter_map(|(k, v)| v.clone().or_else(|| project.env.get(k).map(String::from)).map(|v| (k.clone(), v)))
        .collect();
    args.extend(flags.args.clone());
    let labels: std::collections::HashMap<String, String> = build.labels.clone().into_iter().collect();
    let mut opts = BuildImageOptionsBuilder::new()
        .dockerfile(&dockerfile)
        .t(&image)
        .buildargs(&args)
        .labels(&labels)
        .nocache(build.no_cache || flags.no_cache)
        .pull(if build.pull || flags.pull { "1" } else { "" })
        .rm(true)
        .forcerm(true);
    if let Some(target) = &build.target {
        opts = opts.target(target);
    }
    if let Some(net) = &build.network {
        opts = opts.networkmode(net);
    }
    let body = bollard::body_full(tar.into());
    let mut stream = docker.build_image(opts.build(), None, Some(body));
    let mut id = None;
    while let Some(item) = stream.next().await {
        let info = item?;
        if let Some(text) = info.stream.filter(|_| !quiet) {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
        if let Some(aux) = info.aux.and_then(|a| a.id) {
            id = Some(aux);
        }
    }
    match id {
        Some(id) => Ok(id),
        None => image_id(docker, &image).await?.ok_or_else(|| failed("the engine reported no image".into())),
    }
}

/// The build context as a tar, without what `.dockerignore` excludes.
fn context_tar(dir: &Path, inline: Option<(&str, &str)>) -> std::io::Result<Vec<u8>> {
    let ignore_text = std::fs::read_to_string(dir.join(".dockerignore")).unwrap_or_default();
    let ignore = berth_dockerfile::DockerIgnore::parse(&ignore_text)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&current)?.collect::<std::io::Result<_>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let rel = path.strip_prefix(dir).expect("under the context").to_string_lossy().into_owned();
            let is_dir = entry.file_type()?.is_dir();
            let excluded = ignore.is_excluded(&rel, is_dir);
            if is_dir && (!excluded || ignore.must_walk(&rel)) {
                if !excluded {
                    builder.append_path_with_name(&path, &rel)?;
                }
                stack.push(path);
            } else if !excluded {
                builder.append_path_with_name(&path, &rel)?;
            }
        }
    }
    if let Some((name, text)) = inline {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, text.as_bytes())?;
    }
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(split_reference("busybox"), ("busybox", "latest"));
        assert_eq!(split_reference("busybox:1.36"), ("busybox", "1.36"));
        assert_eq!(split_reference("127.0.0.1:5000/app"), ("127.0.0.1:5000/app", "latest"));
        assert_eq!(split_reference("127.0.0.1:5000/app:v2"), ("127.0.0.1:5000/app", "v2"));
        assert_eq!(split_reference("app@sha256:abc"), ("app", "sha256:abc"));
    }

    #[test]
    fn context_respects_dockerignore() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".dockerignore"), "secret\n").unwrap();
        std::fs::write(dir.path().join("secret"), "x").unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/a"), "a").unwrap();
        let tar = context_tar(dir.path(), Some(("inline.Dockerfile", "FROM scratch\n"))).unwrap();
        let mut archive = tar::Archive::new(&tar[..]);
        let names: Vec<String> =
            archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect();
        assert!(names.contains(&"src/a".to_string()), "{names:?}");
        assert!(names.contains(&"inline.Dockerfile".to_string()));
        assert!(!names.contains(&"secret".to_string()));
    }
}
