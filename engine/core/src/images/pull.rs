//! `docker pull`: resolve the manifest for this platform, download the
//! config and the missing layers (a few at a time, verified while
//! streaming), unpack each into its snapshot, then record the image in
//! the index in one atomic step.

use std::io::Read;
use std::sync::Arc;

use futures_util::StreamExt;
use tokio::sync::Semaphore;

use super::config::ImageConfig;
use super::lease::Lease;
use super::progress::{ProgressSink, Throttle};
use super::store::{ImageRecord, LayerRecord};
use super::{now_rfc3339, ImageError, ImageService};
use crate::content::Digest;
use crate::distribution::manifest::{self, Descriptor, Manifest, Parsed, Platform};
use crate::distribution::{Credentials, Repository};
use crate::events::{Event, ObjectType};
use crate::reference::ImageRef;
use crate::snapshots::chain_ids;

/// Layers downloaded at once, as dockerd's `max-concurrent-downloads`.
const CONCURRENT_DOWNLOADS: usize = 3;

/// A resolved pull: everything known before any layer moves. Resolution
/// errors (no such tag, registry unreachable) surface before the progress
/// stream starts, so the API can answer them with a status code.
pub struct PullPlan {
    service: ImageService,
    reference: ImageRef,
    repo: Repository,
    /// The digest the registry knows this reference by (the index's, for
    /// multi-platform images): the image's RepoDigest.
    top_digest: Digest,
    manifest: Manifest,
    manifest_bytes: Vec<u8>,
    config_bytes: Vec<u8>,
    config: ImageConfig,
}

impl ImageService {
    pub async fn resolve_pull(
        &self,
        reference: ImageRef,
        platform: Option<Platform>,
        creds: Option<Credentials>,
    ) -> Result<PullPlan, ImageError> {
        let repo = self.inner.registry.repository(reference.domain(), reference.repository(), creds).await?;
        let display = reference.to_string();
        let wanted = platform.clone().unwrap_or_else(Platform::host);
        let tag_or_digest = reference.digest().or(reference.tag()).unwrap_or("latest").to_string();
        let (ct, body, top_digest) = repo.manifest(&tag_or_digest, &display).await?;
        let parse = |ct: &str, body: &[u8]| {
            manifest::parse(ct, body).map_err(|source| crate::distribution::DistributionError::Manifest {
                reference: display.clone(),
                source,
            })
        };
        let (manifest, manifest_bytes) = match parse(&ct, &body)? {
            Parsed::Manifest(m) => (m, body),
            Parsed::Index(index) => {
                let entry = index.select(&wanted).ok_or_else(|| {
                    ImageError::NotFound(format!(
                        "{}: no matching manifest for {wanted} in the manifest list entries",
                        reference.familiar()
                    ))
                })?;
                let (ct, body, _) = repo.manifest(entry.digest.as_str(), &display).await?;
                match parse(&ct, &body)? {
                    Parsed::Manifest(m) => (m, body),
                    Parsed::Index(_) => return Err(ImageError::InvalidParameter(format!("{display}: nested index"))),
                }
            }
        };
        let config_bytes = self.fetch_small(&repo, &manifest.config, &display).await?;
        let config = ImageConfig::parse(&config_bytes)
            .map_err(|source| ImageError::Config { id: manifest.config.digest.clone(), source })?;
        if config.rootfs.diff_ids.len() != manifest.layers.len() {
            return Err(ImageError::InvalidParameter(format!(
                "{display}: manifest lists {} layers but the config {}",
                manifest.layers.len(),
                config.rootfs.diff_ids.len()
            )));
        }
        if let Some(p) = platform {
            let actual = Platform {
                architecture: config.architecture.clone(),
                os: config.os.clone(),
                variant: config.variant.clone(),
                os_version: None,
            };
            if !actual.satisfies(&p) {
                return Err(ImageError::NotFound(format!(
                    "image with reference {} was found but does not match the specified platform: wanted {p}, actual: {actual}",
                    reference.familiar()
                )));
            }
        }
        Ok(PullPlan {
            service: self.clone(),
            reference,
            repo,
            top_digest,
            manifest,
            manifest_bytes,
            config_bytes,
            config,
        })
    }

    /// Fetches a small blob (a config) into memory, verifying its digest.
    async fn fetch_small(&self, repo: &Repository, desc: &Descriptor, display: &str) -> Result<Vec<u8>, ImageError> {
        if let Ok(bytes) = self.inner.content.read(&desc.digest) {
            return Ok(bytes);
        }
        let res = repo.blob(&desc.digest, display).await?;
        let bytes = res
            .bytes()
            .await
            .map_err(|source| crate::distribution::DistributionError::Http { url: desc.digest.to_string(), source })?;
        let actual = Digest::of(&bytes);
        if actual != desc.digest {
            return Err(crate::content::ContentError::DigestMismatch { expected: desc.digest.clone(), actual }.into());
        }
        Ok(bytes.to_vec())
    }
}

impl PullPlan {
    /// Downloads and unpacks what is missing, then records the image.
    pub async fn execute(self, progress: &ProgressSink) -> Result<Digest, ImageError> {
        let svc = self.service.clone();
        let tag_or_digest = self.reference.digest().or(self.reference.tag()).unwrap_or("latest").to_string();
        // The repository path without the registry, as dockerd says it (`library/busybox`).
        progress.status(Some(&tag_or_digest), format!("Pulling from {}", self.reference.repository()));

        let diff_ids = self.config.rootfs.diff_ids.clone();
        let chains = chain_ids(&diff_ids);
        let id = self.manifest.config.digest.clone();
        let mut digests: Vec<Digest> = chains.clone();
        digests.push(id.clone());
        digests.extend(self.manifest.layers.iter().map(|l| l.digest.clone()));
        digests.push(Digest::of(&self.manifest_bytes));
        let _lease = Lease::take(&svc, digests);

        let was_present = svc.index().images.contains_key(&id);
        let semaphore = Arc::new(Semaphore::new(CONCURRENT_DOWNLOADS));
        let mut tasks = tokio::task::JoinSet::new();
        for ((desc, diff_id), chain) in self.manifest.layers.iter().zip(&diff_ids).zip(&chains) {
            let short = desc.digest.short().to_string();
            if svc.inner.snapshots.contains(chain) {
                progress.status(Some(&short), "Already exists");
                continue;
            }
            progress.status(Some(&short), "Pulling fs layer");
            let job = LayerJob {
                service: svc.clone(),
                repo: self.repo.clone(),
                desc: desc.clone(),
                diff_id: diff_id.clone(),
                chain: chain.clone(),
                display: self.reference.to_string(),
                progress: progress.clone(),
            };
            let semaphore = semaphore.clone();
            tasks.spawn(async move {
                let _permit = semaphore.acquire_owned().await;
                job.run().await
            });
        }
        while let Some(done) = tasks.join_next().await {
            // Dropping the set on error cancels the other downloads.
            done.map_err(|e| ImageError::Internal(format!("layer task failed: {e}")))??;
        }

        svc.inner.content.write_bytes(&self.config_bytes)?;
        let manifest_digest = svc.inner.content.write_bytes(&self.manifest_bytes)?;
        let layers = self
            .manifest
            .layers
            .iter()
            .zip(&diff_ids)
            .map(|(d, diff_id)| LayerRecord {
                diff_id: diff_id.clone(),
                blob: Some(d.digest.clone()),
                media_type: d.media_type.clone(),
                blob_size: d.size,
            })
            .collect();
        let repo_digest = format!("{}@{}", self.reference.name(), self.top_digest);
        let tag_ref = self.reference.tag().map(|_| self.reference.with_tag(self.reference.tag().unwrap_or("latest")));
        let retagged = svc.update(|idx| {
            let record = idx.images.entry(id.clone()).or_insert_with(|| ImageRecord {
                id: id.clone(),
                layers,
                repo_digests: Default::default(),
                manifest: Some(manifest_digest.clone()),
                last_tag_time: None,
                parent: None,
            });
            record.repo_digests.insert(repo_digest);
            let mut retagged = false;
            if let Some(t) = &tag_ref {
                retagged = idx.tags.insert(t.to_string(), id.clone()).as_ref() != Some(&id);
                if retagged {
                    if let Some(r) = idx.images.get_mut(&id) {
                        r.last_tag_time = Some(now_rfc3339());
                    }
                }
            }
            Ok(retagged)
        })?;

        let familiar = self.reference.familiar();
        let mut attrs = self.config.labels();
        attrs.insert("name".into(), familiar.clone());
        svc.inner.events.publish(Event::now(ObjectType::Image, "pull", familiar.clone(), attrs));
        progress.status(None, format!("Digest: {}", self.top_digest));
        let shown = self.reference.to_string();
        if was_present && !retagged {
            progress.status(None, format!("Status: Image is up to date for {shown}"));
        } else {
            progress.status(None, format!("Status: Downloaded newer image for {shown}"));
        }
        Ok(id)
    }
}

struct LayerJob {
    service: ImageService,
    repo: Repository,
    desc: Descriptor,
    diff_id: Digest,
    chain: Digest,
    display: String,
    progress: ProgressSink,
}

impl LayerJob {
    async fn run(self) -> Result<(), ImageError> {
        let short = self.desc.digest.short().to_string();
        let content = &self.service.inner.content;
        if !content.contains(&self.desc.digest) {
            let res = self.repo.blob(&self.desc.digest, &self.display).await?;
            let total = Some(self.desc.size).filter(|s| *s > 0).or(res.content_length());
            let mut throttle = Throttle::new();
            let progress = self.progress.clone();
            let stream = res.bytes_stream().boxed();
            content
                .write_stream(&self.desc.digest, total, stream, |n| {
                    if throttle.ready() {
                        progress.bytes(&short, "Downloading", n, total);
                    }
                })
                .await?;
            self.progress.status(Some(&short), "Verifying Checksum");
        }
        self.progress.status(Some(&short), "Download complete");

        let path = content.path(&self.desc.digest);
        let total = content.size(&self.desc.digest).ok();
        let snapshots = self.service.inner.snapshots.clone();
        let progress = self.progress.clone();
        let (chain, diff_id, id) = (self.chain.clone(), self.diff_id.clone(), short.clone());
        tokio::task::spawn_blocking(move || -> Result<(), ImageError> {
            let file = std::fs::File::open(&path).map_err(|source| crate::content::ContentError::Io {
                action: "open",
                path: path.clone(),
                source,
            })?;
            let reader = Counting { inner: file, read: 0, throttle: Throttle::new(), progress, id, total };
            snapshots.unpack(&chain, &diff_id, reader)?;
            Ok(())
        })
        .await
        .map_err(|e| ImageError::Internal(format!("unpack task failed: {e}")))??;
        self.progress.status(Some(&short), "Pull complete");
        Ok(())
    }
}

/// Reports "Extracting" progress as the compressed blob is read.
struct Counting<R> {
    inner: R,
    read: u64,
    throttle: Throttle,
    progress: ProgressSink,
    id: String,
    total: Option<u64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.throttle.ready() {
            self.progress.bytes(&self.id, "Extracting", self.read, self.total);
        }
        Ok(n)
    }
}
