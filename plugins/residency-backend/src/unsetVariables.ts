/*
 * Backstage's config loader drops a value whose `${VAR}` is unset (the key simply
 * disappears); the CLI and the engine's readers refuse it. For a verifier a dropped
 * key, credential or region is a quiet change of trust, so the backend refuses it too:
 * at plugin startup the configuration files are read again, exactly as the default
 * root config service finds them (`--config` arguments, else app-config.yaml,
 * app-config.<BACKSTAGE_ENV>.yaml and the .local variants), with a substitution that
 * marks unset variables instead of dropping them. A marked value under `residency:`
 * that the running configuration lacks is an unset variable: startup fails naming
 * its path and the variable.
 */
import { ConfigSources } from '@backstage/config-loader';
import type { Config } from '@backstage/config';
import type { JsonValue } from '@backstage/types';
import { ResidencyConfigError } from '@residency-dev/plugin-residency-node';

type Env = Record<string, string | undefined>;

/** Marks an unset variable in re-read configuration (a variable name has no `]`). */
const MARK = '[[residency-unset:';
const MARK_END = ']]';
const MARKED = /\[\[residency-unset:([^\]]*)\]\]/g;

/** One value under `residency:` that Backstage dropped because a variable is unset. */
export interface DroppedValue {
  /** Path from the configuration root, e.g. `residency.registries[0].credentials.token`. */
  path: string;
  /** The unset variables the value refers to. */
  names: string[];
}

function isObj(v: unknown): v is Record<string, JsonValue> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Marked strings in a re-read document, with their path segments. */
function marked(
  value: unknown,
  segments: (string | number)[],
  out: { segments: (string | number)[]; names: string[] }[],
): void {
  if (typeof value === 'string') {
    const names = [...value.matchAll(MARKED)].map(m => m[1]);
    if (names.length > 0) out.push({ segments, names });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => marked(v, [...segments, i], out));
  } else if (isObj(value)) {
    for (const [k, v] of Object.entries(value)) {
      marked(v, [...segments, k], out);
    }
  }
}

/**
 * Whether the running configuration lost the value at `segments` (relative to the
 * re-read document `doc`). An array loses an element by getting shorter.
 */
function dropped(
  running: unknown,
  doc: unknown,
  segments: (string | number)[],
): boolean {
  let a: unknown = running;
  let b: unknown = doc;
  for (const s of segments) {
    if (typeof s === 'number') {
      if (!Array.isArray(a) || !Array.isArray(b)) return true;
      if (a.length < b.length) return true;
    } else if (!isObj(a) || !Object.hasOwn(a, s)) {
      return true;
    }
    a = (a as Record<string | number, unknown>)[s];
    b = (b as Record<string | number, unknown>)[s];
  }
  return false;
}

function pathOf(segments: (string | number)[]): string {
  return segments
    .map((s, i) => {
      if (typeof s === 'number') return `[${s}]`;
      return i === 0 ? s : `.${s}`;
    })
    .join('');
}

/**
 * Values under `residency:` that the running configuration lacks because a
 * `${VAR}` (without a fallback) or `$env: VAR` is unset. Reads the configuration
 * files the default root config service reads for `argv`; remote (URL) targets are
 * not read again.
 */
export async function findDroppedResidencyValues(options: {
  config: Config;
  argv?: string[];
  env?: Env;
}): Promise<DroppedValue[]> {
  const env = options.env ?? process.env;
  const targets = ConfigSources.parseArgs(options.argv ?? process.argv).filter(
    t => t.type === 'path',
  );
  const source = ConfigSources.defaultForTargets({
    targets,
    allowMissingDefaultConfig: true,
    substitutionFunc: async name => {
      const v = env[name]?.trim();
      return v === undefined ? `${MARK}${name}${MARK_END}` : v;
    },
  });
  const abort = new AbortController();
  const running = options.config.getOptional('residency');
  const out: DroppedValue[] = [];
  try {
    for await (const { configs } of source.readConfigData({
      signal: abort.signal,
    })) {
      for (const c of configs) {
        const doc = isObj(c.data) ? c.data.residency : undefined;
        const found: { segments: (string | number)[]; names: string[] }[] = [];
        marked(doc, [], found);
        for (const f of found) {
          if (dropped(running, doc, f.segments)) {
            out.push({
              path: pathOf(['residency', ...f.segments]),
              names: f.names,
            });
          }
        }
      }
      break;
    }
  } finally {
    abort.abort();
  }
  return out;
}

/**
 * Fails plugin startup, as the CLI fails, when a `residency:` value was dropped for
 * an unset environment variable.
 */
export async function assertNoUnsetResidencyVariables(options: {
  config: Config;
  argv?: string[];
  env?: Env;
}): Promise<void> {
  const lost = await findDroppedResidencyValues(options);
  if (lost.length === 0) return;
  const lines = lost.flatMap(d =>
    d.names.map(n => `${d.path}: environment variable ${n} is not set`),
  );
  throw new ResidencyConfigError(
    'config_invalid',
    `${lines.join(
      '; ',
    )} (Backstage would drop the value; set the variable or give a fallback with \${${
      lost[0].names[0]
    }:-value})`,
    lost[0].path,
  );
}
