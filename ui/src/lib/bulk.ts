import type { ContainerAction, ContainerSummary } from './types';

/** Which states each action applies to; a bulk action skips the containers it would fail on. */
const APPLIES: Record<ContainerAction, (state: string) => boolean> = {
  start: (s) => s === 'created' || s === 'exited' || s === 'dead',
  stop: (s) => s === 'running' || s === 'paused' || s === 'restarting',
  pause: (s) => s === 'running',
  unpause: (s) => s === 'paused',
  restart: () => true,
  remove: () => true,
};

/** The selected containers (among `visible`) that `action` applies to. */
export function bulkTargets(
  visible: ContainerSummary[],
  selected: ReadonlySet<string>,
  action: ContainerAction,
): ContainerSummary[] {
  return visible.filter((c) => selected.has(c.Id) && APPLIES[action](c.State));
}

/** `selected` with `id` toggled, as a new set (Svelte state is replaced, not mutated). */
export function toggled(selected: ReadonlySet<string>, id: string, on: boolean): ReadonlySet<string> {
  const next = new Set(selected);
  if (on) next.add(id);
  else next.delete(id);
  return next;
}
