import { describe, expect, it } from 'vitest';
import { finalStatus, initialPull, layerFraction, overall, reduce, type PullState } from './progress';
import type { PullMessage } from './types';

const run = (msgs: PullMessage[], from: PullState = initialPull()) => msgs.reduce(reduce, from);

const dl = (id: string, current: number, total: number): PullMessage => ({
  status: 'Downloading',
  id,
  progress: '[==>   ]',
  progressDetail: { current, total },
});

describe('reduce', () => {
  it('treats "Pulling from" as a status line, not a layer', () => {
    const s = run([{ status: 'Pulling from library/nginx', id: 'latest' }]);
    expect(s.order).toEqual([]);
    expect(s.lines).toEqual(['latest: Pulling from library/nginx']);
  });

  it('tracks layers in announcement order through every phase', () => {
    let s = run([
      { status: 'Pulling from library/nginx', id: 'latest' },
      { status: 'Pulling fs layer', id: 'a' },
      { status: 'Pulling fs layer', id: 'b' },
      { status: 'Already exists', id: 'c' },
      { status: 'Waiting', id: 'b' },
      dl('a', 250, 1000),
    ]);
    expect(s.order).toEqual(['a', 'b', 'c']);
    expect(s.layers.a).toEqual({ status: 'Downloading', phase: 'downloading', current: 250, total: 1000 });
    expect(s.layers.b.phase).toBe('waiting');
    expect(s.layers.c.phase).toBe('complete');

    s = run([{ status: 'Verifying Checksum', id: 'a' }, { status: 'Download complete', id: 'a' }], s);
    expect(s.layers.a).toMatchObject({ phase: 'downloaded', current: 1000, total: 1000 });

    s = run([{ status: 'Extracting', id: 'a', progressDetail: { current: 500, total: 1000 } }], s);
    expect(s.layers.a).toMatchObject({ phase: 'extracting', current: 500 });

    s = run([{ status: 'Pull complete', id: 'a' }], s);
    expect(s.layers.a).toMatchObject({ phase: 'complete', current: 1000, total: 1000 });
    expect(s.done).toBe(false);
  });

  it('keeps the size when a later message has no progressDetail', () => {
    const s = run([dl('a', 10, 100), { status: 'Extracting', id: 'a' }]);
    expect(s.layers.a.total).toBe(100);
    expect(layerFraction(s.layers.a)).toBe(0.5);
  });

  it('records the digest and finishes on the Status line', () => {
    const s = run([
      { status: 'Digest: sha256:abc123' },
      { status: 'Status: Downloaded newer image for nginx:latest' },
    ]);
    expect(s.digest).toBe('sha256:abc123');
    expect(s.done).toBe(true);
    expect(finalStatus(s)).toBe('Status: Downloaded newer image for nginx:latest');
  });

  it('finishes when the image is up to date', () => {
    const s = run([{ status: 'Status: Image is up to date for alpine:3' }]);
    expect(s.done).toBe(true);
    expect(overall(s)).toBe(1);
  });

  it('records errors from error and errorDetail', () => {
    const s = run([{ error: 'manifest unknown', errorDetail: { message: 'manifest unknown' } }]);
    expect(s.error).toBe('manifest unknown');
    expect(s.done).toBe(false);
    expect(run([{ errorDetail: { message: 'denied' } }]).error).toBe('denied');
  });

  it('shows unknown layer statuses without losing numbers, and ignores empty messages', () => {
    const base = run([dl('a', 40, 100)]);
    const s = run([{ status: 'Retrying in 5 seconds', id: 'a' }, {}], base);
    expect(s.layers.a).toMatchObject({ status: 'Retrying in 5 seconds', current: 40, phase: 'downloading' });
    expect(run([{}], base)).toBe(base);
  });

  it('never mutates the previous state', () => {
    const a = run([dl('a', 1, 10)]);
    const snapshot = JSON.stringify(a);
    run([dl('a', 5, 10), { status: 'Pulling fs layer', id: 'b' }, { status: 'Status: x' }], a);
    expect(JSON.stringify(a)).toBe(snapshot);
  });
});

describe('overall', () => {
  it('is 0 before anything is known', () => {
    expect(overall(initialPull())).toBe(0);
    expect(overall(run([{ status: 'Pulling fs layer', id: 'a' }]))).toBe(0);
  });

  it('weights layers by size and ignores layers without a size', () => {
    const s = run([
      { status: 'Already exists', id: 'x' },
      dl('a', 300, 300), // half of its journey (download done, not extracted)
      { status: 'Pull complete', id: 'a' },
      dl('b', 0, 100),
    ]);
    // a: 300 bytes complete, b: 100 bytes at 0 → 300/400
    expect(overall(s)).toBeCloseTo(0.75);
  });

  it('counts download as the first half and extraction as the second', () => {
    const s = run([dl('a', 50, 100)]);
    expect(overall(s)).toBeCloseTo(0.25);
    const e = run([{ status: 'Extracting', id: 'a', progressDetail: { current: 50, total: 100 } }], s);
    expect(overall(e)).toBeCloseTo(0.75);
  });

  it('is 1 when every layer already exists', () => {
    const s = run([
      { status: 'Already exists', id: 'a' },
      { status: 'Already exists', id: 'b' },
    ]);
    expect(overall(s)).toBe(1);
  });

  it('stays within 0..1 when current overshoots total', () => {
    const s = run([dl('a', 150, 100)]);
    expect(overall(s)).toBeLessThanOrEqual(1);
    expect(overall(s)).toBeGreaterThanOrEqual(0);
  });
});
