// User-visible notices. Every failed command ends up here; nothing is swallowed.
import { errorMessage } from './format';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
  count: number; // identical messages collapse into one notice
}

const INFO_MS = 5000;
let nextId = 1;

class Notices {
  items = $state<Notice[]>([]);

  private push(kind: Notice['kind'], text: string) {
    const same = this.items.find((n) => n.kind === kind && n.text === text);
    if (same) {
      same.count++;
      return;
    }
    const id = nextId++;
    this.items.push({ id, kind, text, count: 1 });
    if (kind === 'info') setTimeout(() => this.dismiss(id), INFO_MS);
  }

  /** Shows an error; `context` says what was being done ("Stopping web"). */
  error(e: unknown, context?: string) {
    const msg = errorMessage(e);
    this.push('error', context ? `${context}: ${msg}` : msg);
  }

  info(text: string) {
    this.push('info', text);
  }

  dismiss(id: number) {
    this.items = this.items.filter((n) => n.id !== id);
  }
}

export const notices = new Notices();

/** Runs a command; on failure reports it and resolves to undefined. */
export async function attempt<T>(context: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (e) {
    notices.error(e, context);
    return undefined;
  }
}
