import { describe, expect, it } from 'vitest';
import { filterContainers, groupContainers, groupLabel } from './group';
import type { ContainerSummary } from './types';

function c(name: string, opts: { project?: string; service?: string; image?: string; state?: string } = {}) {
  const Labels: Record<string, string> = {};
  if (opts.project) Labels['com.docker.compose.project'] = opts.project;
  if (opts.service) Labels['com.docker.compose.service'] = opts.service;
  return {
    Id: name + '-id',
    Names: ['/' + name],
    Image: opts.image ?? 'alpine:3',
    ImageID: 'sha256:1',
    Command: 'sh',
    Created: 1,
    State: opts.state ?? 'running',
    Status: 'Up',
    Ports: [],
    Labels,
  } satisfies ContainerSummary;
}

const all = [
  c('solo-b', { state: 'exited' }),
  c('shop-web-1', { project: 'shop', service: 'web' }),
  c('blog-db-1', { project: 'blog', service: 'db', image: 'postgres:16' }),
  c('shop-api-2', { project: 'shop', service: 'api', state: 'exited' }),
  c('shop-api-10', { project: 'shop', service: 'api' }),
  c('solo-a'),
];

describe('groupContainers', () => {
  const groups = groupContainers(all);
  it('sorts projects by name with Standalone last', () => {
    expect(groups.map((g) => g.project)).toEqual(['blog', 'shop', null]);
    expect(groupLabel(groups[2].project)).toBe('Standalone');
  });
  it('sorts by service, then by name with numeric order', () => {
    expect(groups[1].containers.map((x) => x.Names[0])).toEqual(['/shop-api-2', '/shop-api-10', '/shop-web-1']);
    expect(groups[2].containers.map((x) => x.Names[0])).toEqual(['/solo-a', '/solo-b']);
  });
  it('counts running containers', () => {
    expect(groups.map((g) => g.running)).toEqual([1, 2, 1]);
  });
  it('treats null labels and an empty project label as standalone', () => {
    const odd = [{ ...c('x'), Labels: null }, c('y', { project: '' })];
    const g = groupContainers(odd);
    expect(g).toHaveLength(1);
    expect(g[0].project).toBeNull();
    expect(g[0].containers).toHaveLength(2);
  });
  it('returns no groups for no containers', () => {
    expect(groupContainers([])).toEqual([]);
  });
});

describe('filterContainers', () => {
  const names = (q: string) => filterContainers(all, q).map((x) => x.Names[0].slice(1));
  it('matches name, image, project and service, ignoring case', () => {
    expect(names('SOLO')).toEqual(['solo-b', 'solo-a']);
    expect(names('postgres')).toEqual(['blog-db-1']);
    expect(names('shop')).toEqual(['shop-web-1', 'shop-api-2', 'shop-api-10']);
    expect(names('api')).toEqual(['shop-api-2', 'shop-api-10']);
  });
  it('returns everything for a blank query and nothing for a miss', () => {
    expect(filterContainers(all, '   ')).toBe(all);
    expect(names('zzz')).toEqual([]);
  });
});
