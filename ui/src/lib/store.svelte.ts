// App-wide data: engine status and the container/image lists, refreshed on engine events.
import * as api from './api';
import { debounce } from './debounce';
import { notices } from './notify.svelte';
import type { ContainerSummary, DockerEvent, EngineStatus, ImageSummary } from './types';

const EVENT_DEBOUNCE_MS = 150;

/** Runs `load` so that only the newest call's result is applied (older answers are dropped). */
function latest<T>(load: () => Promise<T>, apply: (value: T) => void, context: string) {
  let seq = 0;
  return async () => {
    const mine = ++seq;
    try {
      const value = await load();
      if (mine === seq) apply(value);
    } catch (e) {
      if (mine === seq) notices.error(e, context);
    }
  };
}

class Store {
  engine = $state.raw<EngineStatus | null>(null);
  containers = $state.raw<ContainerSummary[]>([]);
  images = $state.raw<ImageSummary[]>([]);
  containersLoaded = $state(false);
  imagesLoaded = $state(false);

  readonly running = $derived(this.engine?.state === 'running');

  refreshContainers = latest(
    api.listContainers,
    (list) => {
      this.containers = list;
      this.containersLoaded = true;
    },
    'Listing containers',
  );

  refreshImages = latest(
    api.listImages,
    (list) => {
      this.images = list;
      this.imagesLoaded = true;
    },
    'Listing images',
  );

  refreshEngine = latest(api.engineStatus, (s) => this.setEngine(s), 'Reading engine status');

  private soonContainers = debounce(() => this.refreshContainers(), EVENT_DEBOUNCE_MS);
  private soonImages = debounce(() => this.refreshImages(), EVENT_DEBOUNCE_MS);

  /** Asks for a refresh shortly; bursts of calls collapse into one request. */
  touch(what: 'containers' | 'images' | 'both' = 'both') {
    if (what !== 'images') this.soonContainers();
    if (what !== 'containers') this.soonImages();
  }

  setEngine(s: EngineStatus) {
    const wasRunning = this.engine?.state === 'running';
    this.engine = s;
    if (s.state === 'running' && !wasRunning) {
      this.refreshContainers();
      this.refreshImages();
    }
  }

  onEvent(e: DockerEvent) {
    if (e.Type === 'container') {
      // create/destroy change which images are in use; everything else only the container list.
      this.touch(e.Action === 'create' || e.Action === 'destroy' ? 'both' : 'containers');
    } else if (e.Type === 'image') {
      this.touch('images');
    }
  }

  /** Subscribes to the backend's events; returns the unsubscribe function. */
  async start(): Promise<() => void> {
    const offs = await Promise.all([
      api.onEngineEvent((e) => this.onEvent(e)),
      api.onEngineStatus((s) => this.setEngine(s)),
    ]).catch((e) => {
      notices.error(e, 'Subscribing to engine events');
      return [] as (() => void)[];
    });
    await this.refreshEngine();
    return () => {
      offs.forEach((off) => off());
      this.soonContainers.cancel();
      this.soonImages.cancel();
    };
  }
}

export const store = new Store();
