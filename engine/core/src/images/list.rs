//! `docker images`: summaries with dockerd's filters.

use std::collections::BTreeMap;

use super::{familiar_all, lookup, ImageError, ImageService};
use crate::content::Digest;
use crate::filters::Filters;
use crate::reference::ImageRef;

pub const IMAGE_FILTER_KEYS: &[&str] = &["before", "dangling", "label", "reference", "since", "until"];

#[derive(Debug, Clone)]
pub struct ImageSummary {
    pub id: Digest,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub created: i64,
    pub size: u64,
    pub labels: BTreeMap<String, String>,
    pub parent: Option<Digest>,
}

#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub filters: Filters,
    /// Also the intermediate images of builds (untagged, with children).
    pub all: bool,
}

impl ImageService {
    pub fn list(&self, opts: &ListOptions) -> Result<Vec<ImageSummary>, ImageError> {
        let f = &opts.filters;
        f.validate(IMAGE_FILTER_KEYS).map_err(|e| ImageError::InvalidParameter(e.to_string()))?;
        let dangling = match f.values("dangling").next() {
            None => None,
            Some("true" | "1") => Some(true),
            Some("false" | "0") => Some(false),
            Some(v) => return Err(ImageError::InvalidParameter(format!("invalid filter 'dangling={v}'"))),
        };
        let records: Vec<_> = {
            let idx = self.index();
            let intermediate = |r: &&super::ImageRecord| idx.tags_of(&r.id).is_empty() && idx.has_children(&r.id);
            idx.images.values().filter(|r| opts.all || !intermediate(r)).cloned().collect()
        };
        let bound = |key: &str| -> Result<Option<i64>, ImageError> {
            let Some(name) = f.values(key).next() else { return Ok(None) };
            let id = lookup(&self.index(), name).ok_or_else(|| super::not_found(name))?;
            Ok(Some(self.config_of(&id)?.created_unix()))
        };
        let (before, since) = (bound("before")?, bound("since")?);
        let mut out = Vec::new();
        for record in records {
            let d = self.details(record)?;
            let created = d.config.created_unix();
            let labels = d.config.labels();
            if dangling.is_some_and(|want| want != d.repo_tags.is_empty())
                || before.is_some_and(|b| created >= b)
                || since.is_some_and(|s| created <= s)
                || !f.labels("label", &labels)
            {
                continue;
            }
            let mut repo_tags = d.repo_tags;
            if f.contains("reference") {
                repo_tags.retain(|t| f.values("reference").any(|p| reference_matches(p, t)));
                if repo_tags.is_empty() {
                    continue;
                }
            }
            out.push(ImageSummary {
                id: d.record.id.clone(),
                repo_tags,
                repo_digests: familiar_all(d.record.repo_digests.iter().cloned()),
                created,
                size: d.size,
                labels,
                parent: d.record.parent.clone(),
            });
        }
        out.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }
}

/// dockerd's reference filter: a glob over the familiar `name:tag`, or over
/// the name alone when the pattern has no tag.
fn reference_matches(pattern: &str, tag: &str) -> bool {
    let name = ImageRef::parse(tag).map(|r| r.familiar_name()).unwrap_or_default();
    glob(pattern, tag) || glob(pattern, &name)
}

/// `path.Match`-style glob: `*` and `?` do not cross `/`.
fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && t[0] != b'/' && go(p, &t[1..])),
            (Some(b'?'), Some(c)) if *c != b'/' => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_globs() {
        assert!(reference_matches("busybox", "busybox:latest"));
        assert!(reference_matches("busy*", "busybox:latest"));
        assert!(reference_matches("busybox:lat*", "busybox:latest"));
        assert!(!reference_matches("busybox:1", "busybox:latest"));
        assert!(!reference_matches("*", "127.0.0.1:5000/a/b:c"));
        assert!(reference_matches("127.0.0.1:5000/a/*", "127.0.0.1:5000/a/b:c"));
    }
}
