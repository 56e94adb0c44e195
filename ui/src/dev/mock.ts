// A fake Berth backend behind Tauri's IPC mock: lets `npm run dev` run in a plain browser
// and lets component tests drive the real UI. Never part of the production bundle.
import { mockIPC } from '@tauri-apps/api/mocks';
import { HUB_KEY, TOKEN_USERNAME } from '../lib/registries';
import type { ContainerSummary, DockerEvent, EngineStatus, PullMessage, RegistryLogin, RunSpec } from '../lib/types';
import * as fx from './fixtures';

export interface MockOptions {
  offline?: boolean; // the engine starts unreachable
  extraContainers?: number; // add N generated containers (performance checks)
  delayMs?: number; // pause between streamed messages
  credsStore?: string | null; // the docker CLI's credsStore (default: none, adopted by the first login)
  keyringError?: string; // the keyring is unavailable: list shows this error, login/logout fail with it
}

interface ChannelLike {
  id: number;
}
type Internals = {
  runCallback: (id: number, data: unknown) => void;
  invoke: (cmd: string, args: unknown) => Promise<unknown>;
};
const internals = () => (window as unknown as { __TAURI_INTERNALS__: Internals }).__TAURI_INTERNALS__;

function channelSender(ch: ChannelLike) {
  let index = 0;
  return {
    send: (message: unknown) => internals().runCallback(ch.id, { message, index: index++ }),
    end: () => internals().runCallback(ch.id, { end: true, index }),
  };
}

/** The key the docker CLI files a registry's logins under (as the Rust side computes it). */
function registryKey(input: string): string {
  const t = input.trim();
  const rest = t.replace(/^https?:\/\//i, '');
  const host = rest.split('/')[0].toLowerCase();
  if (/\s/.test(host) || (!host && rest)) throw `${JSON.stringify(t)} is not a registry address (host or host:port)`;
  return ['', 'docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(host) ? HUB_KEY : host;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const emit = (event: string, payload: unknown) => internals().invoke('plugin:event|emit', { event, payload });

export function installMock(opts: MockOptions = {}) {
  const delay = opts.delayMs ?? 80;
  let status: EngineStatus = opts.offline ? fx.stoppedStatus() : fx.runningStatus();
  let containers = fx.sampleContainers(opts.extraContainers ?? 0);
  let images = fx.sampleImages();
  const follows = new Set<string>();
  // Registry logins: password "wrong" is refused; servers with "token" in their name hand out identity tokens.
  let credsStore = opts.credsStore === undefined ? null : opts.credsStore;
  let logins: RegistryLogin[] = [
    { server: HUB_KEY, username: 'berthdev' },
    { server: 'ghcr.io', username: TOKEN_USERNAME },
  ];
  const keyring = () => {
    if (opts.keyringError) throw opts.keyringError;
  };

  const find = (id: string) => {
    const c = containers.find((x) => x.Id === id || x.Names[0] === '/' + id);
    if (!c) throw `No such container: ${id}`;
    return c;
  };
  const event = (c: ContainerSummary, Action: string, Type = 'container') => {
    const e: DockerEvent = { Type, Action, Actor: { ID: c.Id, Attributes: { name: c.Names[0].slice(1) } }, time: Date.now() / 1000 };
    emit('engine-event', e);
  };
  const setState = (c: ContainerSummary, State: string, Status: string) => {
    containers = containers.map((x) => (x.Id === c.Id ? { ...x, State, Status } : x));
  };
  const needEngine = () => {
    if (status.state !== 'running') throw `Cannot connect to the engine at ${status.host}. Is berthd running?`;
  };

  async function pull(reference: string, ch: ChannelLike) {
    const out = channelSender(ch);
    const [repo, tag = 'latest'] = reference.split(':');
    out.send({ status: `Pulling from library/${repo}`, id: tag });
    if (repo.includes('does-not-exist')) {
      await sleep(delay);
      throw `pull access denied for ${repo}, repository does not exist or may require 'docker login'`;
    }
    const layers = ['a1b2c3d4e5f6', 'f6e5d4c3b2a1'];
    out.send({ status: 'Already exists', id: '000000000000' });
    for (const id of layers) out.send({ status: 'Pulling fs layer', id });
    for (const id of layers) {
      for (let cur = 0; cur <= 4; cur++) {
        await sleep(delay);
        out.send({ status: 'Downloading', id, progressDetail: { current: cur * 250_000, total: 1_000_000 } } satisfies PullMessage);
      }
      out.send({ status: 'Download complete', id });
      out.send({ status: 'Extracting', id, progressDetail: { current: 1_000_000, total: 1_000_000 } });
      out.send({ status: 'Pull complete', id });
    }
    out.send({ status: 'Digest: sha256:' + fx.fakeId() });
    out.send({ status: `Status: Downloaded newer image for ${reference}` });
    out.end();
    if (!images.some((i) => i.RepoTags?.includes(reference))) images = [...images, fx.image(reference, 2_000_000, 0)];
    emit('engine-event', { Type: 'image', Action: 'pull', Actor: { ID: reference, Attributes: {} }, time: Date.now() / 1000 });
  }

  async function logs(id: string, follow: boolean, timestamps: boolean, ch: ChannelLike) {
    const out = channelSender(ch);
    const stamp = () => (timestamps ? new Date().toISOString() + ' ' : '');
    for (let i = 1; i <= 20; i++) out.send({ stream: i % 7 ? 'stdout' : 'stderr', line: `${stamp()}log line ${i} of ${id.slice(0, 6)}` });
    if (follow) {
      follows.add(id);
      let n = 21;
      while (follows.has(id)) {
        await sleep(Math.max(delay * 10, 20));
        if (follows.has(id)) out.send({ stream: 'stdout', line: `${stamp()}log line ${n++} (live)` });
      }
    }
    out.end();
  }

  mockIPC(
    async (cmd, raw) => {
      const args = (raw ?? {}) as Record<string, any>;
      switch (cmd) {
        case 'ui_ready':
        case 'quit_app':
        case 'use_berth_context':
          return null;
        case 'engine_status':
          return status;
        case 'engine_start':
        case 'engine_restart':
          status = fx.runningStatus();
          emit('engine-status', status);
          return status;
        case 'engine_stop':
          status = { ...fx.stoppedStatus(), state: 'stopped', managed: true };
          emit('engine-status', status);
          return status;
        // Logins live in the keyring: listing and logging out work with the engine down.
        case 'list_registries':
          return opts.keyringError
            ? { backend: 'unknown', credsStore, logins: [], error: opts.keyringError }
            : { backend: 'Secret Service', credsStore, logins, error: null };
        case 'registry_logout': {
          const key = registryKey(args.server);
          keyring();
          logins = logins.filter((l) => l.server !== key);
          return null;
        }
      }
      needEngine();
      switch (cmd) {
        case 'list_containers':
          return containers;
        case 'container_action': {
          const c = find(args.id);
          const a = args.action as string;
          if (a === 'remove') {
            if (c.State === 'running') throw `cannot remove container "/${c.Names[0].slice(1)}": container is running: stop the container before removing or force remove`;
            containers = containers.filter((x) => x.Id !== c.Id);
            event(c, 'destroy');
          } else if (a === 'start' || a === 'restart' || a === 'unpause') {
            setState(c, 'running', 'Up Less than a second');
            event(c, a);
          } else if (a === 'stop') {
            setState(c, 'exited', 'Exited (0) Less than a second ago');
            event(c, 'die');
          } else if (a === 'pause') {
            setState(c, 'paused', 'Up 3 minutes (Paused)');
            event(c, 'pause');
          }
          return null;
        }
        case 'container_inspect': {
          const c = find(args.id);
          return { Id: c.Id, Name: c.Names[0], State: { Status: c.State, Running: c.State === 'running' }, Config: { Image: c.Image, Env: ['PATH=/usr/bin'], Labels: c.Labels }, Mounts: [] };
        }
        case 'container_stats':
          find(args.id);
          return { cpuPercent: Math.random() * 40, memoryUsage: 40e6 + Math.random() * 10e6, memoryLimit: 2e9 };
        case 'containers_usage':
          return Object.fromEntries(
            (args.ids as string[]).map((id) => [id, { cpuPercent: Math.random() * 40, memoryUsage: 40e6 + Math.random() * 10e6 }]),
          );
        case 'container_logs':
          find(args.id);
          return logs(args.id, args.follow, args.timestamps, args.onLine);
        case 'stop_logs':
          follows.delete(args.id);
          return null;
        case 'list_images':
          return images;
        case 'pull_image':
          return pull(args.reference, args.onProgress);
        case 'remove_image': {
          const before = images.length;
          images = images.filter((i) => i.Id !== args.id && !i.RepoTags?.includes(args.id));
          if (images.length === before) throw `No such image: ${args.id}`;
          return null;
        }
        case 'prune_images': {
          const dangling = images.filter((i) => !i.RepoTags?.length);
          images = images.filter((i) => i.RepoTags?.length);
          return { deleted: dangling.length, spaceReclaimed: dangling.reduce((n, i) => n + i.Size, 0) };
        }
        case 'run_container': {
          const spec = args.spec as RunSpec;
          const c = fx.container(spec.name ?? 'mock_' + fx.fakeId().slice(0, 6), spec.image);
          containers = [...containers, c];
          event(c, 'create');
          return c.Id;
        }
        case 'system_info':
          return { version: { Version: status.version, ApiVersion: status.apiVersion, Os: 'linux', Arch: 'amd64', KernelVersion: '6.1.0' }, info: { OperatingSystem: 'Debian GNU/Linux 12', NCPU: 2, MemTotal: 8e9, Driver: 'overlayfs', DockerRootDir: '/var/lib/berth', Containers: containers.length, ContainersRunning: containers.filter((c) => c.State === 'running').length, Images: images.length } };
        case 'system_df':
          return fx.sampleDf();
        case 'registry_login': {
          // The engine checks the credentials first (POST /auth), then the keyring keeps them.
          const key = registryKey(args.server);
          if (!String(args.username ?? '').trim() || !args.secret) throw 'Enter a username and a password or token';
          await sleep(delay);
          const base = key === HUB_KEY ? 'https://registry-1.docker.io' : `http://${key}`;
          if (args.secret === 'wrong') throw `login attempt to ${base}/v2/ failed with status: 401 Unauthorized`;
          keyring();
          const identityToken = key.includes('token');
          const username = identityToken ? TOKEN_USERNAME : String(args.username).trim();
          logins = [...logins.filter((l) => l.server !== key), { server: key, username }];
          credsStore ??= 'berth';
          return { server: key, identityToken };
        }
        case 'prune':
          return { spaceReclaimed: args.what === 'containers' ? 5000 : 0 };
      }
      throw `mock backend: unknown command ${cmd}`;
    },
    { shouldMockEvents: true },
  );
}
