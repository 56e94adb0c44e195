// The image pull in progress. Lives outside the view so a pull survives navigation.
import { pullImage } from './api';
import { errorMessage, normalizeRef } from './format';
import { notices } from './notify.svelte';
import { initialPull, reduce, type PullState } from './progress';
import { store } from './store.svelte';
import type { PullMessage } from './types';

class Pull {
  reference = $state<string | null>(null);
  state = $state.raw<PullState>(initialPull());
  active = $state(false);
  private pending: PullMessage[] = [];
  private frame = 0;

  // Docker sends many progress messages per second; apply them once per animation frame.
  private flush = () => {
    this.frame = 0;
    let s = this.state;
    for (const m of this.pending) s = reduce(s, m);
    this.pending = [];
    this.state = s;
  };

  private receive(m: PullMessage) {
    this.pending.push(m);
    if (!this.frame) this.frame = requestAnimationFrame(this.flush);
  }

  async start(input: string) {
    const ref = normalizeRef(input);
    if (!ref || this.active) return;
    this.reference = ref;
    this.state = initialPull();
    this.pending = [];
    this.active = true;
    try {
      await pullImage(ref, (m) => this.receive(m));
      if (this.frame) cancelAnimationFrame(this.frame);
      this.flush();
      if (!this.state.done && !this.state.error) this.state = { ...this.state, done: true };
    } catch (e) {
      if (this.frame) cancelAnimationFrame(this.frame);
      this.flush();
      this.state = { ...this.state, error: errorMessage(e) };
    } finally {
      this.active = false;
    }
    if (this.state.error) notices.error(this.state.error, `Pulling ${ref}`);
    else store.touch('images');
  }
}

export const pull = new Pull();
