// Docker Engine API JSON as the Tauri side forwards it (PascalCase, as Docker sends),
// plus the shapes of the Berth commands and the UI's view models.

export interface Port {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: 'tcp' | 'udp' | 'sctp' | string;
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number; // unix seconds
  State: string; // created | running | paused | restarting | removing | exited | dead
  Status: string; // "Up 2 minutes (healthy)"
  Ports: Port[];
  Labels: Record<string, string> | null;
}

export interface ImageSummary {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: number; // unix seconds
  Size: number;
  Containers: number; // -1 when the engine did not count
}

export interface DockerEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
}

export interface PullMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { code?: number; message?: string };
}

export type EngineState = 'running' | 'starting' | 'stopped' | 'unreachable';

export interface EngineStatus {
  state: EngineState;
  host: string;
  version: string | null;
  apiVersion: string | null;
  os: string | null;
  managed: boolean;
  message: string | null;
  startHint: string | null;
}

export type ContainerAction = 'start' | 'stop' | 'restart' | 'pause' | 'unpause' | 'remove';

/** The containers view's mini figures; CPU is null until a second poll gives a rate. */
export interface ContainerUsage {
  cpuPercent: number | null;
  memoryUsage: number;
}

export interface ContainerStats {
  cpuPercent: number;
  memoryUsage: number;
  memoryLimit: number;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface PortMapping {
  host: string;
  container: string;
}

export interface RunSpec {
  image: string;
  name: string | null;
  ports: PortMapping[];
  env: string[];
  volumes: string[];
  command: string | null;
  restart: string | null;
}

export interface PruneImagesResult {
  deleted: number;
  spaceReclaimed: number;
}

export interface PruneResult {
  spaceReclaimed: number;
}

export type PruneTarget = 'containers' | 'images' | 'volumes' | 'build';

export interface SystemInfo {
  version: Record<string, any>;
  info: Record<string, any>;
}

/** Docker /system/df, only the fields the UI reads. */
export interface SystemDf {
  LayersSize?: number;
  Images?: { Size?: number; SharedSize?: number; Containers?: number }[] | null;
  Containers?: { SizeRw?: number; State?: string }[] | null;
  Volumes?: { UsageData?: { Size?: number; RefCount?: number } | null }[] | null;
  BuildCache?: { Size?: number; InUse?: boolean }[] | null;
}

/** A stored registry login; `username` is "<token>" when an identity token is stored. */
export interface RegistryLogin {
  server: string;
  username: string;
}

/** `list_registries`: where credentials live and the logins stored there. */
export interface RegistriesState {
  backend: string; // human label of the keyring, e.g. "Secret Service"
  credsStore: string | null; // the docker CLI config's credsStore value
  logins: RegistryLogin[];
  error: string | null; // e.g. keyring unavailable, with advice
}

/** `registry_login`: the server the login was stored under. */
export interface RegistryLoginResult {
  server: string;
  identityToken: boolean;
}

// ---- view models ----

export type Health = 'healthy' | 'unhealthy' | 'starting' | null;

export interface PortLink {
  label: string; // "8080→80/tcp" or "80/tcp"
  url: string | null; // http://localhost:8080 for published TCP ports
}

export interface ContainerGroup {
  project: string | null; // null = Standalone
  containers: ContainerSummary[];
  running: number;
}

export type View = 'containers' | 'images' | 'registries' | 'engine';
