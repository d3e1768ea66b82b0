/*
 * Verification results of unchanged material, kept per trust and policy generation.
 *
 * A warm refresh reuses the registry material of an unchanged digest and decides it
 * again; the signature checks themselves need not run again as long as nothing they
 * depend on changed. The checks of one image depend on: the material (payloads,
 * signatures, envelopes), the manifest bytes and digest, the trusted keys and roots
 * (the configuration object: a new configuration is a new object, so a key rotation,
 * a new trusted root or a revocation starts an empty cache), the policy's identities,
 * and the verification time only through each key's validity window. So an entry is
 * found by the digest, the identities and on which side of each key's window the
 * verification time lies, and is used only for the very same material strings (each
 * entry keeps references to the strings it was verified from and compares them in
 * full: a few kilobytes per image, about what its parsed statements take, and cheaper
 * than hashing them on every decision); a result whose text mentions the verification
 * time (a refused future timestamp, an expired key) is never kept.
 *
 * Keyless material (certificates, Sigstore bundles) is always verified again: its
 * outcome depends on certificate lifetimes and transparency-log data in ways this
 * key does not capture.
 */
import type { ImageMaterial } from '@residency-dev/plugin-residency-common';
import type { Check } from './types';
import { oncePerFrozen } from '../frozen';

/** At most this many images per configuration; the oldest entries go first. */
const MAX_ENTRIES = 20_000;

type TrustSnapshot = {
  keys: readonly { validFrom?: string; validUntil?: string }[];
};

/** The checks of one image's material and how long each took (for the report). */
export type VerifiedMaterial = { checks: Check[]; durations: number[] };

const EMPTY_ROOTS: readonly unknown[] = [];
const caches = new WeakMap<object, WeakMap<object, Map<string, Entry[]>>>();

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

/**
 * The material an entry was verified from, in a fixed order: the list lengths and then
 * every string of each item. Two materials give equal lists (compared item by item
 * with ===, i.e. by content) only when they are the same strings in the same places.
 * The manifest bytes are not in it: the caller checked that they hash to `digest`
 * before asking (decideImage), so the digest stands for them.
 */
function materialParts(
  material: ImageMaterial,
): (string | number | undefined)[] {
  const parts: (string | number | undefined)[] = [
    material.simpleSignatures.length,
    material.envelopes.length,
  ];
  for (const s of material.simpleSignatures) {
    parts.push(
      s.payload,
      s.signature,
      s.rekorBundle,
      s.rfc3161Timestamp,
      s.source,
    );
  }
  for (const e of material.envelopes) {
    parts.push(e.envelope, e.rekorBundle, e.rfc3161Timestamp, e.source);
  }
  return parts;
}

function sameParts(
  a: readonly (string | number | undefined)[],
  b: readonly (string | number | undefined)[],
): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The identities as text, once per frozen list (the engine's policy is deep-frozen). */
const frozenIdentitiesText = oncePerFrozen((identities: object) =>
  JSON.stringify(identities),
);

function identitiesText(identities: unknown): string {
  return typeof identities === 'object' && identities !== null
    ? frozenIdentitiesText(identities)
    : JSON.stringify(identities ?? null);
}

/** At most this many materials are kept per digest (a digest seen through two sources). */
const PER_SLOT = 4;

type Entry = { parts: (string | number | undefined)[]; checks: Check[] };

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
  // The slot: window state, identities and digest, exactly (the state is letters
  // only and JSON text has no raw line break, so the text splits one way). The
  // entry found there is used only when its material is the very same strings as
  // this one (compared in full, not by a hash of them), so the cache can never
  // answer for other bytes; and nothing is hashed to find it (the manifest was
  // hashed once, to check the digest).
  const slot = `${windowState(options.trust, options.at)}\n${identitiesText(
    options.identities,
  )}\n${material.digest}`;
  const parts = materialParts(material);
  const entries = cache.get(slot);
  const hit = entries?.find(e => sameParts(e.parts, parts));
  if (hit) {
    verificationCacheStats.hits++;
    // The checks did not run again: the report shows them as taking no time.
    return { checks: hit.checks, durations: hit.checks.map(() => 0) };
  }
  verificationCacheStats.misses++;
  const verified = verify();
  const { checks } = verified;
  // Only failures can name the verification time (key windows, future timestamps).
  const failures = checks.filter(c => c.error);
  const at = failures.length > 0 ? options.at.toISOString() : '';
  if (!failures.some(c => JSON.stringify(c.error).includes(at))) {
    if (entries) {
      if (entries.length >= PER_SLOT) entries.shift();
      entries.push({ parts, checks });
    } else {
      if (cache.size >= MAX_ENTRIES) {
        cache.delete(cache.keys().next().value!);
      }
      cache.set(slot, [{ parts, checks }]);
    }
  }
  return verified;
}
