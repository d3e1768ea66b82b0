/*
 * The residency state of an entity as users see it: the stored decision seen through
 * the exceptions in force now. Re-decided after every recorded check, after every
 * approval or revocation, and when exceptions lapse; a worsening is alerted once.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  RESIDENCY_STATE_SEVERITY,
  applyExceptions,
  type EntityStatus,
  type ExceptionVerdict,
} from '@residency-dev/plugin-residency-common';
import type { ResidencyStore } from '../database/ResidencyStore';
import type { ExceptionStore, StateChange } from './ExceptionStore';
import type { ResidencyAlerts } from './ResidencyAlerts';

export class EntityStateTracker {
  constructor(
    private readonly options: {
      store: Pick<ResidencyStore, 'getStatus'>;
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
    const list = await this.options.exceptions.list({
      entityRef: status.entityRef,
      statuses: ['approved'],
    });
    return applyExceptions(status, list, this.#now());
  }

  /** Re-decides one entity from its stored status; undefined without a status. */
  async redecide(
    entityRef: string,
  ): Promise<(StateChange & { verdict: ExceptionVerdict }) | undefined> {
    const status = await this.options.store.getStatus({ entityRef });
    if (!status) return undefined;
    return this.onRecorded(status);
  }

  /** After a recorded check (EntityEvaluator's hook). Never throws. */
  async onRecorded(
    status: EntityStatus,
  ): Promise<(StateChange & { verdict: ExceptionVerdict }) | undefined> {
    try {
      const verdict = await this.verdictOf(status);
      const change = await this.options.exceptions.recordState({
        entityRef: status.entityRef,
        state: verdict.state,
        detail: verdict.waived.length ? verdict.waived : verdict.uncovered,
      });
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
