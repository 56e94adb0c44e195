// Sample engine data for the mock backend (dev server in a browser, component tests).
import type { ContainerSummary, EngineStatus, ImageSummary } from '../lib/types';

const NOW = Math.floor(Date.now() / 1000);
let seq = 0;
export const fakeId = () => (++seq).toString(16).padStart(8, '0').repeat(8);

export function container(
  name: string,
  image: string,
  opts: { project?: string; service?: string; state?: string; status?: string; ports?: ContainerSummary['Ports'] } = {},
): ContainerSummary {
  const Labels: Record<string, string> = {};
  if (opts.project) Labels['com.docker.compose.project'] = opts.project;
  if (opts.service) Labels['com.docker.compose.service'] = opts.service;
  const state = opts.state ?? 'running';
  return {
    Id: fakeId(),
    Names: ['/' + name],
    Image: image,
    ImageID: imageId(image),
    Command: 'docker-entrypoint.sh',
    Created: NOW - 3600,
    State: state,
    Status: opts.status ?? (state === 'running' ? 'Up 2 minutes' : 'Exited (0) 5 minutes ago'),
    Ports: opts.ports ?? [],
    Labels,
  };
}

const imageIds = new Map<string, string>();
export function imageId(ref: string): string {
  if (!imageIds.has(ref)) imageIds.set(ref, 'sha256:' + fakeId());
  return imageIds.get(ref)!;
}

export function image(ref: string | null, size: number, ageDays = 3): ImageSummary {
  return {
    Id: ref ? imageId(ref) : 'sha256:' + fakeId(),
    RepoTags: ref ? [ref] : null,
    RepoDigests: [],
    Created: NOW - ageDays * 86400,
    Size: size,
    Containers: -1,
  };
}

export function sampleContainers(extra = 0): ContainerSummary[] {
  const list = [
    container('shop-web-1', 'nginx:1.27', {
      project: 'shop',
      service: 'web',
      status: 'Up 2 minutes (healthy)',
      ports: [
        { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      ],
    }),
    container('shop-db-1', 'postgres:16', { project: 'shop', service: 'db', ports: [{ PrivatePort: 5432, Type: 'tcp' }] }),
    container('shop-worker-1', 'alpine:3.20', { project: 'shop', service: 'worker', state: 'exited' }),
    container('blog-app-1', 'alpine:3.20', { project: 'blog', service: 'app', status: 'Up 10 seconds (health: starting)' }),
    container('scratchpad', 'alpine:3.20', { state: 'exited', status: 'Exited (137) 2 hours ago' }),
  ];
  for (let i = 0; i < extra; i++) {
    list.push(container(`load-${i}`, 'alpine:3.20', { project: `stack${i % 20}`, service: `svc${i % 7}`, state: i % 3 ? 'running' : 'exited' }));
  }
  return list;
}

export const sampleImages = (): ImageSummary[] => [
  image('nginx:1.27', 192_000_000),
  image('postgres:16', 438_000_000, 20),
  image('alpine:3.20', 7_800_000, 60),
  image(null, 12_000_000, 90),
];

export const runningStatus = (): EngineStatus => ({
  state: 'running',
  host: 'unix:///run/berth/berth.sock',
  version: '0.1.0-mock',
  apiVersion: '1.47',
  os: 'linux',
  managed: true,
  message: null,
  startHint: null,
});

export const stoppedStatus = (): EngineStatus => ({
  state: 'unreachable',
  host: 'unix:///run/berth/berth.sock',
  version: null,
  apiVersion: null,
  os: null,
  managed: false,
  message: 'connect: no such file or directory',
  startHint: 'sudo systemctl start berthd',
});

export const sampleDf = () => ({
  LayersSize: 640_000_000,
  Images: [
    { Size: 192_000_000, SharedSize: 0, Containers: 1 },
    { Size: 438_000_000, SharedSize: 0, Containers: 1 },
  ],
  Containers: [{ SizeRw: 1200, State: 'running' }, { SizeRw: 5000, State: 'exited' }],
  Volumes: [{ UsageData: { Size: 52_000_000, RefCount: 1 } }],
  BuildCache: [],
});
