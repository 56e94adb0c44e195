//! `cp`: files between a service's container and the host, through the archive API.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use bollard::query_parameters::{DownloadFromContainerOptionsBuilder, UploadToContainerOptionsBuilder};
use bollard::Docker;
use futures_util::TryStreamExt;

use super::Ctx;
use crate::cli::CpArgs;
use crate::convergence::{members, Oneoff};
use crate::error::{ComposeError, Result};

/// `SERVICE:PATH` split, unless it is a local path (absolute, relative with `./`, or `-`).
fn remote(spec: &str) -> Option<(&str, &str)> {
    if spec.starts_with('/') || spec.starts_with('.') || spec == "-" {
        return None;
    }
    spec.split_once(':')
}

pub async fn run(ctx: &Ctx, a: &CpArgs) -> Result<i32> {
    let (service, copy_in, container_path, local) = match (remote(&a.source), remote(&a.destination)) {
        (Some((svc, path)), None) => (svc, false, path, a.destination.as_str()),
        (None, Some((svc, path))) => (svc, true, path, a.source.as_str()),
        _ => return Err(ComposeError::Usage("copying needs one SERVICE:PATH and one local path".into())),
    };
    let project = ctx.project_or_named(&[service.to_string()])?;
    let docker = ctx.docker()?;
    let list = members(&docker, &project.name, &[service.to_string()], Oneoff::Exclude, true).await?;
    let target = list
        .iter()
        .find(|m| m.number == a.index)
        .ok_or_else(|| ComposeError::Failed(format!("service {service:?} has no container #{}", a.index)))?;
    if copy_in {
        upload(&docker, &target.id, local, container_path, a.archive).await?;
    } else {
        download(&docker, &target.id, container_path, local).await?;
    }
    Ok(0)
}

async fn download(docker: &Docker, id: &str, from: &str, to: &str) -> Result<()> {
    let opts = DownloadFromContainerOptionsBuilder::new().path(from).build();
    let chunks: Vec<Vec<u8>> =
        docker.download_from_container(id, Some(opts)).map_ok(|b| b.to_vec()).try_collect().await?;
    let tar: Vec<u8> = chunks.concat();
    if to == "-" {
        std::io::stdout().write_all(&tar).map_err(|e| ComposeError::Failed(e.to_string()))?;
        return Ok(());
    }
    let dest = Path::new(to);
    // Into an existing directory the copy keeps its name; anywhere else it takes the destination's.
    let (dir, rename) = if dest.is_dir() {
        (dest.to_path_buf(), None)
    } else {
        let parent = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        (parent.to_path_buf(), dest.file_name().map(PathBuf::from))
    };
    extract(&tar, &dir, rename.as_deref()).map_err(|e| ComposeError::Failed(format!("copying to {to}: {e}")))
}

fn extract(tar: &[u8], dir: &Path, rename: Option<&Path>) -> std::io::Result<()> {
    let mut archive = tar::Archive::new(tar);
    archive.set_preserve_permissions(true);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        if path.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("unsafe path {}", path.display()),
            ));
        }
        let mut parts = path.components();
        let first = parts.next();
        let path = match (rename, first) {
            // Joining an empty rest would add a trailing slash and turn a file into a directory.
            (Some(name), Some(_)) if parts.as_path().as_os_str().is_empty() => name.to_path_buf(),
            (Some(name), Some(_)) => name.join(parts.as_path()),
            _ => path.clone(),
        };
        let out = dir.join(&path);
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent)?;
        }
        entry.unpack(&out)?;
    }
    Ok(())
}

async fn upload(docker: &Docker, id: &str, from: &str, to: &str, archive: bool) -> Result<()> {
    let failed = |e: std::io::Error| ComposeError::Failed(format!("copying {from}: {e}"));
    let put = |path: &str, tar: Vec<u8>| {
        let mut opts = UploadToContainerOptionsBuilder::new().path(path);
        if archive {
            opts = opts.copy_uidgid("1");
        }
        docker.upload_to_container(id, Some(opts.build()), bollard::body_full(tar.into()))
    };
    if from == "-" {
        let mut tar = Vec::new();
        std::io::stdin().read_to_end(&mut tar).map_err(failed)?;
        return Ok(put(to, tar).await?);
    }
    let src = Path::new(from);
    let name = src.file_name().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    // First as "into the directory TO"; if TO is not a directory, as "the file or directory TO".
    if put(to, pack(src, &name).map_err(failed)?).await.is_ok() {
        return Ok(());
    }
    let dest = Path::new(to);
    let parent =
        dest.parent().map(|p| p.to_string_lossy().into_owned()).filter(|p| !p.is_empty()).unwrap_or_else(|| "/".into());
    let renamed = dest.file_name().map(PathBuf::from).unwrap_or(name);
    Ok(put(&parent, pack(src, &renamed).map_err(failed)?).await?)
}

fn pack(src: &Path, name: &Path) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    if src.is_dir() {
        builder.append_dir_all(name, src)?;
    } else {
        builder.append_path_with_name(src, name)?;
    }
    builder.into_inner()
}
