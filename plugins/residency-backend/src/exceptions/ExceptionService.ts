/*
 * The exception workflow: request (an owner), approve or reject (another person with
 * `residency.exception.approve`), revoke, and lapse at expiry. Every step is a
 * compare-and-set on the exception's status, is appended to the entity's evidence
 * chain as an exception event record (the approval with its signed statement)
 * and re-decides the entity at once.
 */
import { randomUUID } from 'node:crypto';
import type {
  BackstageCredentials,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import {
  AuthorizeResult,
  type ResourcePermission,
} from '@backstage/plugin-permission-common';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import {
  isWaivableReasonCode,
  residencyExceptionApprovePermission,
  residencyRefreshPermission,
  type ResidencyException,
} from '@residency-dev/plugin-residency-common';
import {
  buildExceptionEventRecord,
  buildExceptionStatement,
  signException,
  type VsaSigner,
} from '@residency-dev/plugin-residency-node';
import type { ResidencyStore } from '../database/ResidencyStore';
import type { ExceptionStore } from './ExceptionStore';
import type { EntityStateTracker } from './EntityStateTracker';
import type { ExceptionSettings } from './settings';
import type { ResidencySignals } from '../signals/ResidencySignals';

const DAY_MS = 24 * 60 * 60 * 1000;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const MAX_CODES = 16;
const MAX_DIGESTS = 32;

/** What a request asks for. */
export interface ExceptionRequestInput {
  reasonCodes: string[];
  digests: string[];
  justification: string;
  reference: string;
  /** ISO 8601; default now + the tenant's longest window. */
  expiresAt?: string;
}

export class ExceptionService {
  constructor(
    private readonly options: {
      exceptions: ExceptionStore;
      store: Pick<ResidencyStore, 'getStatus' | 'appendExceptionEvent'>;
      tracker: EntityStateTracker;
      catalog: CatalogService;
      permissions: PermissionsService;
      settings: ExceptionSettings;
      /** The portal's key (residency.vsa); without it nothing can be approved. */
      signer?: VsaSigner;
      /** Tells browsers showing the entity to reload (every exception event). */
      signals?: ResidencySignals;
      logger: LoggerService;
      now?: () => Date;
    },
  ) {}

  #now(): Date {
    return this.options.now?.() ?? new Date();
  }

  #userOf(credentials: BackstageCredentials): string {
    const p = credentials.principal as {
      type?: string;
      userEntityRef?: string;
    };
    if (p?.type !== 'user' || !p.userEntityRef)
      throw new NotAllowedError(
        'Exceptions are requested and decided by users',
      );
    return p.userEntityRef;
  }

  async #ensureVisible(entityRef: string, credentials: BackstageCredentials) {
    const entity = await this.options.catalog.getEntityByRef(entityRef, {
      credentials,
    });
    if (!entity) throw new NotFoundError(`No entity ${entityRef}`);
  }

  async #allowed(
    permission: ResourcePermission<'catalog-entity'>,
    entityRef: string,
    credentials: BackstageCredentials,
  ): Promise<boolean> {
    const [d] = await this.options.permissions.authorize(
      [{ permission, resourceRef: entityRef }],
      { credentials },
    );
    return d.result === AuthorizeResult.ALLOW;
  }

  async #getFor(id: string, credentials: BackstageCredentials) {
    const e = await this.options.exceptions.get(id);
    if (!e) throw new NotFoundError(`No exception ${id}`);
    await this.#ensureVisible(e.entityRef, credentials).catch(err => {
      throw err?.name === 'NotFoundError'
        ? new NotFoundError(`No exception ${id}`)
        : err;
    });
    return e;
  }

  /** Appends the step to the entity's evidence chain. */
  async #event(
    e: ResidencyException,
    kind: 'requested' | 'approved' | 'rejected' | 'revoked' | 'expired',
    actor: string,
    at: string,
  ) {
    const status = await this.options.store.getStatus({
      entityRef: e.entityRef,
    });
    await this.options.store.appendExceptionEvent({
      record: buildExceptionEventRecord({
        kind: `exception.${kind}`,
        entityRef: e.entityRef,
        actor,
        at,
        decisionEvidenceId: status?.evidenceId ?? null,
        exception: e,
        ...(kind === 'approved' && e.envelope
          ? {
              statement: {
                envelope: e.envelope,
                keyFingerprint: e.keyFingerprint ?? '',
                publicKeyPem: e.publicKeyPem ?? '',
              },
            }
          : {}),
      }),
      decision: status?.decision ?? 'unknown',
      reasonCodes: e.reasonCodes,
    });
    await this.options.signals?.entityChanged(e.entityRef, 'exception');
  }

  #validate(input: ExceptionRequestInput, maxDays: number, now: Date) {
    const codes = input.reasonCodes;
    if (!Array.isArray(codes) || codes.length === 0 || codes.length > MAX_CODES)
      throw new InputError(
        `reasonCodes must name 1 to ${MAX_CODES} reason codes (never all)`,
      );
    for (const c of codes) {
      if (typeof c !== 'string' || !isWaivableReasonCode(c))
        throw new InputError(`reason code ${String(c)} cannot be waived`);
    }
    if (new Set(codes).size !== codes.length)
      throw new InputError('reasonCodes has duplicates');
    const digests = input.digests;
    if (
      !Array.isArray(digests) ||
      digests.length === 0 ||
      digests.length > MAX_DIGESTS ||
      !digests.every(d => typeof d === 'string' && DIGEST.test(d))
    )
      throw new InputError(
        `digests must list 1 to ${MAX_DIGESTS} image digests (sha256:<hex>)`,
      );
    for (const [k, max] of [
      ['justification', 4000],
      ['reference', 500],
    ] as const) {
      const v = input[k];
      if (typeof v !== 'string' || v.trim().length < 3 || v.length > max)
        throw new InputError(`${k} must be 3 to ${max} characters`);
    }
    const latest = now.getTime() + maxDays * DAY_MS;
    if (input.expiresAt === undefined) return new Date(latest).toISOString();
    const t = Date.parse(input.expiresAt);
    if (!Number.isFinite(t)) throw new InputError('expiresAt is not a time');
    if (t <= now.getTime())
      throw new InputError('expiresAt must be in the future');
    if (t > latest)
      throw new InputError(
        `expiresAt is later than the tenant's longest window (${maxDays} days)`,
      );
    return new Date(t).toISOString();
  }

  async request(options: {
    entityRef: string;
    input: ExceptionRequestInput;
    credentials: BackstageCredentials;
  }): Promise<ResidencyException> {
    const { entityRef, input, credentials } = options;
    const user = this.#userOf(credentials);
    await this.#ensureVisible(entityRef, credentials);
    if (
      !(await this.#allowed(residencyRefreshPermission, entityRef, credentials))
    )
      throw new NotAllowedError(
        `Missing permission ${residencyRefreshPermission.name}`,
      );
    const status = await this.options.store.getStatus({ entityRef });
    if (!status)
      throw new NotFoundError(`No residency status for ${entityRef}`);
    const { settings } = this.options;
    const maxDays =
      (status.tenant && settings.tenantMaxDays[status.tenant]) ||
      settings.maxDays;
    const now = this.#now();
    const expiresAt = this.#validate(input, maxDays, now);
    const known = new Set(status.images.map(i => i.digest).filter(Boolean));
    const unknown = input.digests.filter(d => !known.has(d));
    if (unknown.length > 0)
      throw new InputError(
        `digests not among the entity's current images: ${unknown.join(', ')}`,
      );
    const e: ResidencyException = {
      id: randomUUID(),
      entityRef,
      status: 'requested',
      reasonCodes: [...input.reasonCodes],
      digests: [...new Set(input.digests)],
      justification: input.justification.trim(),
      reference: input.reference.trim(),
      requestedBy: user,
      requestedAt: now.toISOString(),
      expiresAt,
    };
    await this.options.exceptions.insert(e);
    await this.#event(e, 'requested', user, e.requestedAt);
    return e;
  }

  async approve(options: {
    id: string;
    credentials: BackstageCredentials;
  }): Promise<ResidencyException> {
    const user = this.#userOf(options.credentials);
    const e = await this.#getFor(options.id, options.credentials);
    await this.#ensureApprover(e, user, options.credentials);
    const signer = this.options.signer;
    if (!signer)
      throw new ServiceUnavailableError(
        'No signing key (residency.vsa.signingKey): exceptions cannot be approved',
      );
    if (e.status !== 'requested')
      throw new ConflictError(`Exception ${e.id} is ${e.status}`);
    const now = this.#now();
    const at = now.toISOString();
    if (Date.parse(e.expiresAt) <= now.getTime())
      throw new ConflictError(`Exception ${e.id} expired before approval`);
    const signed = await signException(
      buildExceptionStatement({ ...e, decidedBy: user, decidedAt: at }),
      signer,
    );
    const done = await this.options.exceptions.transition({
      id: e.id,
      from: 'requested',
      to: 'approved',
      by: user,
      at,
      envelope: signed.envelope,
      keyFingerprint: signed.keyFingerprint,
      publicKeyPem: signed.publicKeyPem,
    });
    if (!done) throw new ConflictError(`Exception ${e.id} was decided already`);
    await this.#event(done, 'approved', user, at);
    await this.options.tracker.redecide(done.entityRef);
    return done;
  }

  async #ensureApprover(
    e: ResidencyException,
    user: string,
    credentials: BackstageCredentials,
  ) {
    // Two persons, whatever the permission policy says.
    if (e.requestedBy === user)
      throw new NotAllowedError(
        'The requester cannot decide their own exception',
      );
    if (
      !(await this.#allowed(
        residencyExceptionApprovePermission,
        e.entityRef,
        credentials,
      ))
    )
      throw new NotAllowedError(
        `Missing permission ${residencyExceptionApprovePermission.name}`,
      );
  }

  async reject(options: {
    id: string;
    comment?: string;
    credentials: BackstageCredentials;
  }): Promise<ResidencyException> {
    const user = this.#userOf(options.credentials);
    const e = await this.#getFor(options.id, options.credentials);
    await this.#ensureApprover(e, user, options.credentials);
    const at = this.#now().toISOString();
    const done = await this.options.exceptions.transition({
      id: e.id,
      from: 'requested',
      to: 'rejected',
      by: user,
      at,
      comment: (options.comment ?? '').slice(0, 2000),
    });
    if (!done) throw new ConflictError(`Exception ${e.id} is ${e.status}`);
    await this.#event(done, 'rejected', user, at);
    return done;
  }

  /** Revokes an approved exception (an approver, or the requester withdrawing it). */
  async revoke(options: {
    id: string;
    comment?: string;
    credentials: BackstageCredentials;
  }): Promise<ResidencyException> {
    const user = this.#userOf(options.credentials);
    const e = await this.#getFor(options.id, options.credentials);
    if (
      e.requestedBy !== user &&
      !(await this.#allowed(
        residencyExceptionApprovePermission,
        e.entityRef,
        options.credentials,
      ))
    )
      throw new NotAllowedError(
        `Missing permission ${residencyExceptionApprovePermission.name}`,
      );
    const at = this.#now().toISOString();
    const from = e.status === 'requested' ? 'requested' : 'approved';
    const done = await this.options.exceptions.transition({
      id: e.id,
      from,
      to: 'revoked',
      by: user,
      at,
      comment: (options.comment ?? '').slice(0, 2000),
    });
    if (!done) throw new ConflictError(`Exception ${e.id} is ${e.status}`);
    await this.#event(done, 'revoked', user, at);
    await this.options.tracker.redecide(done.entityRef);
    return done;
  }

  async list(options: {
    entityRef: string;
    credentials: BackstageCredentials;
  }): Promise<{ items: ResidencyException[]; canApprove: boolean }> {
    await this.#ensureVisible(options.entityRef, options.credentials);
    const items = await this.options.exceptions.list({
      entityRef: options.entityRef,
    });
    const canApprove = await this.#allowed(
      residencyExceptionApprovePermission,
      options.entityRef,
      options.credentials,
    );
    return { items, canApprove };
  }

  /**
   * The scheduled pass: approved exceptions past their window become `expired`
   * (each by exactly one replica), their entities are re-decided at once, and
   * exceptions ending within 48 hours notify requester and approver (once).
   * Returns the exceptions this caller expired.
   */
  async runOnce(hooks?: {
    onExpired?: (e: ResidencyException) => Promise<void>;
    onExpiringSoon?: (e: ResidencyException) => Promise<void>;
  }): Promise<ResidencyException[]> {
    const now = this.#now();
    const at = now.toISOString();
    const expired: ResidencyException[] = [];
    for (const e of await this.options.exceptions.listLapsed(at)) {
      const done = await this.options.exceptions.transition({
        id: e.id,
        from: 'approved',
        to: 'expired',
        at,
      });
      if (!done) continue;
      expired.push(done);
      await this.#event(done, 'expired', 'system', at);
      await hooks?.onExpired?.(done);
      await this.options.tracker.redecide(done.entityRef);
    }
    const soon = await this.options.exceptions.listExpiringBetween(
      at,
      new Date(now.getTime() + 2 * DAY_MS).toISOString(),
    );
    for (const e of soon) await hooks?.onExpiringSoon?.(e);
    return expired;
  }
}
