//! `docker push`: upload the layers the registry lacks (or mount them from
//! another repository on it), the config, then the manifest under the tag.

use futures_util::TryStreamExt;

use super::progress::{ProgressSink, Pushed, Throttle};
use super::store::ImageRecord;
use super::{not_found, ImageError, ImageService};
use crate::content::Digest;
use crate::distribution::manifest::{self, Descriptor, Manifest, Parsed, DOCKER_MANIFEST};
use crate::distribution::{Credentials, Repository};
use crate::reference::ImageRef;

const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// What a push will send: the repository and each tag's image.
pub struct PushPlan {
    service: ImageService,
    repo_ref: ImageRef,
    images: Vec<(ImageRef, ImageRecord)>,
    creds: Option<Credentials>,
}

impl ImageService {
    /// `name` with `tag`, or every tag of the repository when `tag` is `None`.
    pub fn resolve_push(
        &self,
        name: &ImageRef,
        tag: Option<&str>,
        creds: Option<Credentials>,
    ) -> Result<PushPlan, ImageError> {
        let index = self.index();
        let wanted: Vec<ImageRef> = match tag {
            Some(t) => vec![name.with_tag(t)],
            None => {
                index.tags.keys().filter_map(|t| ImageRef::parse(t).ok()).filter(|r| r.name() == name.name()).collect()
            }
        };
        if wanted.is_empty() {
            return Err(ImageError::NotFound(format!(
                "An image does not exist locally with the tag: {}",
                name.familiar_name()
            )));
        }
        let mut images = Vec::new();
        for r in wanted {
            let id = index.tags.get(&r.to_string()).ok_or_else(|| not_found(&r.to_string()))?;
            images.push((r, index.images[id].clone()));
        }
        Ok(PushPlan { service: self.clone(), repo_ref: name.clone(), images, creds })
    }
}

impl PushPlan {
    pub async fn execute(self, progress: &ProgressSink) -> Result<(), ImageError> {
        let svc = &self.service;
        progress.status(None, format!("The push refers to repository [{}]", self.repo_ref.name()));
        let repo = svc
            .inner
            .registry
            .repository(self.repo_ref.domain(), self.repo_ref.repository(), self.creds.clone())
            .await?;
        for (reference, record) in &self.images {
            for layer in record.layers.iter().rev() {
                let blob = layer.blob.as_ref().ok_or_else(|| {
                    ImageError::Internal(format!("layer {} has no stored blob to push", layer.diff_id))
                })?;
                self.push_layer(&repo, blob, progress).await?;
            }
            if !repo.blob_exists(&record.id).await? {
                let bytes = svc.inner.content.read(&record.id)?;
                let location = repo.start_upload(None).await?.unwrap_or_default();
                repo.finish_upload(&location, &record.id, bytes.len() as u64, bytes.into()).await?;
            }
            let (media_type, body) = self.manifest_for(record)?;
            let tag = reference.tag().unwrap_or("latest");
            let digest = repo.put_manifest(tag, &media_type, &body).await?;
            let repo_digest = format!("{}@{digest}", reference.name());
            svc.update(|idx| {
                if let Some(r) = idx.images.get_mut(&record.id) {
                    r.repo_digests.insert(repo_digest);
                }
                Ok(())
            })?;
            svc.emit(&record.id, "push", &reference.familiar());
            progress.pushed(Pushed { tag: tag.into(), digest: digest.to_string(), size: body.len() as u64 });
        }
        Ok(())
    }

    async fn push_layer(&self, repo: &Repository, blob: &Digest, progress: &ProgressSink) -> Result<(), ImageError> {
        let short = blob.short().to_string();
        progress.status(Some(&short), "Preparing");
        if repo.blob_exists(blob).await? {
            progress.status(Some(&short), "Layer already exists");
            return Ok(());
        }
        let source = self.mount_source(blob);
        let location = match repo.start_upload(source.as_ref().map(|s| (blob, s.as_str()))).await? {
            None => {
                progress.status(Some(&short), format!("Mounted from {}", source.unwrap_or_default()));
                return Ok(());
            }
            Some(l) => l,
        };
        let content = &self.service.inner.content;
        let size = content.size(blob)?;
        let path = content.path(blob);
        let file = tokio::fs::File::open(&path).await.map_err(|source| crate::content::ContentError::Io {
            action: "open",
            path: path.clone(),
            source,
        })?;
        let mut sent = 0u64;
        let mut throttle = Throttle::new();
        let progress_bytes = progress.clone();
        let id = short.clone();
        let stream = tokio_util::io::ReaderStream::new(file).inspect_ok(move |chunk| {
            sent += chunk.len() as u64;
            if throttle.ready() {
                progress_bytes.bytes(&id, "Pushing", sent, Some(size));
            }
        });
        repo.finish_upload(&location, blob, size, reqwest::Body::wrap_stream(stream)).await?;
        progress.status(Some(&short), "Pushed");
        Ok(())
    }

    /// Another repository on the same registry this blob came from.
    fn mount_source(&self, blob: &Digest) -> Option<String> {
        let index = self.service.index();
        index
            .images
            .values()
            .filter(|i| i.layers.iter().any(|l| l.blob.as_ref() == Some(blob)))
            .flat_map(|i| i.repo_digests.iter())
            .filter_map(|d| ImageRef::parse(d).ok())
            .find(|r| r.domain() == self.repo_ref.domain() && r.repository() != self.repo_ref.repository())
            .map(|r| r.repository().to_string())
    }

    /// The manifest the image was pulled with, or a Docker schema2
    /// manifest built from its records.
    fn manifest_for(&self, record: &ImageRecord) -> Result<(String, Vec<u8>), ImageError> {
        let content = &self.service.inner.content;
        if let Some(bytes) = record.manifest.as_ref().and_then(|m| content.read(m).ok()) {
            if let Ok(Parsed::Manifest(m)) = manifest::parse("", &bytes) {
                let media_type = if m.media_type.is_empty() { DOCKER_MANIFEST.to_string() } else { m.media_type };
                return Ok((media_type, bytes));
            }
        }
        let config_size = content.size(&record.id)?;
        let layers = record
            .layers
            .iter()
            .map(|l| Descriptor {
                media_type: if l.media_type.is_empty() { DOCKER_LAYER_GZIP.into() } else { l.media_type.clone() },
                digest: l.blob.clone().unwrap_or_else(|| l.diff_id.clone()),
                size: l.blob_size,
                platform: None,
                annotations: None,
            })
            .collect();
        let m = Manifest {
            schema_version: 2,
            media_type: DOCKER_MANIFEST.into(),
            config: Descriptor {
                media_type: DOCKER_CONFIG.into(),
                digest: record.id.clone(),
                size: config_size,
                platform: None,
                annotations: None,
            },
            layers,
        };
        let body =
            serde_json::to_vec(&m).map_err(|e| ImageError::Internal(format!("failed to encode manifest: {e}")))?;
        Ok((DOCKER_MANIFEST.into(), body))
    }
}
