// Pure view-model helpers for the Registries view. No Svelte, no Tauri.
import type { RegistryLogin } from './types';

/** The key the docker CLI files Docker Hub's credentials under. */
export const HUB_KEY = 'https://index.docker.io/v1/';
/** The username stored when the secret is an identity token, not a password. */
export const TOKEN_USERNAME = '<token>';
/** Our credential helper's name, as the docker CLI config spells it (`docker-credential-berth`). */
export const BERTH_HELPER = 'berth';

const HUB_NAMES = new Set(['', 'docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** True for any of the names Docker Hub's logins go by ("https://index.docker.io/v1/", "docker.io", …). */
export function isDockerHub(server: string): boolean {
  const rest = server.trim().replace(/^https?:\/\//i, '');
  return rest !== '' && HUB_NAMES.has(rest.split('/')[0].toLowerCase());
}

/** How a login's server is shown: "Docker Hub" for its index URL, any other server as stored. */
export function registryLabel(server: string): string {
  return isDockerHub(server) ? 'Docker Hub' : server;
}

/** How a login's user is shown: "identity token" instead of the CLI's "<token>" placeholder. */
export function userLabel(username: string): string {
  return username === TOKEN_USERNAME ? 'identity token' : username;
}

/** Logins in display order: Docker Hub first, then by server. */
export function sortLogins(logins: readonly RegistryLogin[]): RegistryLogin[] {
  return [...logins].sort(
    (a, b) =>
      Number(isDockerHub(b.server)) - Number(isDockerHub(a.server)) ||
      a.server.localeCompare(b.server, undefined, { numeric: true }),
  );
}

/** What to tell the user when the docker CLI does not use Berth's helper; null when it does. */
export function credsStoreWarning(credsStore: string | null | undefined): string | null {
  const store = credsStore?.trim();
  if (store === BERTH_HELPER) return null;
  if (!store) {
    return "The docker CLI config names no credsStore: the first login here makes Berth's helper (docker-credential-berth) the docker CLI's credential store.";
  }
  return `The docker CLI uses docker-credential-${store}; logins here are kept by Berth's helper (docker-credential-berth), so docker commands won't see them.`;
}

export interface LoginInput {
  server: string;
  username: string;
  secret: string;
}

/** The arguments for `registry_login`, or null when the form is not ready to submit.
 * Server and username are trimmed (an empty server means Docker Hub); the secret is sent as typed. */
export function loginInput(server: string, username: string, secret: string): LoginInput | null {
  const user = username.trim();
  if (!user || !secret) return null;
  return { server: server.trim(), username: user, secret };
}

/** Hides the secret should a message ever quote it. Short secrets are left alone: they would
 * match ordinary words of the message, not an echo of the password. */
export function redactSecret(text: string, secret: string): string {
  if (secret.length < 4) return text;
  return text.split(secret).join('••••••');
}
