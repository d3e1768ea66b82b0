import { trustedRootProblem } from '../verify/bundle';
import { createHash } from 'node:crypto';
import type { ConfigReader, ResidencySettings } from '../api';
import { readRegularFile } from './files';
import {
  ConfigIssues,
  fail,
  optBoolean,
  optConfigArray,
  optString,
  resolveFile,
} from './read';

type TrustedRoot = NonNullable<ResidencySettings['trustedRoots']>[number];

export const MAX_TRUSTED_ROOT_BYTES = 4 * 1024 * 1024;

/** `residency.trustedRoots`: private trusted_root.json files or the public-good root. */
export function readTrustedRoots(
  root: ConfigReader,
  baseDir: string | undefined,
  issues = new ConfigIssues(),
): TrustedRoot[] {
  const roots: TrustedRoot[] = [];
  const confs =
    issues.attempt(() =>
      optConfigArray(root, 'trustedRoots', 'residency.trustedRoots'),
    ) ?? [];
  confs.forEach((tc, i) =>
    issues.attempt(() => {
      const path = `residency.trustedRoots[${i}]`;
      const entry = readTrustedRoot(tc, path, baseDir);
      if (roots.some(t => t.name === entry.name)) {
        fail('config_invalid', path, 'duplicate trusted root name');
      }
      roots.push(entry);
    }),
  );
  return roots;
}

function readTrustedRoot(
  tc: ConfigReader,
  path: string,
  baseDir: string | undefined,
): TrustedRoot {
  const publicGood = optBoolean(tc, 'publicGood', path) ?? false;
  const file = optString(tc, 'path', path);
  const name =
    optString(tc, 'name', path) ??
    (publicGood ? 'sigstore-public-good' : undefined);
  if (!name) fail('config_invalid', path, 'name is required');
  if (publicGood === (file !== undefined)) {
    fail(
      'config_invalid',
      path,
      'give exactly one of path or publicGood: true',
    );
  }
  const bytes = trustedRootBytes(file, path, baseDir);
  return {
    name,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    json: parseRootJson(bytes, path),
  };
}

function trustedRootBytes(
  file: string | undefined,
  path: string,
  baseDir: string | undefined,
): Buffer {
  try {
    return file !== undefined
      ? readRegularFile(resolveFile(baseDir, file), MAX_TRUSTED_ROOT_BYTES)
      : publicGoodTrustedRoot();
  } catch (e) {
    return fail(
      'config_invalid',
      path,
      `cannot read trusted root: ${(e as Error).message}`,
    );
  }
}

function parseRootJson(bytes: Buffer, path: string): object {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    fail('config_invalid', path, 'trusted root is not JSON');
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    fail('config_invalid', path, 'trusted root is not a JSON object');
  }
  const problem = trustedRootProblem(json);
  if (problem) {
    fail(
      'config_invalid',
      path,
      `not a usable Sigstore trusted root: ${problem}`,
    );
  }
  return json as object;
}

/**
 * The Sigstore public-good trusted_root.json embedded in @sigstore/tuf's seed (offline).
 *
 * @public
 */
export function publicGoodTrustedRoot(): Buffer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const seeds = require('@sigstore/tuf/seeds.json') as Record<
    string,
    { targets: Record<string, string> }
  >;
  const seed = seeds['https://tuf-repo-cdn.sigstore.dev'];
  const b64 = seed?.targets?.['trusted_root.json'];
  if (!b64)
    throw new Error('public-good trusted root not found in @sigstore/tuf seed');
  return Buffer.from(b64, 'base64');
}
