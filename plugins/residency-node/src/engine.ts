/*
 * The engine: resolves each image once, fetches its signed material (or reuses a
 * previous result for the same digest), then hands everything to the pure decision
 * function so the same decision can be recomputed later from the evidence record.
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import pMap from 'p-map';
import type {
  EvidenceRecord,
  ImageMaterial,
  ImageResult,
} from '@residency-dev/plugin-residency-common';
import { EVIDENCE_RECORD_SCHEMA } from '@residency-dev/plugin-residency-common';
import type {
  EntityEvaluation,
  EvaluateEntityOptions,
  ResidencyEngine,
  ResidencySettings,
} from './api';
import type { ArtifactSource, ImageReference } from './source/types';
import { SourceError } from './source/types';
import { createArtifactSource } from './source';
import type { RegistryHealth } from './source/health';
import { parseImageReference } from './reference';
import { decideEntity, type DecisionContext, type ImageInput } from './decide';
import { policyOf, trustOf } from './evidence';
import { canonicalHash } from './canonical';
import { ENGINE_VERSION } from './version';

/** Minimal logger (Backstage's LoggerService satisfies it). */
export interface EngineLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error?(message: string, meta?: Record<string, unknown>): void;
}

/** Options of DefaultResidencyEngine.create. @public */
export interface ResidencyEngineOptions {
  settings: ResidencySettings;
  /** Where images and their signatures come from; defaults to createArtifactSource(settings). */
  source?: ArtifactSource;
  /** Clock; injectable for tests. */
  now?: () => Date;
  logger?: EngineLogger;
  /** Images of one entity evaluated at once (the source limits per registry). */
  concurrency?: number;
}

/** Layout path key: absolute, normalised. */
export function layoutKey(path: string): string {
  return isAbsolute(path)
    ? resolvePath(path)
    : resolvePath(process.cwd(), path);
}

function toB64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(
    'base64',
  );
}

function defaultSource(settings: ResidencySettings): ArtifactSource {
  return createArtifactSource({
    registries: settings.registries,
    limits: { concurrencyPerRegistry: settings.limits.concurrencyPerRegistry },
    fetchOptions: {
      imageTimeoutMs: (settings.limits.imageTimeoutSeconds ?? 120) * 1000,
    },
    // Only the configured layout directories may be read.
    layoutRoots: (settings.layouts ?? []).map(l => l.path),
  });
}

/**
 * The default ResidencyEngine. One per process; safe for concurrent use (no
 * per-request state is kept).
 *
 * @public
 */
export class DefaultResidencyEngine implements ResidencyEngine {
  readonly settings: ResidencySettings;
  private readonly sourceFactory: () => ArtifactSource;
  private sourceInstance?: ArtifactSource;
  private readonly now: () => Date;
  private readonly logger?: EngineLogger;
  private readonly concurrency: number;
  private readonly trustHashValue: string;
  private readonly trust: EvidenceRecord['trust'];
  /** Tenant policy snapshots and their hashes, computed once per configuration. */
  private readonly policies = new Map<
    string | undefined,
    { policy: EvidenceRecord['policy']; hash: string }
  >();
  private readonly ownsSource: boolean;

  static create(options: ResidencyEngineOptions): DefaultResidencyEngine {
    return new DefaultResidencyEngine(options);
  }

  private constructor(options: ResidencyEngineOptions) {
    this.settings = options.settings;
    const injected = options.source;
    this.ownsSource = !injected;
    this.sourceFactory = () => injected ?? defaultSource(options.settings);
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger;
    this.concurrency = Math.max(1, options.concurrency ?? 8);
    this.trust = deepFreeze(trustOf(this.settings));
    this.trustHashValue = canonicalHash(this.trust);
  }

  /** The policy snapshot of a tenant (or of "no tenant"), built on first use. */
  private policySnapshot(tenant: string | undefined) {
    const known =
      tenant === undefined || Object.hasOwn(this.settings.tenants, tenant);
    let snap = known ? this.policies.get(tenant) : undefined;
    if (!snap) {
      const policy = deepFreeze(policyOf(this.settings, tenant));
      snap = { policy, hash: canonicalHash(policy) };
      // Unknown tenant names come from annotations: not cached (unbounded).
      if (known) this.policies.set(tenant, snap);
    }
    return snap;
  }

  private get source(): ArtifactSource {
    if (!this.sourceInstance) this.sourceInstance = this.sourceFactory();
    return this.sourceInstance;
  }

  trustHash(): string {
    return this.trustHashValue;
  }

  /** Releases the default source's keep-alive connection pools (the CLI calls this before exit). */
  /** See {@link ResidencyEngine.newCycle}; source `newCycle` (helper `source`). */
  newCycle(options?: { health?: RegistryHealth }): void {
    const src = this.source as ArtifactSource & {
      newCycle?: (o?: { health?: RegistryHealth }) => void;
    };
    src.newCycle?.(options);
  }

  async close(): Promise<void> {
    const src = this.sourceInstance as
      | (ArtifactSource & { close?: () => Promise<void> })
      | undefined;
    if (!this.ownsSource || !src) return;
    this.sourceInstance = undefined;
    if (typeof src.close === 'function') await src.close();
  }

  policyHash(tenant: string | undefined): string {
    return this.policySnapshot(tenant).hash;
  }

  /** Decision context for one tenant (pure inputs of decideEntity). */
  context(tenant: string | undefined, at: Date): DecisionContext {
    const snap = this.policySnapshot(tenant);
    return {
      policy: snap.policy,
      trust: this.trust,
      trustedRoots: this.settings.trustedRoots ?? [],
      tenantKnown:
        tenant !== undefined && Object.hasOwn(this.settings.tenants, tenant),
      limits: this.settings.limits,
      at,
      engineVersion: ENGINE_VERSION,
      policyHash: snap.hash,
      trustHash: this.trustHashValue,
    };
  }

  async evaluateEntity(
    options: EvaluateEntityOptions,
  ): Promise<EntityEvaluation> {
    const at = this.now();
    const ctx = this.context(options.tenant, at);
    const images = options.images ?? [];
    const tenantOk = ctx.tenantKnown;
    // No network at all for entities that are invalid before looking at images.
    const fetch =
      tenantOk &&
      images.length > 0 &&
      images.length <= this.settings.limits.imagesPerEntity;
    const inputs: ImageInput[] = fetch
      ? await pMap(images, ref => this.collect(ref, options), {
          concurrency: this.concurrency,
        })
      : [];
    const result = decideEntity({
      entityRef: options.entityRef,
      tenant: options.tenant,
      declaredRegion: options.declaredRegion,
      images,
      inputs,
      ctx,
    });
    const record: EvidenceRecord = {
      schema: EVIDENCE_RECORD_SCHEMA,
      entityRef: options.entityRef,
      images: [...images],
      result,
      material: inputs.map(i => i.material),
      policy: ctx.policy,
      trust: ctx.trust,
      engineVersion: ENGINE_VERSION,
      createdAt: at.toISOString(),
    };
    return { result, record };
  }

  /** Is this parsed reference's registry or layout in the allow-list? */
  private allowed(ref: ImageReference): boolean {
    if (ref.kind === 'layout') {
      const key = layoutKey(ref.registry);
      return (this.settings.layouts ?? []).some(l => layoutKey(l.path) === key);
    }
    return this.settings.registries.some(r => r.host === ref.registry);
  }

  private async collect(
    reference: string,
    options: EvaluateEntityOptions,
  ): Promise<ImageInput> {
    const material: ImageMaterial = {
      reference,
      simpleSignatures: [],
      envelopes: [],
      bundles: [],
    };
    let ref: ImageReference;
    try {
      ref = parseImageReference(reference);
    } catch (e) {
      material.error = errorOf(e, 'bad_reference');
      return { material };
    }
    if (!this.allowed(ref)) {
      material.error = {
        code: 'registry_not_allowed',
        message: `${ref.kind === 'layout' ? 'OCI layout' : 'registry'} ${
          ref.registry
        } is not in the residency configuration`,
        details: { registry: ref.registry },
      };
      return { material };
    }
    try {
      const resolved = await this.source.resolve(ref, options.signal);
      material.digest = resolved.digest;
      material.manifest = toB64(resolved.manifest);
      material.manifestMediaType = resolved.mediaType;
      if (options.reuse) {
        const previous = await options.reuse(resolved.digest);
        if (previous && previous.material.digest === resolved.digest) {
          return { material: { ...previous.material, reference } };
        }
      }
      material.fetchedAt = this.now().toISOString();
      const found = await this.source.discover(resolved, options.signal);
      material.simpleSignatures = found.signatures.map(s => ({
        payload: toB64(s.payload),
        signature: s.signature,
        ...(s.certificate ? { certificate: s.certificate } : {}),
        ...(s.chain ? { chain: s.chain } : {}),
        ...(s.rekorBundle ? { rekorBundle: s.rekorBundle } : {}),
        ...(s.rfc3161Timestamp ? { rfc3161Timestamp: s.rfc3161Timestamp } : {}),
        source: s.source,
      }));
      material.envelopes = found.envelopes.map(e => ({
        envelope: Buffer.from(e.envelope).toString('utf8'),
        source: e.source,
        ...(e.certificate ? { certificate: e.certificate } : {}),
        ...(e.chain ? { chain: e.chain } : {}),
        ...(e.rekorBundle ? { rekorBundle: e.rekorBundle } : {}),
        ...(e.rfc3161Timestamp ? { rfc3161Timestamp: e.rfc3161Timestamp } : {}),
      }));
      material.bundles = found.bundles.map(b => ({
        bundle: Buffer.from(b.bundle).toString('utf8'),
        source: b.source,
      }));
      if (found.claims && Object.keys(found.claims).length > 0) {
        material.claims = found.claims;
      }
    } catch (e) {
      material.error = errorOf(e, 'registry_unreachable');
      this.logger?.warn(
        `residency: could not fetch ${reference}: ${material.error.message}`,
      );
    }
    return { material };
  }
}

/** Freezes a snapshot shared by every evaluation, so no caller can alter it for the others. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function errorOf(
  e: unknown,
  fallback: string,
): NonNullable<ImageMaterial['error']> {
  if (
    e instanceof SourceError ||
    (e && typeof e === 'object' && (e as SourceError).name === 'SourceError')
  ) {
    const se = e as SourceError;
    return {
      code: se.code,
      message: se.message,
      ...(se.details ? { details: se.details } : {}),
    };
  }
  if (e && typeof e === 'object' && (e as Error).name === 'AbortError') {
    return { code: 'registry_unreachable', message: 'the check was aborted' };
  }
  return {
    code: fallback,
    message: `unexpected error: ${(e as Error)?.message ?? String(e)}`,
  };
}

export type { ImageResult };
