/*
 * What the global setup wrote for this run (e2e/.run/state.json), and small helpers
 * the tests share: guest tokens, API calls, the seeded services.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const E2E_DIR = resolve(__dirname, '..');
export const REPO_ROOT = resolve(E2E_DIR, '..');
/** Every run writes into its own directory below this one (concurrent runs in one tree). */
export const RUN_ROOT = join(E2E_DIR, '.run');
/** This run's directory; the global setup sets E2E_RUN_DIR, which workers inherit. */
export function runDir(): string {
  const dir = process.env.E2E_RUN_DIR;
  if (!dir)
    throw new Error(
      'E2E_RUN_DIR is not set: run through e2e/playwright.config.ts',
    );
  return dir;
}
export const SCREENSHOTS_DIR = join(REPO_ROOT, 'docs', 'screenshots');

/** A key generated for this run. */
export interface RunKey {
  id: string;
  region: string;
  publicKeyFile: string;
  privateKeyFile: string;
}

/** A seeded service: its catalog name and image reference. */
export interface RunService {
  name: string;
  title: string;
  image: string;
  repository: string;
  tag: string;
  tenant: string;
  region: string;
  /** The owner's entity ref, when not the default `group:default/team-payments`. */
  owner?: string;
}

export interface RunState {
  registry: { host: string; url: string };
  /** The portal as the guest who holds every role (developer, auditor, platform owner). */
  mainUrl: string;
  /** A second backend replica on the same database whose guest is dana-dev (no evidence access). */
  noEvidenceUrl: string;
  databasePrefix: string;
  /** Whether the residency backend plugin answered under /api/residency. */
  residencyApi: boolean;
  keys: { eu: RunKey; us: RunKey; vsa: RunKey };
  services: {
    resident: RunService;
    nonResident: RunService;
    unsigned: RunService;
    unknownTenant: RunService;
    /** Not resident (no signature), owned by Dana; flow 11 waives it by exception. */
    byException: RunService;
    /** Not resident (no signature), owned by Dana; flow 12 waives it until the exception expires. */
    expiring: RunService;
  };
}

export function readState(): RunState {
  return JSON.parse(
    readFileSync(join(runDir(), 'state.json'), 'utf8'),
  ) as RunState;
}

/** A guest token from a backend (the same call the sign-in page makes). */
export async function guestToken(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/guest/refresh`, {
    headers: { 'x-requested-with': 'XMLHttpRequest' },
  });
  if (!res.ok) {
    throw new Error(
      `guest sign-in at ${baseUrl} answered ${res.status}: ${await res.text()}`,
    );
  }
  const body = (await res.json()) as { backstageIdentity?: { token?: string } };
  const token = body.backstageIdentity?.token;
  if (!token) throw new Error(`guest sign-in at ${baseUrl} returned no token`);
  return token;
}

/** GET/POST a JSON API path with a bearer token; returns status and parsed body. */
export async function api(
  baseUrl: string,
  path: string,
  options: { token?: string; method?: string } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: options.method ?? 'GET',
    headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

export const componentPath = (name: string) =>
  `/catalog/default/component/${name}`;
export const statusPath = (name: string) =>
  `/api/residency/entities/component/default/${name}/status`;
