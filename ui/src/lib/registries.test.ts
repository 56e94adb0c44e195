import { describe, expect, it } from 'vitest';
import {
  credsStoreWarning,
  HUB_KEY,
  isDockerHub,
  loginInput,
  redactSecret,
  registryLabel,
  sortLogins,
  userLabel,
} from './registries';

describe('registryLabel', () => {
  it('names Docker Hub by any of its keys', () => {
    for (const s of [HUB_KEY, 'docker.io', 'index.docker.io', 'https://registry-1.docker.io', 'HTTPS://Index.Docker.IO/v1/']) {
      expect(isDockerHub(s)).toBe(true);
      expect(registryLabel(s)).toBe('Docker Hub');
    }
  });

  it('shows other servers as stored', () => {
    for (const s of ['127.0.0.1:5000', 'ghcr.io', 'registry.example.com:5000', 'docker.io.example.com']) {
      expect(isDockerHub(s)).toBe(false);
      expect(registryLabel(s)).toBe(s);
    }
    expect(isDockerHub('')).toBe(false);
  });
});

describe('userLabel', () => {
  it('shows an identity token as such', () => {
    expect(userLabel('<token>')).toBe('identity token');
    expect(userLabel('alice')).toBe('alice');
    expect(userLabel('<token>x')).toBe('<token>x');
  });
});

describe('sortLogins', () => {
  it('puts Docker Hub first, then servers in natural order, without changing the input', () => {
    const input = [
      { server: 'reg:5010', username: 'a' },
      { server: 'ghcr.io', username: '<token>' },
      { server: HUB_KEY, username: 'b' },
      { server: 'reg:500', username: 'c' },
    ];
    expect(sortLogins(input).map((l) => l.server)).toEqual([HUB_KEY, 'ghcr.io', 'reg:500', 'reg:5010']);
    expect(input[0].server).toBe('reg:5010');
  });
});

describe('credsStoreWarning', () => {
  it('says nothing when the CLI uses our helper', () => {
    expect(credsStoreWarning('berth')).toBeNull();
  });

  it('names the helper the CLI uses instead', () => {
    const w = credsStoreWarning('desktop')!;
    expect(w).toContain('docker-credential-desktop');
    expect(w).toContain("logins here are kept by Berth's helper");
  });

  it('explains that a first login adopts our helper when none is configured', () => {
    for (const v of [null, undefined, '', '  ']) expect(credsStoreWarning(v)).toContain('no credsStore');
  });
});

describe('loginInput', () => {
  it('trims server and username, keeps the secret as typed, empty server for Docker Hub', () => {
    expect(loginInput('  reg:5000 ', ' alice ', ' pw ')).toEqual({ server: 'reg:5000', username: 'alice', secret: ' pw ' });
    expect(loginInput('', 'alice', 'pw')).toEqual({ server: '', username: 'alice', secret: 'pw' });
  });

  it('needs a username and a secret', () => {
    expect(loginInput('reg', '  ', 'pw')).toBeNull();
    expect(loginInput('reg', 'alice', '')).toBeNull();
  });
});

describe('redactSecret', () => {
  it('hides every occurrence of the secret', () => {
    expect(redactSecret('bad password hunter2 for hunter2', 'hunter2')).toBe('bad password •••••• for ••••••');
    expect(redactSecret('401 Unauthorized', 'hunter2')).toBe('401 Unauthorized');
  });

  it('leaves the message alone for very short secrets', () => {
    expect(redactSecret('login failed', 'in')).toBe('login failed');
  });
});
