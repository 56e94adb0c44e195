import { describe, expect, it } from 'vitest';
import { bulkTargets, toggled } from './bulk';
import type { ContainerSummary } from './types';

const c = (name: string, State: string): ContainerSummary => ({
  Id: name,
  Names: ['/' + name],
  Image: 'alpine',
  ImageID: 'sha256:1',
  Command: 'sh',
  Created: 1,
  State,
  Status: '',
  Ports: [],
  Labels: {},
});

const visible = [c('up', 'running'), c('held', 'paused'), c('done', 'exited'), c('new', 'created')];
const names = (l: ContainerSummary[]) => l.map((x) => x.Id);

describe('bulk actions', () => {
  it('act on the selected containers they apply to', () => {
    const all = new Set(['up', 'held', 'done', 'new']);
    expect(names(bulkTargets(visible, all, 'stop'))).toEqual(['up', 'held']);
    expect(names(bulkTargets(visible, all, 'start'))).toEqual(['done', 'new']);
    expect(names(bulkTargets(visible, all, 'pause'))).toEqual(['up']);
    expect(names(bulkTargets(visible, all, 'remove'))).toEqual(['up', 'held', 'done', 'new']);
  });

  it('leave out what is not selected or no longer shown', () => {
    expect(names(bulkTargets(visible, new Set(['up', 'gone']), 'restart'))).toEqual(['up']);
  });

  it('toggle into a new set', () => {
    const none: ReadonlySet<string> = new Set();
    const one = toggled(none, 'a', true);
    expect([...one]).toEqual(['a']);
    expect(none.size).toBe(0);
    expect([...toggled(one, 'a', false)]).toEqual([]);
  });
});
