// Pure parsing of the Run dialog's text fields into the run_container spec.
import type { PortMapping, RunSpec } from './types';

export interface RunForm {
  image: string;
  name: string;
  ports: string; // one "host:container[/proto]" per line
  env: string; // one KEY=VALUE per line
  volumes: string; // one "source:target[:mode]" per line
  command: string;
  restart: string; // '' | no | always | unless-stopped | on-failure
}

export const emptyForm = (image = ''): RunForm => ({
  image,
  name: '',
  ports: '',
  env: '',
  volumes: '',
  command: '',
  restart: '',
});

const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

const PORT = /^\d{1,5}(\/(tcp|udp|sctp))?$/;
const validPort = (p: string) => PORT.test(p) && Number(p.split('/')[0]) <= 65535;

/** Converts the form; returns the list of problems instead when a field is invalid. */
export function buildRunSpec(form: RunForm): { spec: RunSpec } | { errors: string[] } {
  const errors: string[] = [];
  const image = form.image.trim();
  if (!image) errors.push('Image is required.');

  const name = form.name.trim();
  if (name && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
    errors.push(`Invalid container name "${name}": use letters, digits, "_", "." and "-".`);
  }

  const ports: PortMapping[] = [];
  for (const l of lines(form.ports)) {
    // "8080:80", "127.0.0.1:8080:80" is not supported by the contract; "80" publishes a random port.
    const parts = l.split(':');
    const [host, container] = parts.length === 1 ? ['', parts[0]] : parts;
    if (parts.length > 2 || (host && !/^\d{1,5}$/.test(host)) || !validPort(container)) {
      errors.push(`Invalid port mapping "${l}": expected HOST:CONTAINER, e.g. 8080:80.`);
    } else {
      ports.push({ host, container });
    }
  }

  const env: string[] = [];
  for (const l of lines(form.env)) {
    const eq = l.indexOf('=');
    const key = eq < 0 ? l : l.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) errors.push(`Invalid environment variable "${l}".`);
    else env.push(l);
  }

  const volumes: string[] = [];
  for (const l of lines(form.volumes)) {
    const parts = l.split(':');
    if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1].startsWith('/')) {
      errors.push(`Invalid volume "${l}": expected SOURCE:/container/path[:ro].`);
    } else volumes.push(l);
  }

  const restart = form.restart.trim();
  if (restart && !/^(no|always|unless-stopped|on-failure(:\d+)?)$/.test(restart)) {
    errors.push(`Invalid restart policy "${restart}".`);
  }

  if (errors.length) return { errors };
  const command = form.command.trim();
  return {
    spec: {
      image,
      name: name || null,
      ports,
      env,
      volumes,
      command: command || null,
      restart: restart && restart !== 'no' ? restart : null,
    },
  };
}
