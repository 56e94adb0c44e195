// Engine start/stop/restart with error reporting, shared by the Engine and Offline views.
import { engineRestart, engineStart, engineStop } from './api';
import { attempt } from './notify.svelte';
import { store } from './store.svelte';

const RUN = { start: engineStart, stop: engineStop, restart: engineRestart };
const VERB = { start: 'Starting', stop: 'Stopping', restart: 'Restarting' };

export type EngineOp = keyof typeof RUN;

export async function controlEngine(op: EngineOp): Promise<void> {
  const status = await attempt(`${VERB[op]} the engine`, RUN[op]);
  if (status) store.setEngine(status);
}
