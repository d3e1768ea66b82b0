import type { EntityStatus } from '@residency-dev/plugin-residency-common';
import type {
  RecordOutcome,
  RecordedEntityState,
} from '../database/ResidencyStore';

/** How the check that was just recorded came about. */
export type RecordedCheck = {
  /** An on-demand refresh (everything fetched again), not a scheduled pass. */
  fresh: boolean;
  /**
   * The entity's recorded residency state as the store read it with the record
   * (null: none recorded; absent: not read), so the tracker need not read it again.
   */
  entityState?: RecordedEntityState | null;
};

/**
 * What the plugin does after every recorded check (the EntityEvaluator's
 * `onRecorded`): VSAs of the evidence, the entity's state with its exceptions (and
 * its alerts), then a signal so that open Residency tabs and cards read the entity
 * again. A scheduled check that only confirmed the same decision, with the state
 * unchanged, changes nothing those views show but the check's times, so it
 * publishes no signal (with the events backend each signal is a database write per
 * entity and pass); an on-demand refresh always does, for the other people looking.
 */
export function afterRecorded(hooks: {
  vsa?: {
    onRecorded(status: EntityStatus, outcome: RecordOutcome): Promise<unknown>;
  };
  tracker: {
    onRecorded(
      status: EntityStatus,
      known?: {
        entityState?: RecordedEntityState | null;
      },
    ): Promise<{ changed: boolean; first?: boolean } | undefined>;
  };
  signals: {
    entityChanged(entityRef: string, event: 'checked'): Promise<void>;
  };
}) {
  return async (
    status: EntityStatus,
    outcome: RecordOutcome,
    check: RecordedCheck,
  ): Promise<void> => {
    await hooks.vsa?.onRecorded(status, outcome);
    const state = await hooks.tracker.onRecorded(
      status,
      check.entityState === undefined ? {} : { entityState: check.entityState },
    );
    // An undefined state is a tracker failure (logged there): signal, to be safe.
    const stateMoved = !state || state.changed || Boolean(state.first);
    if (outcome !== 'confirmed' || check.fresh || stateMoved) {
      await hooks.signals.entityChanged(status.entityRef, 'checked');
    }
  };
}
