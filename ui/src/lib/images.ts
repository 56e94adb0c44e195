// Pure view-model helpers for the Images and Engine views.
import { splitImageRef } from './format';
import type { ContainerSummary, ImageSummary, PruneTarget, SystemDf } from './types';

export interface ImageRow {
  key: string;
  image: ImageSummary;
  ref: string; // "repo:tag", or "<none>:<none>" for an untagged image
  repo: string;
  tag: string;
  dangling: boolean;
  inUse: number; // containers (any state) created from this image
}

/** One row per tag, like `docker images`; untagged images get one "<none>" row. */
export function imageRows(images: ImageSummary[], containers: ContainerSummary[]): ImageRow[] {
  const users = new Map<string, number>();
  for (const c of containers) users.set(c.ImageID, (users.get(c.ImageID) ?? 0) + 1);

  const rows: ImageRow[] = [];
  for (const image of images) {
    const inUse = users.get(image.Id) ?? Math.max(0, image.Containers ?? 0);
    const tags = (image.RepoTags ?? []).filter((t) => t && t !== '<none>:<none>');
    if (tags.length === 0) {
      const digestRepo = image.RepoDigests?.[0]?.split('@')[0];
      rows.push({
        key: image.Id,
        image,
        ref: '<none>:<none>',
        repo: digestRepo ?? '<none>',
        tag: '<none>',
        dangling: true,
        inUse,
      });
      continue;
    }
    for (const ref of tags) {
      const { repo, tag } = splitImageRef(ref);
      rows.push({ key: `${image.Id}|${ref}`, image, ref, repo, tag: tag ?? 'latest', dangling: false, inUse });
    }
  }
  const cmp = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });
  return rows.sort(
    (a, b) => Number(a.dangling) - Number(b.dangling) || cmp(a.repo, b.repo) || cmp(a.tag, b.tag) || cmp(a.key, b.key),
  );
}

export interface DiskRow {
  what: PruneTarget;
  label: string;
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

const sum = <T>(list: T[], f: (x: T) => number) => list.reduce((n, x) => n + (f(x) || 0), 0);

/** The four lines of `docker system df`: count, active, size and reclaimable bytes. */
export function diskUsage(df: SystemDf): DiskRow[] {
  const images = df.Images ?? [];
  const containers = df.Containers ?? [];
  const volumes = df.Volumes ?? [];
  const cache = df.BuildCache ?? [];

  const imagesSize = df.LayersSize ?? sum(images, (i) => (i.Size ?? 0) - (i.SharedSize ?? 0));
  const activeImages = images.filter((i) => (i.Containers ?? 0) > 0);
  const activeImagesSize = sum(activeImages, (i) => (i.Size ?? 0) - Math.max(0, i.SharedSize ?? 0));
  const activeContainers = containers.filter((c) => c.State === 'running' || c.State === 'paused');
  const usedVolumes = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0);

  const row = (what: PruneTarget, label: string, total: number, active: number, size: number, used: number) => ({
    what,
    label,
    total,
    active,
    size,
    reclaimable: Math.max(0, size - used),
  });

  return [
    row('images', 'Images', images.length, activeImages.length, imagesSize, activeImagesSize),
    row(
      'containers',
      'Containers',
      containers.length,
      activeContainers.length,
      sum(containers, (c) => c.SizeRw ?? 0),
      sum(activeContainers, (c) => c.SizeRw ?? 0),
    ),
    row(
      'volumes',
      'Local volumes',
      volumes.length,
      usedVolumes.length,
      sum(volumes, (v) => Math.max(0, v.UsageData?.Size ?? 0)),
      sum(usedVolumes, (v) => Math.max(0, v.UsageData?.Size ?? 0)),
    ),
    row(
      'build',
      'Build cache',
      cache.length,
      cache.filter((b) => b.InUse).length,
      sum(cache, (b) => b.Size ?? 0),
      sum(cache.filter((b) => b.InUse), (b) => b.Size ?? 0),
    ),
  ];
}
