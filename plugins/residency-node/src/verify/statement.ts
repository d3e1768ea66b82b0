/*
 * in-toto Statements (v0.1 and v1) and the predicates Residency understands:
 * SLSA provenance v0.2 / v1, SBOMs (CycloneDX, SPDX) and the residency predicate.
 * Parsing is strict (duplicate keys rejected) and capped; every problem is a
 * VerifyError with code `malformed_statement`.
 */
import {
  RESIDENCY_PREDICATE_TYPE,
  type AttestationKind,
} from '@residency-dev/plugin-residency-common';
import { VerifyError } from '../errors';
import { oncePerFrozen } from '../frozen';
import { isObject, parseStrictJson, StrictJsonError } from './json';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const STATEMENT_TYPES = [
  'https://in-toto.io/Statement/v0.1',
  'https://in-toto.io/Statement/v1',
];
/** Predicate of cosign's own "signed this image" statements (cosign v3 bundles). */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

export const MAX_STATEMENT_BYTES = 8 * 1024 * 1024;
export const MAX_SUBJECTS = 1024;

export interface Statement {
  type: string;
  subjects: { name?: string; digest: Record<string, string> }[];
  predicateType: string;
  predicate: Record<string, unknown>;
}

function malformed(message: string): never {
  throw new VerifyError('malformed_statement', message);
}

/** Parses an in-toto Statement from payload bytes. */
export function parseStatement(payload: Uint8Array): Statement {
  let doc: unknown;
  try {
    doc = parseStrictJson(payload, { maxLength: MAX_STATEMENT_BYTES });
  } catch (e) {
    if (e instanceof StrictJsonError && e.problem === 'too_large') {
      throw new VerifyError(
        'malformed_statement',
        'Statement exceeds the size cap.',
        { problem: 'too_large' },
      );
    }
    return malformed(`Statement is not strict JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) malformed('Statement is not a JSON object.');
  const type = doc._type;
  if (typeof type !== 'string') malformed('Statement has no _type.');
  if (!STATEMENT_TYPES.includes(type))
    malformed(`Unknown statement _type "${type.slice(0, 80)}".`);
  const subject = doc.subject;
  if (!Array.isArray(subject) || subject.length === 0)
    malformed('Statement has no subjects.');
  if (subject.length > MAX_SUBJECTS)
    malformed(`Statement has more than ${MAX_SUBJECTS} subjects.`);
  const subjects: Statement['subjects'] = subject.map((s, i) => {
    if (!isObject(s)) malformed(`subject[${i}] is not an object.`);
    const digest = s.digest;
    if (!isObject(digest) || Object.keys(digest).length === 0) {
      malformed(`subject[${i}] has no digest.`);
    }
    const d: Record<string, string> = {};
    for (const [alg, hex] of Object.entries(digest)) {
      if (typeof hex !== 'string' || hex.length === 0 || hex.length > 256) {
        malformed(
          `subject[${i}].digest.${alg.slice(0, 20)} is not a digest string.`,
        );
      }
      d[alg] = hex;
    }
    const name = s.name;
    if (name !== undefined && typeof name !== 'string')
      malformed(`subject[${i}].name is not a string.`);
    return name !== undefined ? { name, digest: d } : { digest: d };
  });
  const predicateType = doc.predicateType;
  if (typeof predicateType !== 'string' || predicateType.length === 0) {
    malformed('Statement has no predicateType.');
  }
  const predicate = doc.predicate ?? {};
  if (!isObject(predicate)) malformed('Statement predicate is not an object.');
  return { type, subjects, predicateType, predicate };
}

/** Is the image digest (`alg:hex`) among the statement's subjects? */
export function subjectMatches(statement: Statement, digest: string): boolean {
  const i = digest.indexOf(':');
  if (i <= 0) return false;
  const alg = digest.slice(0, i);
  const hex = digest.slice(i + 1).toLowerCase();
  return statement.subjects.some(
    s =>
      typeof s.digest[alg] === 'string' && s.digest[alg].toLowerCase() === hex,
  );
}

/** The attestation kind a predicate type belongs to. */
export function kindOf(
  predicateType: string,
): AttestationKind | 'signature' | 'other' {
  const t = predicateType.replace(/\/+$/, '');
  if (t === COSIGN_SIGN_PREDICATE) return 'signature';
  if (t === RESIDENCY_PREDICATE_TYPE) return 'residency';
  if (/^https:\/\/slsa\.dev\/provenance\/v(0\.1|0\.2|1)$/.test(t))
    return 'provenance';
  if (/^https:\/\/cyclonedx\.org\/bom(\/v?[0-9.]+)?$/.test(t)) return 'sbom';
  if (/^https:\/\/spdx\.dev\/Document(\/v?[0-9.]+)?$/.test(t)) return 'sbom';
  return 'other';
}

const MAX_URIS = 2048;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v.slice(0, 2048) : undefined;
}

/** Collects URI-looking strings from a JSON value (parameters), capped. */
function collectUris(v: unknown, out: string[], depth = 0): void {
  if (out.length >= MAX_URIS || depth > 16) return;
  if (typeof v === 'string') {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) out.push(v.slice(0, 2048));
    return;
  }
  if (Array.isArray(v)) {
    for (const e of v) collectUris(e, out, depth + 1);
    return;
  }
  if (isObject(v))
    for (const e of Object.values(v)) collectUris(e, out, depth + 1);
}

/** Facts read from a SLSA provenance predicate (v0.2 or v1). */
export interface ProvenanceFacts {
  slsaVersion: 'v0.1' | 'v0.2' | 'v1';
  builderId?: string;
  buildType?: string;
  /**
   * Every URI the provenance references: the builder, materials / resolved
   * dependencies and parameters. The build type is left out on purpose: it names
   * the schema of the parameters (e.g. a GitHub Actions workflow type), not a
   * place the build fetched from or ran in, so it says nothing about residency.
   */
  uris: string[];
}

export function provenanceFacts(statement: Statement): ProvenanceFacts {
  const p = statement.predicate;
  const uris: string[] = [];
  if (/\/v1\/?$/.test(statement.predicateType)) {
    const bd = isObject(p.buildDefinition) ? p.buildDefinition : {};
    const rd = isObject(p.runDetails) ? p.runDetails : {};
    const builder = isObject(rd.builder) ? rd.builder : {};
    const builderId = str(builder.id);
    const buildType = str(bd.buildType);
    if (builderId) uris.push(builderId);
    if (Array.isArray(bd.resolvedDependencies)) {
      for (const d of bd.resolvedDependencies.slice(0, MAX_URIS)) {
        if (isObject(d) && str(d.uri)) uris.push(str(d.uri)!);
      }
    }
    collectUris(bd.externalParameters, uris);
    collectUris(bd.internalParameters, uris);
    return { slsaVersion: 'v1', builderId, buildType, uris };
  }
  const builder = isObject(p.builder) ? p.builder : {};
  const builderId = str(builder.id);
  const buildType = str(p.buildType);
  if (builderId) uris.push(builderId);
  if (Array.isArray(p.materials)) {
    for (const m of p.materials.slice(0, MAX_URIS)) {
      if (isObject(m) && str(m.uri)) uris.push(str(m.uri)!);
    }
  }
  const inv = isObject(p.invocation) ? p.invocation : {};
  const cs = isObject(inv.configSource) ? inv.configSource : {};
  if (str(cs.uri)) uris.push(str(cs.uri)!);
  collectUris(inv.parameters, uris);
  collectUris(inv.environment, uris);
  return {
    slsaVersion: /v0\.1\/?$/.test(statement.predicateType) ? 'v0.1' : 'v0.2',
    builderId,
    buildType,
    uris,
  };
}

/** Host of a URI (`git+https://h/x`, `https://h:443/x`); undefined for host-less URIs (`pkg:`). */
export function hostOf(uri: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)/i.exec(
    uri,
  );
  if (!m || m[1] === '') return undefined;
  return m[1].toLowerCase().replace(/\.$/, '');
}

/** The patterns in lower case, once per list (a policy's list serves every URI of every image). */
const lowerCased = oncePerFrozen((allowed: readonly string[]) =>
  allowed.map(a => a.toLowerCase()),
);

/** Is `host` allowed by the list (exact, or `*.suffix` for subdomains)? */
export function hostAllowed(host: string, allowed: string[]): boolean {
  return lowerCased(allowed).some(pat => {
    if (pat.startsWith('*.'))
      return host.endsWith(pat.slice(1)) && host.length > pat.length - 1;
    return host === pat;
  });
}

/** The references of a provenance predicate outside the allowed hosts. */
export function externalReferences(
  facts: ProvenanceFacts,
  allowedHosts: string[],
): string[] {
  const out: string[] = [];
  for (const u of facts.uris) {
    const h = hostOf(u);
    if (h !== undefined && !hostAllowed(h, allowedHosts) && !out.includes(u))
      out.push(u);
  }
  return out;
}

/** Facts of an SBOM predicate. */
export function sbomFacts(statement: Statement): {
  format: 'cyclonedx' | 'spdx';
  specVersion?: string;
} {
  const p = statement.predicate;
  if (/cyclonedx/.test(statement.predicateType)) {
    return {
      format: 'cyclonedx',
      ...(str(p.specVersion) ? { specVersion: str(p.specVersion) } : {}),
    };
  }
  return {
    format: 'spdx',
    ...(str(p.spdxVersion) ? { specVersion: str(p.spdxVersion) } : {}),
  };
}

/** The residency predicate (`https://residency.dev/attestation/v1`). */
export interface ResidencyPredicate {
  buildRegion: string;
  storageLocations: { uri: string; region: string }[];
  dataLocations: { kind: string; region: string }[];
}

const REGION_RE = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/** Validates the residency predicate; malformed_statement if it does not match the schema. */
export function residencyPredicate(statement: Statement): ResidencyPredicate {
  const p = statement.predicate;
  const region = (v: unknown, where: string): string => {
    if (typeof v !== 'string' || !REGION_RE.test(v))
      malformed(`residency predicate: ${where} is not a region id.`);
    return v;
  };
  const buildRegion = region(p.buildRegion, 'buildRegion');
  const list = (v: unknown, where: string): Record<string, unknown>[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.length > 256)
      malformed(`residency predicate: ${where} is not a list (max 256).`);
    return v.map((e, i) => {
      if (!isObject(e))
        malformed(`residency predicate: ${where}[${i}] is not an object.`);
      return e;
    });
  };
  const storageLocations = list(p.storageLocations, 'storageLocations').map(
    (e, i) => {
      if (typeof e.uri !== 'string' || e.uri.length > 2048)
        malformed(
          `residency predicate: storageLocations[${i}].uri is missing.`,
        );
      return {
        uri: e.uri,
        region: region(e.region, `storageLocations[${i}].region`),
      };
    },
  );
  const dataLocations = list(p.dataLocations, 'dataLocations').map((e, i) => {
    if (typeof e.kind !== 'string' || e.kind.length > 256)
      malformed(`residency predicate: dataLocations[${i}].kind is missing.`);
    return {
      kind: e.kind,
      region: region(e.region, `dataLocations[${i}].region`),
    };
  });
  return { buildRegion, storageLocations, dataLocations };
}
