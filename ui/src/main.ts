import { mount } from 'svelte';
import App from './App.svelte';
import { uiReady } from './lib/api';
import './app.css';

// In a plain browser (`npm run dev` without Tauri) a fake backend stands in for Rust.
// `?offline` starts it with the engine down, `?many=200` adds generated containers.
if (import.meta.env.DEV && !('__TAURI_INTERNALS__' in window)) {
  const { installMock } = await import('./dev/mock');
  const q = new URLSearchParams(location.search);
  installMock({ offline: q.has('offline'), extraContainers: Number(q.get('many') ?? 0) });
}

const app = mount(App, { target: document.getElementById('app')! });
// Two frames after mounting, the first paint is on screen.
requestAnimationFrame(() => requestAnimationFrame(() => uiReady().catch(() => {})));
export default app;
