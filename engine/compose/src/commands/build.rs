//! `build`, `pull`, `push` and `images`.

use std::collections::BTreeMap;

use super::Ctx;
use crate::cli::{BuildArgs, ImagesArgs, PullArgs, ServicesArgs};
use crate::convergence::container::image_name;
use crate::convergence::images::{build_one, pull_one, push_one, BuildFlags};
use crate::convergence::{members, Oneoff};
use crate::error::{ComposeError, Result};
use crate::project::Service;

fn selected<'a>(project: &'a crate::project::Project, names: &[String]) -> Result<Vec<&'a Service>> {
    if let Some(missing) = names.iter().find(|n| !project.services.contains_key(*n)) {
        return Err(ComposeError::Failed(format!("no such service: {missing}")));
    }
    Ok(project.services.values().filter(|s| names.is_empty() || names.contains(&s.name)).collect())
}

pub async fn build(ctx: &Ctx, a: &BuildArgs) -> Result<i32> {
    let project = ctx.project(&a.services)?;
    let docker = ctx.docker()?;
    let mut args = BTreeMap::new();
    for spec in &a.build_args {
        match spec.split_once('=') {
            Some((k, v)) => args.insert(k.to_string(), v.to_string()),
            None => args.insert(spec.clone(), project.env.get(spec).unwrap_or_default().to_string()),
        };
    }
    let flags = BuildFlags { no_cache: a.no_cache, pull: a.pull, args };
    for s in selected(&project, &a.services)? {
        if let Some(b) = &s.build {
            ctx.progress.event("Service", &s.name, "Building");
            build_one(&docker, &project, s, b, &flags, a.quiet).await?;
            ctx.progress.event("Service", &s.name, "Built");
        }
    }
    Ok(0)
}

pub async fn pull(ctx: &Ctx, a: &PullArgs) -> Result<i32> {
    let project = ctx.project(&a.services)?;
    let docker = ctx.docker()?;
    let progress = if a.quiet { crate::progress::Progress::new(Some("quiet")) } else { ctx.progress };
    let mut failed = None;
    for s in selected(&project, &a.services)? {
        if s.image.is_none() || (a.ignore_buildable && s.build.is_some()) {
            continue;
        }
        if let Err(e) = pull_one(&docker, &s.name, &image_name(&project, s), progress).await {
            if s.build.is_some() || a.ignore_pull_failures {
                tracing::warn!("{}: {e}", s.name);
            } else {
                failed = Some(e);
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(0),
    }
}

pub async fn push(ctx: &Ctx, a: &ServicesArgs) -> Result<i32> {
    let project = ctx.project(&a.services)?;
    let docker = ctx.docker()?;
    for s in selected(&project, &a.services)? {
        if s.image.is_some() {
            push_one(&docker, &s.name, &image_name(&project, s), ctx.progress).await?;
        }
    }
    Ok(0)
}

pub async fn images(ctx: &Ctx, a: &ImagesArgs) -> Result<i32> {
    let project = ctx.project_or_named(&a.services)?;
    let docker = ctx.docker()?;
    let list = members(&docker, &project.name, &a.services, Oneoff::Exclude, true).await?;
    let mut rows = Vec::new();
    for m in &list {
        let image = m.summary.image.clone().unwrap_or_default();
        let info = docker.inspect_image(&image).await?;
        let id = info.id.clone().unwrap_or_default();
        let (repo, tag) = image.rsplit_once(':').filter(|(_, t)| !t.contains('/')).unwrap_or((&image, "latest"));
        rows.push((m.name.clone(), repo.to_string(), tag.to_string(), id, info.size.unwrap_or(0)));
    }
    if a.quiet {
        let ids: std::collections::BTreeSet<&String> = rows.iter().map(|r| &r.3).collect();
        ids.iter().for_each(|id| println!("{id}"));
        return Ok(0);
    }
    if a.format == "json" {
        let out: Vec<_> = rows
            .iter()
            .map(|(c, r, t, id, size)| serde_json::json!({"ContainerName": c, "Repository": r, "Tag": t, "ID": id, "Size": size}))
            .collect();
        println!("{}", serde_json::Value::Array(out));
        return Ok(0);
    }
    println!("{:<24} {:<32} {:<10} {:<14} SIZE", "CONTAINER", "REPOSITORY", "TAG", "IMAGE ID");
    for (c, r, t, id, size) in rows {
        let short = id.trim_start_matches("sha256:").chars().take(12).collect::<String>();
        println!("{c:<24} {r:<32} {t:<10} {short:<14} {}", human_size(size));
    }
    Ok(0)
}

fn human_size(bytes: i64) -> String {
    let b = bytes as f64;
    match b {
        b if b >= 1e9 => format!("{:.3}GB", b / 1e9),
        b if b >= 1e6 => format!("{:.3}MB", b / 1e6),
        b if b >= 1e3 => format!("{:.3}kB", b / 1e3),
        b => format!("{b}B"),
    }
}
