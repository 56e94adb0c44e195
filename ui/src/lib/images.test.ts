import { describe, expect, it } from 'vitest';
import { diskUsage, imageRows } from './images';
import type { ContainerSummary, ImageSummary } from './types';

const img = (Id: string, RepoTags: string[] | null, extra: Partial<ImageSummary> = {}): ImageSummary => ({
  Id,
  RepoTags,
  RepoDigests: null,
  Created: 1,
  Size: 100,
  Containers: -1,
  ...extra,
});
const ctr = (ImageID: string) => ({ ImageID }) as ContainerSummary;

describe('imageRows', () => {
  const rows = imageRows(
    [
      img('sha256:n', ['nginx:1.27', 'nginx:latest']),
      img('sha256:d', null, { RepoDigests: ['alpine@sha256:ff'] }),
      img('sha256:u', ['<none>:<none>']),
      img('sha256:r', ['localhost:5000/app:v10']),
      img('sha256:r2', ['localhost:5000/app:v9'], { Containers: 2 }),
    ],
    [ctr('sha256:n'), ctr('sha256:n'), ctr('sha256:r')],
  );

  it('makes one row per tag, tagged images first, sorted by repo and tag', () => {
    expect(rows.map((r) => r.ref)).toEqual([
      'localhost:5000/app:v9',
      'localhost:5000/app:v10',
      'nginx:1.27',
      'nginx:latest',
      '<none>:<none>',
      '<none>:<none>',
    ]);
    expect(rows[0]).toMatchObject({ repo: 'localhost:5000/app', tag: 'v9', dangling: false });
  });

  it('gives untagged images a <none> row, with the repo from a digest when known', () => {
    const d = rows.find((r) => r.image.Id === 'sha256:d')!;
    expect(d).toMatchObject({ repo: 'alpine', tag: '<none>', dangling: true });
    expect(rows.find((r) => r.image.Id === 'sha256:u')!.repo).toBe('<none>');
  });

  it('counts users from the container list, falling back to the engine count', () => {
    const inUse = Object.fromEntries(rows.map((r) => [r.ref + r.image.Id, r.inUse]));
    expect(inUse['nginx:latestsha256:n']).toBe(2);
    expect(inUse['localhost:5000/app:v10sha256:r']).toBe(1);
    expect(inUse['localhost:5000/app:v9sha256:r2']).toBe(2);
    expect(inUse['<none>:<none>sha256:u']).toBe(0); // -1 means "not counted"
  });

  it('keeps keys unique', () => {
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
  });
});

describe('diskUsage', () => {
  it('summarises system df like the docker CLI', () => {
    const rows = diskUsage({
      LayersSize: 1000,
      Images: [
        { Size: 600, SharedSize: 100, Containers: 1 },
        { Size: 500, SharedSize: 100, Containers: 0 },
      ],
      Containers: [
        { SizeRw: 10, State: 'running' },
        { SizeRw: 30, State: 'exited' },
      ],
      Volumes: [{ UsageData: { Size: 50, RefCount: 1 } }, { UsageData: { Size: 70, RefCount: 0 } }, { UsageData: null }],
      BuildCache: [
        { Size: 5, InUse: true },
        { Size: 20, InUse: false },
      ],
    });
    expect(rows).toEqual([
      { what: 'images', label: 'Images', total: 2, active: 1, size: 1000, reclaimable: 500 },
      { what: 'containers', label: 'Containers', total: 2, active: 1, size: 40, reclaimable: 30 },
      { what: 'volumes', label: 'Local volumes', total: 3, active: 1, size: 120, reclaimable: 70 },
      { what: 'build', label: 'Build cache', total: 2, active: 1, size: 25, reclaimable: 20 },
    ]);
  });

  it('accepts an empty or sparse answer', () => {
    const rows = diskUsage({ Images: null, Volumes: [{ UsageData: { Size: -1, RefCount: -1 } }] });
    expect(rows.map((r) => r.size)).toEqual([0, 0, 0, 0]);
    expect(rows.every((r) => r.reclaimable === 0)).toBe(true);
    expect(rows[2].total).toBe(1);
  });
});
