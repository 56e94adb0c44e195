//! Leases keep blobs and snapshots that are not in the index yet (a pull,
//! a load or a commit in progress) safe from garbage collection until the
//! operation ends, however it ends.

use std::collections::HashMap;

use super::ImageService;
use crate::content::Digest;

/// What every operation in progress holds, counted: two pulls may share a
/// layer, and the first to finish must not release it for the other.
#[derive(Debug, Default)]
pub(super) struct Leases(HashMap<Digest, usize>);

impl Leases {
    fn hold(&mut self, digest: Digest) {
        *self.0.entry(digest).or_default() += 1;
    }

    fn release(&mut self, digest: &Digest) {
        if let Some(n) = self.0.get_mut(digest) {
            *n -= 1;
            if *n == 0 {
                self.0.remove(digest);
            }
        }
    }

    pub(super) fn contains(&self, digest: &Digest) -> bool {
        self.0.contains_key(digest)
    }
}

/// One operation's hold on its digests, released on drop.
pub(super) struct Lease {
    service: ImageService,
    digests: Vec<Digest>,
}

impl Lease {
    pub(super) fn take(service: &ImageService, digests: Vec<Digest>) -> Self {
        let mut leases = service.leases();
        digests.iter().for_each(|d| leases.hold(d.clone()));
        drop(leases);
        Self { service: service.clone(), digests }
    }

    pub(super) fn add(&mut self, digest: Digest) {
        self.service.leases().hold(digest.clone());
        self.digests.push(digest);
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut leases = self.service.leases();
        self.digests.iter().for_each(|d| leases.release(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_digest_stays_held_until_its_last_holder_lets_go() {
        let mut leases = Leases::default();
        let layer = Digest::of(b"shared layer");
        leases.hold(layer.clone());
        leases.hold(layer.clone());
        leases.release(&layer);
        assert!(leases.contains(&layer));
        leases.release(&layer);
        assert!(!leases.contains(&layer));
        leases.release(&layer);
        assert!(!leases.contains(&layer));
    }
}
