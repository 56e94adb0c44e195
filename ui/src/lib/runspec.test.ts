import { describe, expect, it } from 'vitest';
import { buildRunSpec, emptyForm } from './runspec';

describe('buildRunSpec', () => {
  it('builds the minimal spec with nulls for empty fields', () => {
    expect(buildRunSpec(emptyForm('nginx:latest'))).toEqual({
      spec: { image: 'nginx:latest', name: null, ports: [], env: [], volumes: [], command: null, restart: null },
    });
  });

  it('parses lines, skipping blanks and comments', () => {
    const r = buildRunSpec({
      image: ' nginx ',
      name: 'web',
      ports: '8080:80\n\n 443 \n53:53/udp',
      env: 'A=1\n# comment\nB=x=y\nEMPTY=\nPASSTHROUGH',
      volumes: 'data:/var/lib/data\n/host:/ctr:ro',
      command: '  nginx -g "daemon off;" ',
      restart: 'unless-stopped',
    });
    expect(r).toEqual({
      spec: {
        image: 'nginx',
        name: 'web',
        ports: [
          { host: '8080', container: '80' },
          { host: '', container: '443' },
          { host: '53', container: '53/udp' },
        ],
        env: ['A=1', 'B=x=y', 'EMPTY=', 'PASSTHROUGH'],
        volumes: ['data:/var/lib/data', '/host:/ctr:ro'],
        command: 'nginx -g "daemon off;"',
        restart: 'unless-stopped',
      },
    });
  });

  it('maps restart "no" to null and accepts on-failure with a count', () => {
    const no = buildRunSpec({ ...emptyForm('a'), restart: 'no' });
    expect('spec' in no && no.spec.restart).toBeNull();
    const of = buildRunSpec({ ...emptyForm('a'), restart: 'on-failure:3' });
    expect('spec' in of && of.spec.restart).toBe('on-failure:3');
  });

  it('reports every invalid field at once', () => {
    const r = buildRunSpec({
      image: '',
      name: '-bad',
      ports: 'http:80\n8080:99999\n1:2:3',
      env: '1X=2',
      volumes: 'nocolon\ndata:relative',
      command: '',
      restart: 'sometimes',
    });
    expect('errors' in r).toBe(true);
    if ('errors' in r) {
      expect(r.errors).toHaveLength(9);
      expect(r.errors[0]).toBe('Image is required.');
      expect(r.errors.join('\n')).toContain('"8080:99999"');
      expect(r.errors.join('\n')).toContain('restart policy');
    }
  });
});
