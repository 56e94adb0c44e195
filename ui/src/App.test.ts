// @vitest-environment happy-dom
// Mounts the real App against the mock backend and checks the selectors the end-to-end tests use.
import { clearMocks } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MockOptions } from './dev/mock';

let app: Record<string, unknown> | null = null;
// Svelte is re-imported with the app after resetModules, so mount/flush must come from that copy.
let svelte: typeof import('svelte');
const flushSync = () => svelte.flushSync();

async function start(opts: MockOptions = {}) {
  vi.resetModules(); // a fresh store for every test
  svelte = await import('svelte');
  const { installMock } = await import('./dev/mock');
  installMock({ delayMs: 1, ...opts });
  const { default: App } = await import('./App.svelte');
  document.body.innerHTML = '<div id="app"></div>';
  app = svelte.mount(App, { target: document.getElementById('app')! });
}

afterEach(() => {
  if (app) svelte.unmount(app);
  app = null;
  clearMocks();
});

const $ = (sel: string, root: ParentNode = document) => root.querySelector<HTMLElement>(sel);
const $$ = (sel: string, root: ParentNode = document) => [...root.querySelectorAll<HTMLElement>(sel)];

async function until<T>(probe: () => T | null | undefined | false, what: string, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    flushSync();
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${document.body.innerHTML.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const row = (name: string) => $(`[data-testid="container-row"][data-name="${name}"]`);
const text = (el: HTMLElement | null) => el?.textContent?.trim() ?? '';

function type(el: HTMLElement | null, value: string) {
  const input = el as HTMLInputElement;
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  flushSync();
}

describe('App against the mock engine', () => {
  it('lists containers grouped by project with the e2e selectors', async () => {
    await start();
    await until(() => row('shop-web-1'), 'container rows');
    for (const nav of ['containers', 'images', 'engine']) expect($(`[data-testid="nav-${nav}"]`)).not.toBeNull();
    expect(text($('[data-testid="engine-state"]'))).toBe('running');
    expect($$('[data-testid="project-group"]').map((g) => g.dataset.project)).toEqual(['blog', 'shop', '']);
    expect($$('[data-testid="container-row"]').map((r) => r.dataset.name)).toEqual([
      'blog-app-1',
      'shop-db-1',
      'shop-web-1',
      'shop-worker-1',
      'scratchpad',
    ]);
    const web = row('shop-web-1')!;
    expect(text($('[data-testid="container-state"]', web))).toBe('running');
    expect($('a', web)?.getAttribute('href')).toBe('http://localhost:8080');
    expect($('[data-testid="action-stop"]', web)).not.toBeNull();
    expect($('[data-testid="action-restart"]', web)).not.toBeNull();
    expect($('[data-testid="action-remove"]', web)).not.toBeNull();
    expect($('[data-testid="action-start"]', row('scratchpad')!)).not.toBeNull();

    type($('[data-testid="search"]'), 'POSTGRES');
    expect($$('[data-testid="container-row"]').map((r) => r.dataset.name)).toEqual(['shop-db-1']);
  });

  it('refreshes a row from engine events after an action', async () => {
    await start();
    const web = await until(() => row('shop-web-1'), 'rows');
    $('[data-testid="action-stop"]', web)!.click();
    await until(() => text($('[data-testid="container-state"]', row('shop-web-1')!)) === 'exited', 'exited state');
    $('[data-testid="action-start"]', row('shop-web-1')!)!.click();
    await until(() => text($('[data-testid="container-state"]', row('shop-web-1')!)) === 'running', 'running state');
  });

  it('shows a failed command as an error banner', async () => {
    await start();
    const remove = $('[data-testid="action-remove"]', await until(() => row('shop-db-1'), 'rows'))!;
    remove.click(); // arms the confirmation
    flushSync();
    expect(document.querySelector('[data-testid="error"]')).toBeNull();
    remove.click();
    const err = await until(() => $('[data-testid="error"]'), 'error banner');
    expect(text(err)).toContain('container is running');
    expect(text(err)).not.toContain('{');
    expect(row('shop-db-1')).not.toBeNull();
  });

  it('opens the detail view with logs, inspect and back', async () => {
    await start();
    $('[data-testid="container-name"]', await until(() => row('shop-db-1'), 'rows'))!.click();
    const lines = await until(() => $$('[data-testid="log-line"]').length >= 20 && $$('[data-testid="log-line"]'), 'log lines');
    expect(text(lines[0])).toContain('log line 1');
    expect($('[data-testid="logs"]')).not.toBeNull();
    $('[data-testid="tab-inspect"]')!.click();
    await until(() => text($('[data-testid="inspect"]')).includes('Config'), 'inspect tree');
    $('[data-testid="tab-stats"]')!.click();
    await until(() => text($('[data-testid="stats-cpu"]')).includes('%'), 'stats');
    $('[data-testid="back"]')!.click();
    await until(() => row('shop-db-1'), 'list again');
  });

  it('pulls an image with per-layer progress and lists it', async () => {
    await start();
    $('[data-testid="nav-images"]')!.click();
    await until(() => $('[data-testid="image-row"][data-tag="nginx:1.27"]'), 'image rows');
    expect($('[data-testid="image-row"][data-tag="<none>:<none>"]')).not.toBeNull();
    type($('[data-testid="pull-input"]'), 'redis');
    $('[data-testid="pull-button"]')!.click();
    await until(() => $('[data-testid="pull-progress"]'), 'progress');
    const done = await until(() => $('[data-testid="pull-done"]'), 'pull done');
    expect(text(done)).toContain('Status: Downloaded newer image for redis:latest');
    expect($$('[data-testid="layer-progress"]')).toHaveLength(3);
    await until(() => $('[data-testid="image-row"][data-tag="redis:latest"]'), 'new image row');
  });

  it('reports a failed pull', async () => {
    await start();
    $('[data-testid="nav-images"]')!.click();
    type(await until(() => $('[data-testid="pull-input"]'), 'pull input'), 'does-not-exist');
    $('[data-testid="pull-button"]')!.click();
    const err = await until(() => $('[data-testid="error"]'), 'error');
    expect(text(err)).toContain('pull access denied');
    expect($('[data-testid="pull-done"]')).toBeNull();
  });

  it('shows the start hint when the engine is unreachable, and recovers', async () => {
    await start({ offline: true });
    const hint = await until(() => $('[data-testid="start-hint"]'), 'start hint');
    expect(text(hint)).toBe('sudo systemctl start berthd');
    expect(text($('[data-testid="engine-state"]'))).toBe('unreachable');
    expect($('[data-testid="container-row"]')).toBeNull();
  });

  it('shows versions and disk usage in the engine view', async () => {
    await start();
    $('[data-testid="nav-engine"]')!.click();
    await until(() => text($('[data-testid="engine-version"]')) === '0.1.0-mock', 'version');
    await until(() => $$('[data-testid="disk-row"]').length === 4, 'disk rows');
    expect(text($('[data-testid="disk-usage"]'))).toContain('640 MB');
    $('[data-testid="engine-stop"]')!.click();
    await until(() => text($('[data-testid="engine-state"]')) === 'stopped', 'stopped');
  });

  it('renders 200 more containers', async () => {
    await start({ extraContainers: 200 });
    await until(() => $$('[data-testid="container-row"]').length === 205, '205 rows');
    expect($$('[data-testid="project-group"]')).toHaveLength(23);
  });
});
