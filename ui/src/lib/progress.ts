// Pure reducer for Docker's image pull progress stream (POST /images/create).
import type { PullMessage } from './types';

export type LayerPhase = 'waiting' | 'downloading' | 'downloaded' | 'extracting' | 'complete';

export interface LayerProgress {
  status: string; // Docker's last status text for the layer
  phase: LayerPhase;
  current: number; // bytes done in the current phase
  total: number; // layer size in bytes, 0 while unknown
}

export interface PullState {
  layers: Record<string, LayerProgress>;
  order: string[]; // layer ids in the order Docker announced them
  lines: string[]; // status lines that are not about one layer
  digest: string | null;
  done: boolean; // the final "Status: ..." line arrived
  error: string | null;
}

export const initialPull = (): PullState => ({
  layers: {},
  order: [],
  lines: [],
  digest: null,
  done: false,
  error: null,
});

function phaseOf(status: string): LayerPhase | null {
  const s = status.toLowerCase();
  if (s.startsWith('pulling fs layer') || s.startsWith('waiting')) return 'waiting';
  if (s.startsWith('downloading')) return 'downloading';
  if (s.startsWith('verifying checksum') || s.startsWith('download complete')) return 'downloaded';
  if (s.startsWith('extracting')) return 'extracting';
  if (s.startsWith('pull complete') || s.startsWith('already exists')) return 'complete';
  return null;
}

/** Returns the next state; the input state is never mutated. */
export function reduce(state: PullState, msg: PullMessage): PullState {
  if (msg.error || msg.errorDetail?.message) {
    return { ...state, error: msg.error || msg.errorDetail?.message || 'Pull failed' };
  }
  const status = (msg.status ?? '').trim();
  if (!status) return state;

  const phase = phaseOf(status);
  if (msg.id && phase) return updateLayer(state, msg.id, status, phase, msg);
  if (msg.id && state.layers[msg.id]) {
    // Unknown per-layer text (e.g. "Retrying in 5 seconds"): show it, keep the numbers.
    const layer = { ...state.layers[msg.id], status };
    return { ...state, layers: { ...state.layers, [msg.id]: layer } };
  }

  const line = msg.id ? `${msg.id}: ${status}` : status;
  const next: PullState = { ...state, lines: [...state.lines, line] };
  if (status.startsWith('Digest:')) next.digest = status.slice('Digest:'.length).trim();
  if (status.startsWith('Status:')) next.done = true;
  return next;
}

function updateLayer(
  state: PullState,
  id: string,
  status: string,
  phase: LayerPhase,
  msg: PullMessage,
): PullState {
  const prev = state.layers[id];
  const total = msg.progressDetail?.total ?? prev?.total ?? 0;
  let current = msg.progressDetail?.current ?? 0;
  if (phase === 'downloaded' || phase === 'complete') current = total;
  if (phase === 'waiting') current = 0;
  // "Already exists" layers never report a size: they weigh nothing in overall().
  const layer: LayerProgress = { status, phase, current: Math.min(current, total || current), total };
  return {
    ...state,
    layers: { ...state.layers, [id]: layer },
    order: prev ? state.order : [...state.order, id],
  };
}

/** Progress of one layer in 0..1: downloading is the first half, extracting the second. */
export function layerFraction(l: LayerProgress): number {
  const part = l.total > 0 ? Math.min(1, l.current / l.total) : 0;
  switch (l.phase) {
    case 'waiting':
      return 0;
    case 'downloading':
      return part / 2;
    case 'downloaded':
      return 0.5;
    case 'extracting':
      return 0.5 + part / 2;
    case 'complete':
      return 1;
  }
}

/** Overall progress in 0..1, weighted by size over the layers whose size is known. */
export function overall(state: PullState): number {
  if (state.done) return 1;
  let weight = 0;
  let sum = 0;
  for (const id of state.order) {
    const l = state.layers[id];
    if (l.total <= 0) continue;
    weight += l.total;
    sum += l.total * layerFraction(l);
  }
  if (weight === 0) {
    // No sizes yet: all announced layers complete means 1, otherwise nothing to show.
    const all = state.order.length > 0 && state.order.every((id) => state.layers[id].phase === 'complete');
    return all ? 1 : 0;
  }
  return sum / weight;
}

/** The last line worth showing when the pull ends ("Status: Downloaded newer image for …"). */
export function finalStatus(state: PullState): string | null {
  for (let i = state.lines.length - 1; i >= 0; i--) {
    if (state.lines[i].startsWith('Status:')) return state.lines[i];
  }
  return state.lines.at(-1) ?? null;
}
