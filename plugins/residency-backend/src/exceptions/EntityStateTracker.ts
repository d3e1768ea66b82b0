/*
 * The residency state of an entity as users see it: the stored decision seen through
 * the exceptions in force now. Re-decided after every recorded check, after every
 * approval or revocation, and when exceptions lapse; a worsening is alerted once.
 * Becoming resident by exception is recorded in the entity's evidence chain
 * (`exception.applied`, with the signed statements of every waiver), by the one
 * replica whose compare-and-set recorded the change; so is every later change of
 * the waivers that keep it so (another exception applies, or replaces one that
 * was revoked or lapsed), never an unchanged re-decision.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  RESIDENCY_STATE_SEVERITY,
  applyExceptions,
  stateOfDecision,
  type EntityStatus,
  type AppliedWaiver,
  type ExceptionVerdict,
  type ResidencyException,
} from '@residency-dev/plugin-residency-common';
import { buildExceptionEventRecord } from '@residency-dev/plugin-residency-node';
import type {
  RecordedEntityState,
  ResidencyStore,
} from '../database/ResidencyStore';
import type { ExceptionStore, StateChange } from './ExceptionStore';
import type { ResidencyAlerts } from './ResidencyAlerts';

/**
 * The waivers in one order, with their codes sorted: the same waivers are the same
 * stored detail however the images or exceptions happened to be listed.
 */
function canonicalWaivers(waived: readonly AppliedWaiver[]): AppliedWaiver[] {
  const key = (w: AppliedWaiver) => `${w.exceptionId} ${w.digest}`;
  return (
    [...waived]
      .map(w => ({
        exceptionId: w.exceptionId,
        digest: w.digest,
        reasonCodes: [...w.reasonCodes].sort(),
        requestedBy: w.requestedBy,
        approvedBy: w.approvedBy,
        expiresAt: w.expiresAt,
      }))
      // Code-unit order, the same on every replica whatever its locale.
      .sort((a, b) => Number(key(a) > key(b)) - Number(key(a) < key(b)))
  );
}

export class EntityStateTracker {
  constructor(
    private readonly options: {
      store: Pick<ResidencyStore, 'getStatus' | 'appendExceptionEvent'>;
      exceptions: ExceptionStore;
      alerts?: ResidencyAlerts;
      logger: LoggerService;
      now?: () => Date;
    },
  ) {}

  #now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** The state of a status at `now`, with what was waived. */
  async verdictOf(status: EntityStatus): Promise<ExceptionVerdict> {
    return (await this.#verdictWith(status)).verdict;
  }

  async #verdictWith(
    status: EntityStatus,
  ): Promise<{ verdict: ExceptionVerdict; approved: ResidencyException[] }> {
    // Exceptions only ever waive a non-compliant decision: for any other the
    // state is the decision's own, and reading the exceptions would change nothing.
    const approved =
      status.decision === 'non_compliant'
        ? await this.options.exceptions.list({
            entityRef: status.entityRef,
            statuses: ['approved'],
          })
        : [];
    return {
      verdict: applyExceptions(status, approved, this.#now()),
      approved,
    };
  }

  /** Records in the evidence chain that the entity is resident by exception. */
  async #recordApplied(
    status: EntityStatus,
    verdict: ExceptionVerdict,
    approved: ResidencyException[],
  ) {
    const used = new Set(verdict.waived.map(w => w.exceptionId));
    const statements = approved
      .filter(e => used.has(e.id) && e.envelope)
      .map(e => ({
        envelope: e.envelope!,
        keyFingerprint: e.keyFingerprint ?? '',
        publicKeyPem: e.publicKeyPem ?? '',
      }));
    await this.options.store.appendExceptionEvent({
      record: buildExceptionEventRecord({
        kind: 'exception.applied',
        entityRef: status.entityRef,
        actor: 'system',
        at: this.#now().toISOString(),
        decisionEvidenceId: status.evidenceId ?? null,
        verdict,
        statements,
      }),
      decision: status.decision,
      reasonCodes: [...new Set(verdict.waived.flatMap(w => w.reasonCodes))],
    });
  }

  /** Re-decides one entity from its stored status; undefined without a status. */
  async redecide(
    entityRef: string,
  ): Promise<(StateChange & { verdict: ExceptionVerdict }) | undefined> {
    const status = await this.options.store.getStatus({ entityRef });
    if (!status) return undefined;
    return this.onRecorded(status);
  }

  /**
   * After a recorded check (EntityEvaluator's hook). Never throws. `known` carries
   * the entity's recorded state when the store read it with the record.
   */
  async onRecorded(
    status: EntityStatus,
    known?: {
      entityState?: RecordedEntityState | null;
    },
  ): Promise<(StateChange & { verdict: ExceptionVerdict }) | undefined> {
    // A decision no exception can waive has its own state; when that is the
    // recorded one already, there is nothing to read, write or tell anyone.
    const recorded = known?.entityState;
    if (
      recorded &&
      status.decision !== 'non_compliant' &&
      recorded.state === stateOfDecision(status.decision)
    ) {
      return {
        changed: false,
        state: recorded.state,
        transition: recorded.transition,
        verdict: { state: recorded.state, waived: [], uncovered: [] },
      };
    }
    try {
      const { verdict, approved } = await this.#verdictWith(status);
      const byException = verdict.state === 'resident_by_exception';
      const change = await this.options.exceptions.recordState({
        entityRef: status.entityRef,
        state: verdict.state,
        detail: byException
          ? canonicalWaivers(verdict.waived)
          : verdict.uncovered,
        // Resident by exception on other grounds is news for the evidence chain.
        redetail: byException,
      });
      if (
        (change.changed || change.first || change.detailChanged) &&
        byException
      ) {
        await this.#recordApplied(status, verdict, approved);
      }
      if (
        change.changed &&
        change.previous &&
        (verdict.state === 'not_resident' || verdict.state === 'unknown') &&
        RESIDENCY_STATE_SEVERITY[verdict.state] >
          RESIDENCY_STATE_SEVERITY[change.previous]
      ) {
        await this.options.alerts?.worsened({
          status,
          previous: change.previous,
          verdict,
          transition: change.transition,
        });
      }
      return { ...change, verdict };
    } catch (e) {
      this.options.logger.warn(
        `Could not re-decide ${status.entityRef} with its exceptions: ${
          (e as Error).message
        }`,
      );
      return undefined;
    }
  }
}
