//! `--cache-from`: images, typically pulled from a CI registry, whose
//! history stands in for the local cache. A source serves a step when the
//! step's parent is a prefix of it, history and layers alike, and the
//! source's next history entry is that very step; dockerd's classic builder
//! follows the same rule, so a source it built serves Berth too.

use crate::content::Digest;
use crate::images::{ImageConfig, ImageRecord};

/// An image named by `--cache-from`.
pub struct Source {
    pub record: ImageRecord,
    pub config: ImageConfig,
}

/// What a source offers a step.
#[derive(Debug)]
pub enum Hit<'a> {
    /// The step is the source's last: the source image itself.
    Whole(Digest),
    /// An image to make: `config` over the first layers of `source`.
    Restore { source: &'a ImageRecord, config: Box<ImageConfig> },
}

/// The source that goes on from `stage` (the step's configuration, whose
/// history and layers are its parent's) with the step `created_by`.
pub fn find<'a>(sources: &'a [Source], stage: &ImageConfig, created_by: &str) -> Option<Hit<'a>> {
    let (history, layers) = (&stage.history, &stage.rootfs.diff_ids);
    let s = sources.iter().find(|s| {
        let h = &s.config.history;
        h.len() > history.len()
            && h.starts_with(history)
            && s.config.rootfs.diff_ids.starts_with(layers)
            && h[history.len()].created_by == created_by
    })?;
    if s.config.history.len() == history.len() + 1 {
        return Some(Hit::Whole(s.record.id.clone()));
    }
    let entry = &s.config.history[history.len()];
    let mut config = Box::new(stage.clone());
    config.history.push(entry.clone());
    if !entry.empty_layer {
        config.rootfs.diff_ids.push(s.config.rootfs.diff_ids.get(layers.len())?.clone());
    }
    config.created.clone_from(&entry.created);
    Some(Hit::Restore { source: &s.record, config })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::config::History;

    fn step(created_by: &str, empty: bool) -> History {
        History { created_by: created_by.into(), empty_layer: empty, created: Some("t".into()), ..Default::default() }
    }

    fn source(history: Vec<History>, layers: usize) -> Source {
        let mut config = ImageConfig { history, ..Default::default() };
        config.rootfs.diff_ids = (0..layers).map(|i| Digest::of(&[i as u8])).collect();
        let record = ImageRecord {
            id: Digest::of(b"source"),
            layers: Vec::new(),
            repo_digests: Default::default(),
            manifest: None,
            last_tag_time: None,
            parent: None,
        };
        Source { record, config }
    }

    #[test]
    fn a_source_serves_the_steps_it_continues() {
        let base = vec![step("ADD rootfs", false)];
        let src = source(vec![base[0].clone(), step("ENV A=1", true), step("RUN make", false)], 2);
        let mut stage = ImageConfig { history: base, ..Default::default() };
        stage.rootfs.diff_ids = vec![Digest::of(&[0])];
        // Not the next step, or another base: no hit.
        assert!(find(std::slice::from_ref(&src), &stage, "RUN make").is_none());
        let mut other = stage.clone();
        other.rootfs.diff_ids = vec![Digest::of(b"other")];
        assert!(find(std::slice::from_ref(&src), &other, "ENV A=1").is_none());
        // A metadata step: no layer added; the source's entry is copied.
        let Some(Hit::Restore { config, .. }) = find(std::slice::from_ref(&src), &stage, "ENV A=1") else {
            panic!("ENV should hit")
        };
        assert_eq!((config.history.len(), config.rootfs.diff_ids.len()), (2, 1));
        // The last step is the source itself.
        let hit = find(std::slice::from_ref(&src), &config, "RUN make");
        assert!(matches!(hit, Some(Hit::Whole(id)) if id == src.record.id));
    }
}
