import type { EntityResult } from '@residency-dev/plugin-residency-common';
import {
  faultOf,
  isAvailabilityFault,
} from '@residency-dev/plugin-residency-node';
import pLimit, { type Limit } from 'p-limit';

/**
 * The registry an image reference points at, as a grouping key for isolation
 * only (never for trust; the engine parses references for that):
 * `host[:port]`, `docker.io` for bare names, `oci` for layouts. Hand-written
 * because the engine does not export its reference parser.
 */
export function registryKeyOf(reference: string): string {
  const text = reference.trim();
  if (text.startsWith('oci:')) return 'oci';
  const first = text.split('@')[0].split('/')[0];
  const hasHost =
    text.includes('/') &&
    (first.includes('.') || first.includes(':') || first === 'localhost');
  return (hasHost ? first : 'docker.io').toLowerCase();
}

/** The registries an entity's images live on, sorted. */
export function registriesOf(images: string[]): string[] {
  return [...new Set(images.map(registryKeyOf))].sort();
}

/**
 * Per-registry isolation for one refresh cycle: each registry has its own
 * concurrency limit under a global one, and a circuit breaker that opens after
 * `threshold` consecutive failed checks; an open registry is not asked again in
 * this cycle. The state lives for one cycle only (a registry that failed in the
 * last cycle gets a fresh chance in the next).
 *
 * This is the refresher's only breaker. The engine's `RegistryCircuit`
 * (plugin-residency-node, per HTTP request) is not wired in here: this one
 * also orders and limits work per registry and marks the skipped entities
 * stale with the reason, which the engine cannot. What counts as a failure is
 * the engine's own classification (`faultOf`, `isAvailabilityFault`): the
 * registry unreachable, stalled or rate limited; not an aborted check, not a
 * registry that answered but misbehaved (a redirect off the allow-list), not
 * a content problem.
 */
export class RegistryIsolation {
  readonly #global: Limit;
  readonly #perRegistry = new Map<string, Limit>();
  readonly #perRegistryConcurrency: number;
  readonly #threshold: number;
  readonly #consecutiveFailures = new Map<string, number>();
  readonly #open = new Set<string>();

  constructor(options: {
    concurrency: number;
    perRegistryConcurrency: number;
    threshold: number;
  }) {
    this.#global = pLimit(Math.max(1, options.concurrency));
    this.#perRegistryConcurrency = Math.max(1, options.perRegistryConcurrency);
    this.#threshold = Math.max(1, options.threshold);
  }

  /** Registries cut off for this cycle among `registries`. */
  openAmong(registries: string[]): string[] {
    return registries.filter(r => this.#open.has(r));
  }

  /** Consecutive failures so far (0 for a healthy registry). */
  failuresOf(registry: string): number {
    return this.#consecutiveFailures.get(registry) ?? 0;
  }

  /**
   * Runs `fn` within the limits of every registry in `registries` (taken in
   * sorted order, so two entities on the same registries cannot deadlock) and
   * of the global limit, taken last so a waiting entity does not hold a global slot.
   */
  run<T>(registries: string[], fn: () => Promise<T>): Promise<T> {
    let wrapped = () => this.#global(fn);
    for (const registry of [...registries].reverse()) {
      const inner = wrapped;
      wrapped = () => this.#limitOf(registry)(inner);
    }
    return wrapped();
  }

  /** Counts an engine result against the breaker of each registry it touched. */
  record(result: EntityResult) {
    const failed = new Map<string, boolean>();
    for (const image of result.images) {
      const registry = registryKeyOf(image.reference);
      const fault = image.reasons.some(r => isAvailabilityFault(faultOf(r)));
      failed.set(registry, (failed.get(registry) ?? false) || fault);
    }
    for (const [registry, fault] of failed) {
      if (!fault) {
        this.#consecutiveFailures.set(registry, 0);
        continue;
      }
      const count = this.failuresOf(registry) + 1;
      this.#consecutiveFailures.set(registry, count);
      if (count >= this.#threshold) {
        this.#open.add(registry);
      }
    }
  }

  get threshold(): number {
    return this.#threshold;
  }

  #limitOf(registry: string): Limit {
    let limit = this.#perRegistry.get(registry);
    if (!limit) {
      limit = pLimit(this.#perRegistryConcurrency);
      this.#perRegistry.set(registry, limit);
    }
    return limit;
  }
}
