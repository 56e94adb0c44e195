// Pure display helpers. No Svelte, no Tauri: everything here is unit-tested.
import type { ContainerSummary, Health, Port, PortLink } from './types';

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** Decimal units as the docker CLI prints them: 1500000 → "1.5 MB". */
export function formatBytes(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n) || n < 0) return '—';
  let i = 0;
  let v = n;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  // Three significant digits, but never exponent notation and no trailing ".0".
  const shown = i === 0 ? String(Math.round(v)) : String(parseFloat(v.toPrecision(3)));
  return `${shown} ${UNITS[i]}`;
}

const STEPS: [limit: number, seconds: number, unit: string][] = [
  [3600, 60, 'minute'],
  [86400, 3600, 'hour'],
  [86400 * 30, 86400, 'day'],
  [86400 * 365, 86400 * 30, 'month'],
  [Infinity, 86400 * 365, 'year'],
];

/** "3 minutes ago" for a unix timestamp in seconds; `nowMs` is injectable for tests. */
export function relativeTime(unixSeconds: number, nowMs: number = Date.now()): string {
  if (!Number.isFinite(unixSeconds) || unixSeconds <= 0) return '—';
  const diff = Math.floor(nowMs / 1000 - unixSeconds);
  if (diff < 60) return diff < -60 ? 'in the future' : 'just now';
  for (const [limit, seconds, unit] of STEPS) {
    if (diff < limit) {
      const count = Math.floor(diff / seconds);
      return count === 1 ? `1 ${unit} ago` : `${count} ${unit}s ago`;
    }
  }
  return '—';
}

/** First 12 hex digits of an id, without the "sha256:" prefix. */
export function shortId(id: string | null | undefined): string {
  if (!id) return '';
  const hex = id.startsWith('sha256:') ? id.slice(7) : id;
  return hex.slice(0, 12);
}

/** The container's primary name without Docker's leading slash. */
export function containerName(c: Pick<ContainerSummary, 'Names' | 'Id'>): string {
  const names = c.Names ?? [];
  // Legacy links show up as "/other/alias"; prefer a name without a second slash.
  const primary = names.find((n) => n.lastIndexOf('/') === 0) ?? names[0];
  if (!primary) return shortId(c.Id);
  return primary.startsWith('/') ? primary.slice(1) : primary;
}

/** Ports as display labels and links; IPv4/IPv6 duplicates collapse, published ports first. */
export function portLinks(ports: Port[] | null | undefined): PortLink[] {
  const seen = new Set<string>();
  const sorted = [...(ports ?? [])].sort(
    (a, b) =>
      Number(b.PublicPort != null) - Number(a.PublicPort != null) ||
      (a.PublicPort ?? 0) - (b.PublicPort ?? 0) ||
      a.PrivatePort - b.PrivatePort ||
      a.Type.localeCompare(b.Type),
  );
  const out: PortLink[] = [];
  for (const p of sorted) {
    const type = (p.Type || 'tcp').toLowerCase();
    const label = p.PublicPort
      ? `${p.PublicPort}→${p.PrivatePort}/${type}`
      : `${p.PrivatePort}/${type}`;
    if (seen.has(label)) continue;
    seen.add(label);
    const url = p.PublicPort && type === 'tcp' ? `http://localhost:${p.PublicPort}` : null;
    out.push({ label, url });
  }
  return out;
}

export interface ImageRef {
  repo: string;
  tag: string | null;
  digest: string | null;
}

/** "registry:5000/a/b:1.0" → repo "registry:5000/a/b", tag "1.0"; digests are kept apart. */
export function splitImageRef(ref: string): ImageRef {
  let rest = ref.trim();
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  // A colon before the last slash is a registry port, not a tag.
  if (colon > slash) {
    return { repo: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  }
  return { repo: rest, tag: null, digest };
}

/** Adds ":latest" when a reference names neither a tag nor a digest (as `docker pull` does). */
export function normalizeRef(ref: string): string {
  const r = splitImageRef(ref);
  if (!r.repo) return '';
  if (r.digest) return `${r.repo}${r.tag ? ':' + r.tag : ''}@${r.digest}`;
  return `${r.repo}:${r.tag ?? 'latest'}`;
}

export interface ParsedStatus {
  state: string;
  health: Health;
  exitCode: number | null;
}

/** Docker's State plus what only the Status text tells: health and exit code. */
export function parseStatus(state: string, status: string | null | undefined): ParsedStatus {
  const text = status ?? '';
  let health: Health = null;
  if (/\(healthy\)/i.test(text)) health = 'healthy';
  else if (/\(unhealthy\)/i.test(text)) health = 'unhealthy';
  else if (/\(health: starting\)/i.test(text)) health = 'starting';
  const exit = /^Exited \((-?\d+)\)/i.exec(text);
  return {
    state: (state || 'unknown').toLowerCase(),
    health,
    exitCode: exit ? Number(exit[1]) : null,
  };
}

/** A readable message from a rejected command: never raw JSON, never "[object Object]". */
export function errorMessage(e: unknown): string {
  if (e == null) return 'Unknown error';
  if (typeof e === 'string') return unwrapJsonMessage(e);
  if (e instanceof Error) return e.message || e.name;
  if (typeof e === 'object') {
    const o = e as Record<string, unknown>;
    for (const key of ['message', 'error', 'msg']) {
      if (typeof o[key] === 'string' && o[key]) return o[key] as string;
    }
  }
  return 'Unexpected error';
}

function unwrapJsonMessage(s: string): string {
  const t = s.trim();
  if (!t.startsWith('{')) return t || 'Unknown error';
  try {
    return errorMessage(JSON.parse(t));
  } catch {
    return t;
  }
}

/** A container's mini figures: "3.2% · 12.4 MB", CPU "—" until it is known. */
export function usageLabel(u: { cpuPercent: number | null; memoryUsage: number } | undefined): string {
  if (!u) return '';
  const cpu = u.cpuPercent == null ? '—' : formatPercent(u.cpuPercent / 100);
  return `${cpu} · ${formatBytes(u.memoryUsage)}`;
}

export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return '—';
  return `${(Math.max(0, fraction) * 100).toFixed(fraction < 0.1 ? 1 : 0)}%`;
}
