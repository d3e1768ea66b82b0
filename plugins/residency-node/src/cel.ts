/*
 * Tenant rules in CEL (@bufbuild/cel). A rule is an expression over the verified
 * facts of an entity that must evaluate to `true`; anything else (false, an error,
 * a non-boolean) fails the rule. Expressions are parsed once at config load.
 */
import { celEnv, isCelError, parse, plan } from '@bufbuild/cel';

const MAX_EXPRESSION_LENGTH = 4096;

type Compiled = (bindings: Record<string, unknown>) => unknown;

const cache = new Map<string, Compiled>();

/** Parses and plans a rule; throws an Error with a readable message if it does not parse. */
export function compileRule(expression: string): Compiled {
  const hit = cache.get(expression);
  if (hit) return hit;
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw new Error(
      `expression longer than ${MAX_EXPRESSION_LENGTH} characters`,
    );
  }
  const parsed = parse(expression);
  const env = celEnv();
  const run = plan(env, parsed) as unknown as Compiled;
  if (cache.size > 1000) cache.clear();
  cache.set(expression, run);
  return run;
}

/** Converts plain JSON facts to CEL inputs (integers become CEL ints). */
function toCel(value: unknown): unknown {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? BigInt(value) : value;
  }
  if (Array.isArray(value)) return value.map(toCel);
  if (value && typeof value === 'object') {
    const m = new Map<string, unknown>();
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) m.set(k, toCel(v));
    }
    return m;
  }
  return value ?? null;
}

/** Evaluates a rule; `ok` only when the expression yields boolean `true`. */
export function evaluateRule(
  expression: string,
  facts: Record<string, unknown>,
): { ok: boolean; error?: string } {
  try {
    const run = compileRule(expression);
    const bindings: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(facts)) bindings[k] = toCel(v);
    const out = run(bindings);
    if (isCelError(out)) return { ok: false, error: out.message };
    if (out === true) return { ok: true };
    return {
      ok: false,
      error:
        typeof out === 'boolean' ? undefined : 'rule did not yield a boolean',
    };
  } catch (e) {
    return { ok: false, error: (e as Error)?.message ?? 'rule failed' };
  }
}
