/*
 * Verification results of unchanged material, kept per trust and policy generation.
 *
 * A warm refresh reuses the registry material of an unchanged digest and decides it
 * again; the signature checks themselves need not run again as long as nothing they
 * depend on changed. The checks of one image depend on: the material (payloads,
 * signatures, envelopes), the manifest bytes and digest, the trusted keys and roots
 * (the configuration object: a new configuration is a new object, so a key rotation,
 * a new trusted root or a revocation starts an empty cache), the policy's identities,
 * and the verification time only through each key's validity window. So the cache
 * key holds a hash of the material, the identities and on which side of each key's
 * window the verification time lies; a result whose text mentions the verification
 * time (a refused future timestamp, an expired key) is never kept.
 *
 * Keyless material (certificates, Sigstore bundles) is always verified again: its
 * outcome depends on certificate lifetimes and transparency-log data in ways this
 * key does not capture.
 */
import { createHash } from 'node:crypto';
import type { ImageMaterial } from '@residency-dev/plugin-residency-common';
import type { Check } from './types';

/** At most this many images per configuration; the oldest entries go first. */
const MAX_ENTRIES = 20_000;

type TrustSnapshot = {
  keys: readonly { validFrom?: string; validUntil?: string }[];
};

/** The checks of one image's material and how long each took (for the report). */
export type VerifiedMaterial = { checks: Check[]; durations: number[] };

const EMPTY_ROOTS: readonly unknown[] = [];
const caches = new WeakMap<object, WeakMap<object, Map<string, Check[]>>>();

/** Counters, for tests and the benchmark. */
export const verificationCacheStats = { hits: 0, misses: 0, uncacheable: 0 };

function keyless(material: ImageMaterial): boolean {
  return (
    material.bundles.length > 0 ||
    material.simpleSignatures.some(s => s.certificate || s.chain) ||
    material.envelopes.some(e => e.certificate || e.chain)
  );
}

/** Which side of each key's validity window `at` lies on: one character per key. */
function windowState(trust: TrustSnapshot, at: Date): string {
  const ms = at.getTime();
  let out = '';
  for (const k of trust.keys) {
    const from = k.validFrom ? Date.parse(k.validFrom) : undefined;
    const until = k.validUntil ? Date.parse(k.validUntil) : undefined;
    if (from !== undefined && ms < from) out += 'b';
    else if (until !== undefined && ms > until) out += 'a';
    else out += 'i';
  }
  return out;
}

function materialKey(
  material: ImageMaterial,
  identities: unknown,
  state: string,
): string {
  // Each piece prefixed with its length (so no two materials give the same text),
  // collected into one string and hashed with one call: the same bytes as feeding the
  // pieces one by one, without a call into the hash per piece.
  let text = '';
  const put = (v: string | undefined) => {
    text += v === undefined ? '-;' : `${v.length}:${v}`;
  };
  // The manifest bytes are not fed: the caller checked that they hash to `digest`
  // before asking (decideImage), so the digest stands for them.
  put(material.digest);
  put(String(material.simpleSignatures.length));
  for (const s of material.simpleSignatures) {
    put(s.payload);
    put(s.signature);
    put(s.rekorBundle);
    put(s.rfc3161Timestamp);
    put(s.source);
  }
  put(String(material.envelopes.length));
  for (const e of material.envelopes) {
    put(e.envelope);
    put(e.rekorBundle);
    put(e.rfc3161Timestamp);
    put(e.source);
  }
  put(JSON.stringify(identities ?? null));
  put(state);
  return createHash('sha256').update(text).digest('base64url');
}

/**
 * The checks of `material`, computed by `verify` or taken from the cache of this
 * trust snapshot and these trusted roots. The material's manifest must already be
 * known to hash to its digest.
 */
export function cachedChecks(
  material: ImageMaterial,
  options: {
    trust: TrustSnapshot;
    trustedRoots: readonly unknown[];
    identities: unknown;
    at: Date;
  },
  verify: () => VerifiedMaterial,
): VerifiedMaterial {
  if (keyless(material)) {
    verificationCacheStats.uncacheable++;
    return verify();
  }
  let byRoots = caches.get(options.trust);
  if (!byRoots) {
    byRoots = new WeakMap();
    caches.set(options.trust, byRoots);
  }
  const roots =
    options.trustedRoots.length === 0 ? EMPTY_ROOTS : options.trustedRoots;
  let cache = byRoots.get(roots);
  if (!cache) {
    cache = new Map();
    byRoots.set(roots, cache);
  }
  const key = materialKey(
    material,
    options.identities,
    windowState(options.trust, options.at),
  );
  const hit = cache.get(key);
  if (hit) {
    verificationCacheStats.hits++;
    // The checks did not run again: the report shows them as taking no time.
    return { checks: hit, durations: hit.map(() => 0) };
  }
  verificationCacheStats.misses++;
  const verified = verify();
  const { checks } = verified;
  // Only failures can name the verification time (key windows, future timestamps).
  const at = options.at.toISOString();
  if (!checks.some(c => c.error && JSON.stringify(c.error).includes(at))) {
    if (cache.size >= MAX_ENTRIES) {
      cache.delete(cache.keys().next().value!);
    }
    cache.set(key, checks);
  }
  return verified;
}
