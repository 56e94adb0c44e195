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
    expect($$('nav [data-testid^="nav-"]').map((b) => b.dataset.testid)).toEqual([
      'nav-containers',
      'nav-images',
      'nav-registries',
      'nav-engine',
    ]);
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

describe('Registries view against the mock backend', () => {
  const login = (server: string) => $(`[data-testid="registry-row"][data-server="${server}"]`);
  const button = () => $('[data-testid="registry-login"]') as HTMLButtonElement;
  const input = (id: string) => $(`[data-testid="${id}"]`) as HTMLInputElement;

  async function open(opts: MockOptions = {}) {
    await start(opts);
    await until(() => $('[data-testid="engine-state"]')?.textContent?.trim() === (opts.offline ? 'unreachable' : 'running'), 'engine');
    $('[data-testid="nav-registries"]')!.click();
    return until(() => $$('[data-testid="registry-row"]').length > 0 && $$('[data-testid="registry-row"]'), 'registry rows');
  }

  it('lists the logins with the backend, Docker Hub first and identity tokens by name', async () => {
    const rows = await open({ credsStore: 'berth' });
    expect(rows.map((r) => r.dataset.server)).toEqual(['https://index.docker.io/v1/', 'ghcr.io']);
    expect(text(rows[0])).toContain('Docker Hub');
    expect(text($('[data-testid="registry-user"]', rows[0]))).toBe('berthdev');
    expect(text($('[data-testid="registry-user"]', login('ghcr.io')!))).toBe('identity token');
    expect(text(document.querySelector('main'))).not.toContain('<token>');
    expect(text($('[data-testid="registries-backend"]'))).toContain('Secret Service');
    expect($('[data-testid="registries-credsstore-warning"]')).toBeNull();
    expect($('[data-testid="registries-error"]')).toBeNull();
    expect($('[data-testid="registry-logout"]', rows[0])).not.toBeNull();
  });

  it('labels the inputs and enables Log in only with a username and a password', async () => {
    await open();
    const server = input('registry-server');
    expect(server.placeholder).toBe('registry.example.com:5000');
    expect(server.closest('label')?.textContent).toContain('Docker Hub');
    expect(input('registry-username').closest('label')?.textContent).toContain('Username');
    expect(input('registry-password').type).toBe('password');
    expect(input('registry-password').closest('label')?.textContent).toContain('Password or token');
    expect(button().disabled).toBe(true);
    type(input('registry-username'), 'alice');
    expect(button().disabled).toBe(true);
    type(input('registry-password'), 'pw');
    expect(button().disabled).toBe(false);
    type(input('registry-username'), '   ');
    expect(button().disabled).toBe(true);
  });

  it('keeps the inputs and shows the error when a login is refused, then logs in', async () => {
    await open();
    type(input('registry-server'), 'localhost:5000');
    type(input('registry-username'), 'alice');
    type(input('registry-password'), 'wrong');
    input('registry-password').form!.requestSubmit(); // what Enter in a field does
    flushSync();
    expect(button().disabled).toBe(true); // while the engine checks
    const err = await until(() => $('[data-testid="registry-login-error"]'), 'login error');
    expect(text(err)).toBe('login attempt to http://localhost:5000/v2/ failed with status: 401 Unauthorized');
    expect(input('registry-server').value).toBe('localhost:5000');
    expect(input('registry-username').value).toBe('alice');
    expect(input('registry-password').value).toBe('wrong');
    expect($('[data-testid="registry-login-done"]')).toBeNull();
    expect(login('localhost:5000')).toBeNull();

    type(input('registry-password'), 's3cret-pw');
    button().click();
    const done = await until(() => $('[data-testid="registry-login-done"]'), 'login done');
    expect(text(done)).toContain('Login Succeeded');
    expect($('[data-testid="registry-login-error"]')).toBeNull();
    expect(input('registry-password').value).toBe('');
    expect(input('registry-username').value).toBe('alice');
    const row = await until(() => login('localhost:5000'), 'new login row');
    expect(text($('[data-testid="registry-user"]', row))).toBe('alice');
    expect(document.body.innerHTML).not.toContain('s3cret-pw');
    // The first login made Berth's helper the CLI's credential store.
    await until(() => !$('[data-testid="registries-credsstore-warning"]'), 'warning gone');
  });

  it('logs in to Docker Hub with an empty server and stores an identity token when given one', async () => {
    await open({ credsStore: 'berth' });
    type(input('registry-username'), 'bob');
    type(input('registry-password'), 'pw-hub');
    button().click();
    expect(text(await until(() => $('[data-testid="registry-login-done"]'), 'hub login'))).toContain('Docker Hub');
    await until(() => text($('[data-testid="registry-user"]', login('https://index.docker.io/v1/')!)) === 'bob', 'hub user');

    type(input('registry-server'), 'https://token.example.com/v2/');
    type(input('registry-password'), 'pw-token');
    button().click();
    await until(() => text($('[data-testid="registry-login-done"]')).includes('token.example.com'), 'token login');
    await until(() => text($('[data-testid="registry-user"]', login('token.example.com')!)) === 'identity token', 'token user');
  });

  it('logs out after a confirming second click', async () => {
    await open();
    const out = $('[data-testid="registry-logout"]', login('ghcr.io')!)!;
    out.click();
    flushSync();
    expect(out.dataset.armed).toBe('true');
    expect(login('ghcr.io')).not.toBeNull();
    out.click();
    await until(() => !login('ghcr.io'), 'row removed');
    expect(login('https://index.docker.io/v1/')).not.toBeNull();
  });

  it('warns when the docker CLI uses another credential helper', async () => {
    await open({ credsStore: 'desktop' });
    expect(text($('[data-testid="registries-credsstore-warning"]'))).toContain(
      "The docker CLI uses docker-credential-desktop; logins here are kept by Berth's helper",
    );
  });

  it('shows a keyring error prominently, and works with the engine down', async () => {
    await start({ offline: true, keyringError: 'No keyring: the Secret Service is not running. Start gnome-keyring.' });
    await until(() => text($('[data-testid="engine-state"]')) === 'unreachable', 'offline');
    $('[data-testid="nav-registries"]')!.click();
    const err = await until(() => $('[data-testid="registries-error"]'), 'keyring error');
    expect(text(err)).toContain('Start gnome-keyring');
    expect(err.getAttribute('role')).toBe('alert');
    expect($('[data-testid="registries-empty"]')).not.toBeNull();
    expect($('[data-testid="registries-backend"]')).toBeNull();
    expect($('[data-testid="registry-engine-note"]')).not.toBeNull();
    expect($('[data-testid="start-hint"]')).toBeNull();
  });
});
