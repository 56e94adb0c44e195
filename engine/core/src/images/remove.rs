//! `docker rmi`, `docker image prune`, and garbage collection of blobs and
//! snapshots that no image references any more.

use std::collections::HashSet;

use super::{lookup, not_found, ImageError, ImageService};
use crate::content::Digest;
use crate::filters::Filters;
use crate::reference::ImageRef;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteItem {
    Untagged(String),
    Deleted(String),
}

#[derive(Debug, Clone, Default)]
pub struct PruneReport {
    pub deleted: Vec<DeleteItem>,
    pub space_reclaimed: u64,
}

pub const PRUNE_FILTER_KEYS: &[&str] = &["dangling", "label", "label!", "until"];

impl ImageService {
    /// Removes a reference, and the image once nothing references it.
    pub fn remove(&self, name: &str, force: bool) -> Result<Vec<DeleteItem>, ImageError> {
        self.remove_counting(name, force).map(|(items, _)| items)
    }

    /// [`Self::remove`], also returning the bytes of snapshots freed.
    pub(crate) fn remove_counting(&self, name: &str, force: bool) -> Result<(Vec<DeleteItem>, u64), ImageError> {
        let (id, by_ref, single_reference) = {
            let index = self.index();
            let id = lookup(&index, name).ok_or_else(|| not_found(name))?;
            let by_ref = ImageRef::parse(name).ok().filter(|r| {
                index.tags.contains_key(&r.to_string())
                    || r.digest().is_some_and(|d| index.images[&id].repo_digests.contains(&format!("{}@{d}", r.name())))
            });
            let tags = index.tags_of(&id);
            let repos: HashSet<String> = tags
                .iter()
                .chain(&index.images[&id].repo_digests)
                .filter_map(|t| ImageRef::parse(t).ok())
                .map(|r| r.name())
                .collect();
            (id, by_ref, tags.len() <= 1 && repos.len() <= 1)
        };
        let users = self.users_of(&id);
        // Untagging one of several references leaves the image named, so
        // containers using it are no reason to refuse (as in dockerd).
        let untag_only = by_ref.is_some() && !single_reference;
        if let Some(user) = users.first().filter(|_| !force && !untag_only) {
            let what = match &by_ref {
                Some(r) => format!("unable to remove repository reference \"{}\" (must force)", r.familiar()),
                None => format!("unable to delete {} (must be forced)", id.short()),
            };
            return Err(ImageError::Conflict(format!(
                "{what} - container {} is using its referenced image {}",
                &user[..12.min(user.len())],
                id.short()
            )));
        }
        let mut items = Vec::new();
        let keep_image = !users.is_empty();
        self.update(|idx| {
            let record = idx.images.get(&id).cloned().ok_or_else(|| not_found(name))?;
            let tags = idx.tags_of(&id);
            match &by_ref {
                Some(r) => {
                    let full = r.to_string();
                    if idx.tags.remove(&full).is_none() {
                        idx.images.get_mut(&id).map(|i| i.repo_digests.remove(&full));
                    }
                    items.push(DeleteItem::Untagged(r.familiar()));
                    if !idx.tags_of(&id).is_empty() {
                        return Ok(());
                    }
                }
                None => {
                    let repos: HashSet<String> =
                        tags.iter().filter_map(|t| ImageRef::parse(t).ok()).map(|r| r.name()).collect();
                    if repos.len() > 1 && !force {
                        return Err(ImageError::Conflict(format!(
                            "unable to delete {} (must be forced) - image is referenced in multiple repositories",
                            id.short()
                        )));
                    }
                    for t in &tags {
                        idx.tags.remove(t);
                        items.push(DeleteItem::Untagged(familiar(t)));
                    }
                }
            }
            if keep_image {
                // Forced while containers use it: untag, keep the image.
                return Ok(());
            }
            for d in &record.repo_digests {
                items.push(DeleteItem::Untagged(familiar(d)));
            }
            idx.images.remove(&id);
            items.push(DeleteItem::Deleted(id.to_string()));
            Ok(())
        })?;
        for item in &items {
            match item {
                DeleteItem::Untagged(_) => self.inner.events.publish(untag_event(&id)),
                DeleteItem::Deleted(_) => self.inner.events.publish(delete_event(&id)),
            }
        }
        let removed = self.collect_garbage()?;
        let freed = removed.iter().map(|(_, size)| size).sum();
        items.extend(removed.into_iter().map(|(c, _)| DeleteItem::Deleted(c.to_string())));
        Ok((items, freed))
    }

    /// Removes dangling images (or, with `dangling=false`, every image).
    pub fn prune(&self, filters: &Filters) -> Result<PruneReport, ImageError> {
        filters.validate(PRUNE_FILTER_KEYS).map_err(|e| ImageError::InvalidParameter(e.to_string()))?;
        let dangling_only = !matches!(filters.values("dangling").next(), Some("false" | "0"));
        let until = match filters.values("until").next() {
            Some(u) => Some(parse_until(u)?),
            None => None,
        };
        let candidates: Vec<Digest> = {
            let index = self.index();
            index
                .images
                .keys()
                .filter(|id| !dangling_only || index.tags_of(id).is_empty())
                .filter(|id| self.users_of(id).is_empty())
                .cloned()
                .collect()
        };
        let mut report = PruneReport::default();
        for id in candidates {
            let config = self.config_of(&id)?;
            let labels = config.labels();
            let excluded = filters.values("label!").any(|l| match l.split_once('=') {
                Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
                None => labels.contains_key(l),
            });
            if excluded || !filters.labels("label", &labels) || until.is_some_and(|u| config.created_unix() >= u) {
                continue;
            }
            let (items, freed) = self.remove_counting(id.as_str(), true)?;
            report.deleted.extend(items);
            report.space_reclaimed += freed;
        }
        Ok(report)
    }

    /// Deletes blobs and snapshots no image (and no pull in progress)
    /// references; returns the snapshots removed with their sizes.
    pub(super) fn collect_garbage(&self) -> Result<Vec<(Digest, u64)>, ImageError> {
        let leases = self.leases();
        let (blobs, chains) = {
            let index = self.index();
            let mut blobs: HashSet<Digest> = HashSet::new();
            let mut chains: HashSet<Digest> = HashSet::new();
            for img in index.images.values() {
                blobs.insert(img.id.clone());
                blobs.extend(img.manifest.clone());
                blobs.extend(img.layers.iter().filter_map(|l| l.blob.clone()));
                chains.extend(img.chain_ids());
            }
            (blobs, chains)
        };
        for blob in self.inner.content.list()? {
            if !blobs.contains(&blob) && !leases.contains(&blob) {
                self.inner.content.delete(&blob)?;
            }
        }
        let mut removed = Vec::new();
        for chain in self.inner.snapshots.list() {
            if !chains.contains(&chain) && !leases.contains(&chain) {
                let size = self.inner.snapshots.size(&chain);
                self.inner.snapshots.remove(&chain)?;
                removed.push((chain, size));
            }
        }
        Ok(removed)
    }
}

fn familiar(full: &str) -> String {
    ImageRef::parse(full).map(|r| r.familiar()).unwrap_or_else(|_| full.to_string())
}

fn untag_event(id: &Digest) -> crate::events::Event {
    image_event(id, "untag")
}

fn delete_event(id: &Digest) -> crate::events::Event {
    image_event(id, "delete")
}

fn image_event(id: &Digest, action: &str) -> crate::events::Event {
    let attrs = [("name".to_string(), id.to_string())].into_iter().collect();
    crate::events::Event::now(crate::events::ObjectType::Image, action, id.as_str(), attrs)
}

/// `until` as Unix seconds: a timestamp or a duration ago (`10m`, `2h`).
fn parse_until(value: &str) -> Result<i64, ImageError> {
    let now = chrono::Utc::now().timestamp();
    if let Ok(ts) = value.split('.').next().unwrap_or(value).parse::<i64>() {
        return Ok(ts);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(t.timestamp());
    }
    let (num, unit) = value.split_at(value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len()));
    let n: i64 = num.parse().map_err(|_| ImageError::InvalidParameter(format!("invalid filter 'until={value}'")))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(ImageError::InvalidParameter(format!("invalid filter 'until={value}'"))),
    };
    Ok(now - secs)
}
