/*
 * Trust an auditor brings to `verify-evidence` without the platform's full
 * app-config: a trusted-keys file (keys with their regions, boundaries, keyless
 * identities) and/or a Sigstore trusted_root.json. Both are turned into the engine's
 * settings through the same loader as a configuration (`--config`), so keys are
 * parsed, fingerprinted and region-checked by one code path.
 *
 * Trusted-keys file (YAML or JSON):
 *
 *   keys:                       # every key the bundle records must be here
 *     - id: eu-signing-2026     # the key id as recorded (shown by verify-evidence)
 *       pem: |                  # the public key PEM, or `path: eu.pub` (relative to this file)
 *         -----BEGIN PUBLIC KEY-----
 *         ...
 *       region: eu-central-1    # required unless the id pins a region (KMS ARN)
 *       validFrom: 2026-01-01T00:00:00Z   # optional
 *       validUntil: 2027-01-01T00:00:00Z  # optional
 *       revoked: false                    # optional
 *   boundaries:                 # the regions of each boundary a bundle may name
 *     eu-sovereign: [eu-central-1, eu-west-1]
 *   identities:                 # optional: keyless identities, each bound to a region
 *     - issuer: https://token.actions.githubusercontent.com
 *       subject: https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main
 *       region: eu-central-1
 *   exceptionKeys:              # optional: keys trusted to sign residency exceptions
 *     - path: portal-exceptions.pub   # or `pem: |` (as residency.exceptions.keys)
 */
import { dirname, resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import {
  configReaderFromObject,
  parseConfigYaml,
  readRegularFile,
} from '@residency-dev/plugin-residency-node';
import { CliError, EXIT, errorMessage } from '../errors';
import type { CliIo } from '../io';
import type { EngineApi, ResidencySettings } from '../engine';
import { exceptionKeys } from './exception';

/** Largest trusted-keys file read, in bytes. */
export const MAX_TRUSTED_KEYS_BYTES = 1024 * 1024;

const TOP = new Set(['keys', 'boundaries', 'identities', 'exceptionKeys']);
const EXCEPTION_KEY_FIELDS: Record<string, string> = {
  pem: 'publicKey',
  path: 'publicKeyFile',
};
const KEY_FIELDS: Record<string, string> = {
  id: 'id',
  pem: 'publicKey',
  path: 'publicKeyFile',
  region: 'region',
  validFrom: 'validFrom',
  validUntil: 'validUntil',
  revoked: 'revoked',
};
/** The tenant the file's identities are attached to (identities belong to tenants in settings). */
const IDENTITY_TENANT = 'trusted-keys-file';

function isObj(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function bad(file: string, message: string): CliError {
  return new CliError(`trusted keys ${file}: ${message}`, {
    exitCode: EXIT.USAGE,
    code: 'config_invalid',
    hint: 'See `residency verify-evidence --help` and the CLI README for the trusted-keys format.',
  });
}

/** The `residency:` block equivalent to a trusted-keys document. */
function residencyBlock(doc: unknown, file: string): Record<string, unknown> {
  if (!isObj(doc)) throw bad(file, 'must be a YAML/JSON object');
  const unknown = Object.keys(doc).filter(k => !TOP.has(k));
  if (unknown.length > 0) {
    throw bad(file, `unknown field(s) ${unknown.join(', ')}`);
  }
  const keys = doc.keys ?? [];
  if (!Array.isArray(keys)) throw bad(file, 'keys must be a list');
  const mapped = keys.map((k, i) => {
    if (!isObj(k)) throw bad(file, `keys[${i}] must be an object`);
    const out: Record<string, unknown> = {};
    for (const [f, v] of Object.entries(k)) {
      const to = KEY_FIELDS[f];
      if (!to) throw bad(file, `keys[${i}].${f} is not a known field`);
      out[to] = v;
    }
    return out;
  });
  const boundaries = doc.boundaries ?? {};
  if (!isObj(boundaries)) throw bad(file, 'boundaries must be a map');
  const block: Record<string, unknown> = {
    boundaries,
    keys: mapped,
    tenants: {},
  };
  if (doc.exceptionKeys !== undefined) {
    if (!Array.isArray(doc.exceptionKeys)) {
      throw bad(file, 'exceptionKeys must be a list');
    }
    block.exceptions = {
      keys: doc.exceptionKeys.map((k, i) => {
        if (!isObj(k)) throw bad(file, `exceptionKeys[${i}] must be an object`);
        const out: Record<string, unknown> = {};
        for (const [f, v] of Object.entries(k)) {
          const to = EXCEPTION_KEY_FIELDS[f];
          if (!to)
            throw bad(file, `exceptionKeys[${i}].${f} is not a known field`);
          out[to] = v;
        }
        return out;
      }),
    };
  }
  if (doc.identities !== undefined) {
    if (!Array.isArray(doc.identities)) {
      throw bad(file, 'identities must be a list');
    }
    const first = Object.keys(boundaries)[0];
    if (!first) throw bad(file, 'identities need at least one boundary');
    block.tenants = {
      [IDENTITY_TENANT]: {
        boundary: first,
        require: ['signature'],
        identities: doc.identities,
      },
    };
  }
  return block;
}

/**
 * Settings from `--trusted-keys` and/or `--trusted-root` (both paths as given,
 * resolved against the working directory). Every fault is a CliError, exit 3.
 */
export async function loadAuditorTrust(
  options: { trustedKeys?: string; trustedRoot?: string },
  io: CliIo,
  engine: EngineApi,
): Promise<{ settings: ResidencySettings; exceptionKeys: KeyObject[] }> {
  let block: Record<string, unknown> = {
    boundaries: {},
    keys: [],
    tenants: {},
  };
  let baseDir = io.cwd;
  const keysFile = options.trustedKeys
    ? resolve(io.cwd, options.trustedKeys)
    : undefined;
  if (keysFile) {
    let text: string;
    try {
      text = readRegularFile(keysFile, MAX_TRUSTED_KEYS_BYTES).toString('utf8');
    } catch (e) {
      throw bad(keysFile, `cannot read: ${errorMessage(e)}`);
    }
    let doc: unknown;
    try {
      doc = parseConfigYaml(text);
    } catch (e) {
      throw bad(keysFile, errorMessage(e));
    }
    block = residencyBlock(doc, keysFile);
    baseDir = dirname(keysFile);
  }
  if (options.trustedRoot) {
    block.trustedRoots = [
      {
        name: 'trusted-root',
        path: resolve(io.cwd, options.trustedRoot),
      },
    ];
  }
  const where = [keysFile, options.trustedRoot].filter(Boolean).join(', ');
  try {
    const reader = configReaderFromObject(
      { residency: block },
      { env: io.env },
    );
    return {
      settings: await engine.loadResidencySettings(reader, { baseDir }),
      exceptionKeys: exceptionKeys({ config: reader, baseDir }),
    };
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(
      `invalid auditor trust in ${where}: ${errorMessage(e)}`,
      {
        exitCode: EXIT.USAGE,
        code: engine.isConfigError(e) ? e.code : 'config_invalid',
        hint: 'Fix the entry named above; paths in a trusted-keys file are relative to it.',
      },
    );
  }
}
