// Pure grouping and filtering of containers by Compose project.
import { containerName } from './format';
import type { ContainerGroup, ContainerSummary } from './types';

export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';

export const projectOf = (c: ContainerSummary): string | null => c.Labels?.[PROJECT_LABEL] || null;
export const serviceOf = (c: ContainerSummary): string | null => c.Labels?.[SERVICE_LABEL] || null;

const byText = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });

/**
 * Groups containers by Compose project. Projects are sorted by name and the
 * Standalone group (project null) comes last; inside a group containers are
 * sorted by service, then name.
 */
export function groupContainers(containers: ContainerSummary[]): ContainerGroup[] {
  const groups = new Map<string | null, ContainerSummary[]>();
  for (const c of containers) {
    const key = projectOf(c);
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(c);
  }
  const keyed = [...groups].map(([project, list]) => ({
    project,
    containers: list
      .map((c) => ({ c, service: serviceOf(c) ?? '', name: containerName(c) }))
      .sort((a, b) => byText(a.service, b.service) || byText(a.name, b.name))
      .map((x) => x.c),
    running: list.reduce((n, c) => n + (c.State === 'running' ? 1 : 0), 0),
  }));
  return keyed.sort((a, b) => {
    if (a.project === b.project) return 0;
    if (a.project === null) return 1;
    if (b.project === null) return -1;
    return byText(a.project, b.project);
  });
}

/** Case-insensitive substring search over name, image, project and service. */
export function filterContainers(containers: ContainerSummary[], query: string): ContainerSummary[] {
  const q = query.trim().toLowerCase();
  if (!q) return containers;
  return containers.filter((c) =>
    [containerName(c), c.Image, projectOf(c), serviceOf(c)].some(
      (field) => field != null && field.toLowerCase().includes(q),
    ),
  );
}

export const groupLabel = (project: string | null): string => project ?? 'Standalone';
