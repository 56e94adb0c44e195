import { describe, expect, it } from 'vitest';
import {
  containerName,
  errorMessage,
  formatBytes,
  normalizeRef,
  parseStatus,
  portLinks,
  relativeTime,
  shortId,
  splitImageRef,
  usageLabel,
} from './format';

describe('usageLabel', () => {
  it('shows CPU once known, and memory', () => {
    expect(usageLabel({ cpuPercent: 42, memoryUsage: 12_400_000 })).toBe('42% · 12.4 MB');
    expect(usageLabel({ cpuPercent: 0.5, memoryUsage: 900 })).toBe('0.5% · 900 B');
    expect(usageLabel({ cpuPercent: null, memoryUsage: 2_000_000 })).toBe('— · 2 MB');
    expect(usageLabel(undefined)).toBe('');
  });
});

describe('formatBytes', () => {
  it('uses decimal units with three significant digits', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1000)).toBe('1 kB');
    expect(formatBytes(1_500_000)).toBe('1.5 MB');
    expect(formatBytes(187_654_321)).toBe('188 MB');
    expect(formatBytes(12_340_000_000)).toBe('12.3 GB');
    expect(formatBytes(5e18)).toBe('5000 PB');
  });
  it('shows a dash for missing or invalid sizes', () => {
    expect(formatBytes(-1)).toBe('—');
    expect(formatBytes(NaN)).toBe('—');
    expect(formatBytes(undefined)).toBe('—');
  });
});

describe('relativeTime', () => {
  const now = 1_700_000_000_000;
  const ago = (s: number) => now / 1000 - s;
  it('names the largest whole unit', () => {
    expect(relativeTime(ago(10), now)).toBe('just now');
    expect(relativeTime(ago(60), now)).toBe('1 minute ago');
    expect(relativeTime(ago(3 * 60 + 59), now)).toBe('3 minutes ago');
    expect(relativeTime(ago(3600), now)).toBe('1 hour ago');
    expect(relativeTime(ago(5 * 86400), now)).toBe('5 days ago');
    expect(relativeTime(ago(65 * 86400), now)).toBe('2 months ago');
    expect(relativeTime(ago(800 * 86400), now)).toBe('2 years ago');
  });
  it('handles clock skew and missing values', () => {
    expect(relativeTime(ago(-30), now)).toBe('just now');
    expect(relativeTime(ago(-3600), now)).toBe('in the future');
    expect(relativeTime(0, now)).toBe('—');
  });
});

describe('ids and names', () => {
  it('shortens ids and strips the digest algorithm', () => {
    expect(shortId('sha256:0123456789abcdef0123')).toBe('0123456789ab');
    expect(shortId('fedcba9876543210')).toBe('fedcba987654');
    expect(shortId('')).toBe('');
  });
  it('strips the leading slash and skips link aliases', () => {
    expect(containerName({ Id: 'x', Names: ['/web'] })).toBe('web');
    expect(containerName({ Id: 'x', Names: ['/app/db', '/db'] })).toBe('db');
    expect(containerName({ Id: 'abcdef0123456789', Names: [] })).toBe('abcdef012345');
  });
});

describe('portLinks', () => {
  it('links published TCP ports and collapses IPv4/IPv6 duplicates', () => {
    const links = portLinks([
      { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { PrivatePort: 443, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 53, PublicPort: 5353, Type: 'udp' },
    ]);
    expect(links).toEqual([
      { label: '5353→53/udp', url: null },
      { label: '8080→80/tcp', url: 'http://localhost:8080' },
      { label: '443/tcp', url: null },
    ]);
  });
  it('accepts null', () => {
    expect(portLinks(null)).toEqual([]);
  });
});

describe('splitImageRef', () => {
  it('splits repo and tag', () => {
    expect(splitImageRef('nginx:1.27')).toEqual({ repo: 'nginx', tag: '1.27', digest: null });
    expect(splitImageRef('alpine')).toEqual({ repo: 'alpine', tag: null, digest: null });
  });
  it('does not mistake a registry port for a tag', () => {
    expect(splitImageRef('localhost:5000/team/app')).toEqual({
      repo: 'localhost:5000/team/app',
      tag: null,
      digest: null,
    });
    expect(splitImageRef('localhost:5000/app:v2').tag).toBe('v2');
  });
  it('keeps digests apart', () => {
    expect(splitImageRef('redis:7@sha256:abc')).toEqual({ repo: 'redis', tag: '7', digest: 'sha256:abc' });
    expect(splitImageRef('<none>:<none>')).toEqual({ repo: '<none>', tag: '<none>', digest: null });
  });
  it('normalizes like docker pull', () => {
    expect(normalizeRef(' alpine ')).toBe('alpine:latest');
    expect(normalizeRef('a/b:1')).toBe('a/b:1');
    expect(normalizeRef('a@sha256:ff')).toBe('a@sha256:ff');
    expect(normalizeRef('')).toBe('');
  });
});

describe('parseStatus', () => {
  it('reads health from the Status text', () => {
    expect(parseStatus('running', 'Up 2 minutes (healthy)')).toEqual({
      state: 'running',
      health: 'healthy',
      exitCode: null,
    });
    expect(parseStatus('running', 'Up 5 seconds (health: starting)').health).toBe('starting');
    expect(parseStatus('running', 'Up 1 hour (unhealthy)').health).toBe('unhealthy');
    expect(parseStatus('running', 'Up 1 hour').health).toBeNull();
  });
  it('reads the exit code of exited containers', () => {
    expect(parseStatus('exited', 'Exited (137) 3 minutes ago')).toEqual({
      state: 'exited',
      health: null,
      exitCode: 137,
    });
    expect(parseStatus('', undefined)).toEqual({ state: 'unknown', health: null, exitCode: null });
  });
});

describe('errorMessage', () => {
  it('passes plain strings through', () => {
    expect(errorMessage('No such container: web')).toBe('No such container: web');
  });
  it('never shows raw JSON or [object Object]', () => {
    expect(errorMessage('{"message":"conflict: unable to remove"}')).toBe('conflict: unable to remove');
    expect(errorMessage({ message: 'boom' })).toBe('boom');
    expect(errorMessage(new Error('bad'))).toBe('bad');
    expect(errorMessage({ code: 3 })).toBe('Unexpected error');
    expect(errorMessage('{not json')).toBe('{not json');
    expect(errorMessage(null)).toBe('Unknown error');
  });
});
