// The only module that talks to Tauri. Every backend command has a typed wrapper here.
import { Channel, invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type {
  ContainerAction,
  ContainerStats,
  ContainerSummary,
  ContainerUsage,
  DockerEvent,
  EngineStatus,
  ImageSummary,
  LogLine,
  PruneImagesResult,
  PruneResult,
  PruneTarget,
  PullMessage,
  RegistriesState,
  RegistryLoginResult,
  RunSpec,
  SystemDf,
  SystemInfo,
} from './types';

export const engineStatus = () => invoke<EngineStatus>('engine_status');
export const engineStart = () => invoke<EngineStatus>('engine_start');
export const engineStop = () => invoke<EngineStatus>('engine_stop');
export const engineRestart = () => invoke<EngineStatus>('engine_restart');

export const listContainers = () => invoke<ContainerSummary[]>('list_containers');

export const containerAction = (id: string, action: ContainerAction) =>
  invoke<void>('container_action', { id, action });

export const containerInspect = (id: string) => invoke<unknown>('container_inspect', { id });

export const containerStats = (id: string) => invoke<ContainerStats>('container_stats', { id });

export const containersUsage = (ids: string[]) => invoke<Record<string, ContainerUsage>>('containers_usage', { ids });

export interface LogOptions {
  follow: boolean;
  timestamps: boolean;
  tail: string;
}

/** Streams log lines to `onLine`; resolves when the stream ends (or `stopLogs` is called). */
export function containerLogs(
  id: string,
  opts: LogOptions,
  onLine: (line: LogLine) => void,
): Promise<void> {
  const channel = new Channel<LogLine>();
  channel.onmessage = onLine;
  return invoke<void>('container_logs', { id, ...opts, onLine: channel });
}

export const stopLogs = (id: string) => invoke<void>('stop_logs', { id });

export const listImages = () => invoke<ImageSummary[]>('list_images');

/** Pulls an image; `onProgress` gets Docker's JSON progress messages. Rejects with the error. */
export function pullImage(reference: string, onProgress: (m: PullMessage) => void): Promise<void> {
  const channel = new Channel<PullMessage>();
  channel.onmessage = onProgress;
  return invoke<void>('pull_image', { reference, onProgress: channel });
}

export const removeImage = (id: string, force = false) =>
  invoke<void>('remove_image', { id, force });

export const pruneImages = () => invoke<PruneImagesResult>('prune_images');

export const runContainer = (spec: RunSpec) => invoke<string>('run_container', { spec });

export const systemInfo = () => invoke<SystemInfo>('system_info');
export const systemDf = () => invoke<SystemDf>('system_df');

/** Makes `berth` the docker CLI's current context. */
export const useBerthContext = () => invoke<null>('use_berth_context');

export const prune = (what: PruneTarget) => invoke<PruneResult>('prune', { what });

/** The keyring in use, the docker CLI's credsStore and the stored logins. */
export const listRegistries = () => invoke<RegistriesState>('list_registries');

/** Checks the credentials against the registry and stores them; `server` empty means Docker Hub.
 * Rejects with a message for the user. */
export const registryLogin = (server: string, username: string, secret: string) =>
  invoke<RegistryLoginResult>('registry_login', { server, username, secret });

export const registryLogout = (server: string) => invoke<null>('registry_logout', { server });

export const onEngineEvent = (cb: (e: DockerEvent) => void): Promise<UnlistenFn> =>
  listen<DockerEvent>('engine-event', (e) => cb(e.payload));

export const onEngineStatus = (cb: (s: EngineStatus) => void): Promise<UnlistenFn> =>
  listen<EngineStatus>('engine-status', (e) => cb(e.payload));

/** Tells the app the first frame is on screen (it logs the start-up time). */
export const uiReady = () => invoke<null>('ui_ready');

/** Quits the app, stopping the engine first when asked. */
export const quitApp = (stopEngine: boolean) => invoke<null>('quit_app', { stopEngine });

/** The tray's Quit, when the app started the engine: ask whether to stop it. */
export const onConfirmQuit = (cb: () => void): Promise<UnlistenFn> => listen('confirm-quit', () => cb());

/** The tray asks to show a container's logs. */
export const onShowLogs = (cb: (id: string) => void): Promise<UnlistenFn> =>
  listen<string>('show-logs', (e) => cb(e.payload));

/** A tray action failed; the message is for the user. */
export const onAppError = (cb: (message: string) => void): Promise<UnlistenFn> =>
  listen<string>('app-error', (e) => cb(e.payload));
