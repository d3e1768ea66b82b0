import { createPublicKey } from 'node:crypto';
import type { ConfigReader, ResidencySettings } from '../api';
import { readRegularFile } from './files';
import {
  canonicalPublicKey,
  describePublicKey,
  regionFromKeyId,
} from './keyIds';
import {
  checkDate,
  checkRegion,
  ConfigIssues,
  fail,
  optBoolean,
  optConfigArray,
  optString,
  read,
  resolveFile,
} from './read';

type KeySetting = ResidencySettings['keys'][number];

/** Cap on PEM size: a public key is a few KiB at most. */
export const MAX_PEM_BYTES = 64 * 1024;

/** `residency.keys`: each key pinned to a region, read once, identified by its canonical SPKI. */
export function readKeys(
  root: ConfigReader,
  baseDir: string | undefined,
  issues = new ConfigIssues(),
): KeySetting[] {
  const keys: KeySetting[] = [];
  const confs =
    issues.attempt(() => optConfigArray(root, 'keys', 'residency.keys')) ?? [];
  confs.forEach((kc, i) => {
    const key = issues.attempt(() =>
      readKey(kc, `residency.keys[${i}]`, baseDir, keys),
    );
    if (key) keys.push(key);
  });
  return keys;
}

function readKey(
  kc: ConfigReader,
  path0: string,
  baseDir: string | undefined,
  earlier: KeySetting[],
): KeySetting {
  const id = optString(kc, 'id', path0);
  const path = id ? `${path0} (${id})` : path0;
  if (!id) fail('config_invalid', path, 'id is required');
  if (earlier.some(k => k.id === id)) {
    fail('key_duplicate', path, 'duplicate key id');
  }
  const { region, regionSource } = keyRegion(kc, id, path);
  const { algorithm, fingerprint, pem } = keyMaterial(kc, path, baseDir);
  const dup = earlier.find(k => k.fingerprint === fingerprint);
  if (dup) fail('key_duplicate', path, `same public key as ${dup.id}`);
  const key: KeySetting = {
    id,
    region,
    regionSource,
    fingerprint,
    algorithm,
    publicKeyPem: pem,
    revoked: optBoolean(kc, 'revoked', path) ?? false,
  };
  Object.assign(key, validity(kc, path));
  return key;
}

function keyRegion(
  kc: ConfigReader,
  id: string,
  path: string,
): Pick<KeySetting, 'region' | 'regionSource'> {
  const explicit = optString(kc, 'region', path);
  const fromId = regionFromKeyId(id);
  if (fromId.pinned) {
    if (explicit !== undefined && explicit !== fromId.region) {
      fail(
        'key_region_contradiction',
        path,
        `explicit region "${explicit}" contradicts region "${fromId.region}" in the key id`,
      );
    }
    return {
      region: checkRegion(fromId.region, `${path}.id`),
      regionSource: 'id',
    };
  }
  if (fromId.contradiction) {
    fail(
      'key_region_contradiction',
      path,
      `the key id contradicts itself: ${fromId.why}`,
    );
  }
  if (explicit === undefined) {
    fail('key_region_unpinned', path, `${fromId.why}; give an explicit region`);
  }
  return {
    region: checkRegion(explicit, `${path}.region`),
    regionSource: 'explicit',
  };
}

function pemText(
  kc: ConfigReader,
  path: string,
  baseDir: string | undefined,
): string {
  const inline = optString(kc, 'publicKey', path);
  const file = optString(kc, 'publicKeyFile', path);
  if ((inline === undefined) === (file === undefined)) {
    fail(
      'key_unreadable',
      path,
      'give exactly one of publicKey or publicKeyFile',
    );
  }
  if (inline !== undefined) return inline;
  try {
    return readRegularFile(resolveFile(baseDir, file!), MAX_PEM_BYTES).toString(
      'utf8',
    );
  } catch (e) {
    return fail(
      'key_unreadable',
      path,
      `cannot read publicKeyFile: ${(e as Error).message}`,
    );
  }
}

function keyMaterial(
  kc: ConfigReader,
  path: string,
  baseDir: string | undefined,
): { algorithm: string; fingerprint: string; pem: string } {
  const text = pemText(kc, path, baseDir);
  if (
    text.length > MAX_PEM_BYTES ||
    !text.includes('-----BEGIN PUBLIC KEY-----')
  ) {
    fail(
      'key_unreadable',
      path,
      'publicKey must be a PEM "PUBLIC KEY" (SubjectPublicKeyInfo)',
    );
  }
  try {
    const parsed = createPublicKey({ key: text, format: 'pem' });
    if (parsed.type !== 'public') throw new Error('not a public key');
    const ko = canonicalPublicKey(parsed);
    const pem = ko.export({ type: 'spki', format: 'pem' }).toString();
    return { ...describePublicKey(ko), pem };
  } catch (e) {
    return fail(
      'key_unreadable',
      path,
      `unreadable public key: ${(e as Error).message}`,
    );
  }
}

function validity(
  kc: ConfigReader,
  path: string,
): Pick<KeySetting, 'validFrom' | 'validUntil'> {
  const validFrom = checkDate(
    read(`${path}.validFrom`, () => kc.getOptionalString('validFrom')),
    `${path}.validFrom`,
  );
  const validUntil = checkDate(
    read(`${path}.validUntil`, () => kc.getOptionalString('validUntil')),
    `${path}.validUntil`,
  );
  if (validFrom && validUntil && validFrom >= validUntil) {
    fail('config_invalid', path, 'validFrom must be before validUntil');
  }
  return {
    ...(validFrom ? { validFrom } : {}),
    ...(validUntil ? { validUntil } : {}),
  };
}
