import type { ConfigReader, ResidencySettings } from '../api';
import {
  checkRegion,
  ConfigIssues,
  fail,
  optBoolean,
  optConfigArray,
  optString,
  read,
} from './read';

type Registry = ResidencySettings['registries'][number];

const HOST_RE =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/;

/** `residency.registries`: host[:port], region, insecure, credentials. */
export function readRegistries(
  root: ConfigReader,
  issues = new ConfigIssues(),
): Registry[] {
  const registries: Registry[] = [];
  const confs =
    issues.attempt(() =>
      optConfigArray(root, 'registries', 'residency.registries'),
    ) ?? [];
  confs.forEach((rc, i) =>
    issues.attempt(() => {
      const entry = readRegistry(rc, `residency.registries[${i}]`);
      if (registries.some(r => r.host === entry.host)) {
        fail(
          'registry_invalid',
          `residency.registries[${i}] (${entry.host})`,
          'duplicate registry host',
        );
      }
      registries.push(entry);
    }),
  );
  return registries;
}

function readRegistry(rc: ConfigReader, path0: string): Registry {
  // Backstage's reader refuses '' as a string; an empty host is "missing" here.
  const rawHost =
    rc.getOptional('host') === '' ? undefined : optString(rc, 'host', path0);
  const path = rawHost ? `${path0} (${rawHost})` : path0;
  if (!rawHost) fail('registry_invalid', path, 'host is required');
  const host = rawHost.toLowerCase();
  if (!HOST_RE.test(host)) {
    fail(
      'registry_invalid',
      path,
      'host must be host[:port], without scheme, path or user',
    );
  }
  const region = checkRegion(optString(rc, 'region', path), `${path}.region`);
  const insecure = optBoolean(rc, 'insecure', path) ?? false;
  const entry: Registry = { host, region, insecure };
  // Registry trust boundaries: extra origins, matched exactly (scheme, host, port).
  const tokenRealms = originList(rc, 'tokenRealms', path);
  if (tokenRealms) entry.tokenRealms = tokenRealms;
  const blobHosts = originList(rc, 'blobHosts', path);
  if (blobHosts) entry.blobHosts = blobHosts;
  const credentials = readCredentials(rc, path);
  if (credentials) entry.credentials = credentials;
  return entry;
}

function readCredentials(
  rc: ConfigReader,
  path: string,
): Registry['credentials'] {
  const cred = read(`${path}.credentials`, () =>
    rc.getOptionalConfig('credentials'),
  );
  if (!cred) return undefined;
  const cpath = `${path}.credentials`;
  const token = optString(cred, 'token', cpath);
  const username = optString(cred, 'username', cpath);
  const password = optString(cred, 'password', cpath);
  if (token && !username && !password) return { token };
  if (username && password && !token) return { username, password };
  return fail(
    'registry_invalid',
    cpath,
    'give either { username, password } or { token }',
  );
}

/**
 * An optional list of https origins (`https://host[:port]`, nothing else) of a
 * registry entry: its bearer token realms or the blob hosts it may redirect to.
 */
function originList(
  c: ConfigReader,
  key: string,
  path: string,
): string[] | undefined {
  const values = read(`${path}.${key}`, () => c.getOptionalStringArray(key));
  return values?.map((v, i) => {
    let url: URL | undefined;
    try {
      url = new URL(v);
    } catch {
      url = undefined;
    }
    if (
      !url ||
      url.protocol !== 'https:' ||
      url.origin !== v.replace(/\/$/, '')
    ) {
      fail(
        'registry_invalid',
        `${path}.${key}[${i}]`,
        'must be an https origin such as https://auth.example.com[:port]',
      );
    }
    return url.origin;
  });
}
