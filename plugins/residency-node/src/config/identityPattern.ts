/*
 * Tenant identity patterns (`subjectRegExp`) are chosen by the platform owner but
 * matched against certificate identities chosen by the signer, so they run on a
 * linear-time engine (RE2 semantics via re2js): no pattern can make a match
 * backtrack exponentially. Patterns RE2 cannot compile (back-references,
 * look-around) are refused when the configuration loads.
 */
import { RE2JS } from 're2js';

/** A compiled identity pattern; matches the whole subject. @public */
export interface IdentityMatcher {
  test(subject: string): boolean;
}

const cache = new Map<string, IdentityMatcher>();
const CACHE_LIMIT = 1024;

/**
 * Compiles `pattern` anchored at both ends (the subject must match whole), once
 * per pattern. Throws when RE2 cannot compile it.
 *
 * @public
 */
export function identityMatcher(pattern: string): IdentityMatcher {
  let m = cache.get(pattern);
  if (!m) {
    const re = RE2JS.compile(`^(?:${pattern})$`);
    m = { test: (s: string) => re.matches(s) };
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(pattern, m);
  }
  return m;
}
