/*
 * What a caller needs for a per-registry circuit breaker (issue 13): a classification
 * of source errors into registry faults (unreachable or stalled vs. content problems),
 * and an optional per-cycle health object every request of a registry consults and
 * reports to. The breaker policy itself is small and hand-written: no library here
 * keys breakers by host and classifies our typed errors.
 */
import { SourceError, type SourceErrorCode } from './types';

/**
 * The kind of fault behind a source error:
 * - `unreachable`: refused, reset, 5xx after retries, circuit already open;
 * - `stalled`: a connect/header/body timeout, the request or per-image deadline;
 * - `rate_limited`: 429 beyond retries or Retry-After beyond the cap;
 * - `misbehaving`: the registry answered, but broke the protocol (malformed manifest,
 *   a redirect or link leaving it, an incomplete listing);
 * - `auth`: 401/403 or a refused token realm;
 * - `content`: the registry answered and the content is wrong or absent (digest
 *   mismatch, too large, not found): the registry itself is healthy;
 * - `aborted`: the caller gave up; says nothing about the registry.
 * Undefined for input errors (bad reference, registry not allowed).
 */
export type RegistryFault =
  | 'unreachable'
  | 'stalled'
  | 'rate_limited'
  | 'misbehaving'
  | 'auth'
  | 'content'
  | 'aborted';

const STALLED = new Set(['timeout', 'image_deadline', 'stalled']);
const MISBEHAVING = new Set([
  'malformed_manifest',
  'link_leaves_registry',
  'redirect_not_allowed',
  'insecure_redirect',
  'listing_incomplete',
  'page_cap',
]);

/** Classifies a `SourceError`, or a reason carrying its code and details. */
export function faultOf(
  error:
    | SourceError
    | { code: string; details?: Record<string, unknown> }
    | unknown,
): RegistryFault | undefined {
  if (!error || typeof error !== 'object' || !('code' in error))
    return undefined;
  const { code, details } = error as {
    code: SourceErrorCode | string;
    details?: Record<string, unknown>;
  };
  const problem =
    typeof details?.problem === 'string' ? details.problem : undefined;
  switch (code) {
    case 'registry_unreachable':
      if (problem === 'aborted') return 'aborted';
      if (problem && STALLED.has(problem)) return 'stalled';
      if (problem && MISBEHAVING.has(problem)) return 'misbehaving';
      return 'unreachable';
    case 'rate_limited':
      return 'rate_limited';
    case 'registry_auth':
      return 'auth';
    case 'too_large':
      return problem === 'page_cap' ? 'misbehaving' : 'content';
    case 'digest_mismatch':
    case 'not_found':
      return 'content';
    default:
      return undefined;
  }
}

/** Faults that say the registry is not serving: what a circuit breaker counts. */
export function isAvailabilityFault(fault: RegistryFault | undefined): boolean {
  return (
    fault === 'unreachable' || fault === 'stalled' || fault === 'rate_limited'
  );
}

/**
 * Health of the registries for one refresh cycle, shared by every request a source
 * makes. Pass one per cycle with `source.newCycle({ health })` (or the engine's
 * `newCycle`). Implement it yourself or use {@link RegistryCircuit}.
 */
export interface RegistryHealth {
  /**
   * Called before every logical request to `host`; throw a `SourceError` (e.g.
   * `registry_unreachable` with `problem: circuit_open`) to refuse it without I/O.
   */
  check(host: string): void;
  /** Called after every logical request to `host` (retries done) with its outcome. */
  record(host: string, outcome: 'ok' | RegistryFault): void;
}

/** State of one registry in a {@link RegistryCircuit}. */
export interface RegistryCircuitState {
  consecutiveFailures: number;
  open: boolean;
  /** The fault that opened the circuit. */
  lastFault?: RegistryFault;
}

/**
 * A per-cycle circuit breaker: after `failureThreshold` consecutive availability
 * faults (unreachable, stalled, rate-limited) a registry is unavailable for the rest
 * of the cycle and every further request fails at once with
 * `registry_unreachable` (`problem: circuit_open`). Any answer from the registry,
 * even a content problem, resets the count. Create a new one per cycle.
 */
export class RegistryCircuit implements RegistryHealth {
  private readonly states = new Map<string, RegistryCircuitState>();
  private readonly threshold: number;

  constructor(options: { failureThreshold?: number } = {}) {
    this.threshold = Math.max(1, Math.floor(options.failureThreshold ?? 3));
  }

  check(host: string): void {
    const state = this.states.get(host);
    if (!state?.open) return;
    throw new SourceError(
      'registry_unreachable',
      `Registry ${host} is marked unavailable for this cycle after ${state.consecutiveFailures} consecutive failures`,
      {
        host,
        problem: 'circuit_open',
        ...(state.lastFault ? { lastFault: state.lastFault } : {}),
      },
    );
  }

  record(host: string, outcome: 'ok' | RegistryFault): void {
    if (outcome === 'aborted') return;
    const state = this.states.get(host) ?? {
      consecutiveFailures: 0,
      open: false,
    };
    if (state.open) return;
    if (isAvailabilityFault(outcome as RegistryFault)) {
      state.consecutiveFailures++;
      state.lastFault = outcome as RegistryFault;
      state.open = state.consecutiveFailures >= this.threshold;
    } else {
      state.consecutiveFailures = 0;
    }
    this.states.set(host, state);
  }

  /** Whether `host` is marked unavailable for this cycle. */
  isOpen(host: string): boolean {
    return this.states.get(host)?.open ?? false;
  }

  /** The state of every registry seen this cycle (for logs and metrics). */
  snapshot(): Record<string, RegistryCircuitState> {
    return Object.fromEntries([...this.states].map(([h, s]) => [h, { ...s }]));
  }
}

/** The health object of the current cycle, shared by a source and its clients. */
export interface HealthSlot {
  current?: RegistryHealth;
}
