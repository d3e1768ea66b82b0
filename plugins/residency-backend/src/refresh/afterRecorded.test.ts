import type { EntityStatus } from '@residency-dev/plugin-residency-common';
import type { RecordOutcome } from '../database/ResidencyStore';
import { makeEvaluation } from '../__testUtils__/fixtures';
import { afterRecorded } from './afterRecorded';

const status: EntityStatus = {
  ...makeEvaluation({ entityRef: 'component:default/payments' }).result,
  stale: false,
  evidenceId: 'e'.repeat(32),
};

function hooks(state: { changed: boolean; first?: boolean } | undefined) {
  const calls: string[] = [];
  const after = afterRecorded({
    vsa: {
      onRecorded: async (_s: EntityStatus, outcome: RecordOutcome) => {
        calls.push(`vsa:${outcome}`);
      },
    },
    tracker: {
      onRecorded: async (
        _s: EntityStatus,
        known?: { entityState?: unknown },
      ) => {
        calls.push(
          known?.entityState
            ? `tracker:${JSON.stringify(known.entityState)}`
            : 'tracker',
        );
        return state;
      },
    },
    signals: {
      entityChanged: async (ref: string, event: 'checked') => {
        calls.push(`signal:${ref}:${event}`);
      },
    },
  });
  return { calls, after };
}

describe('afterRecorded', () => {
  const signal = 'signal:component:default/payments:checked';

  it('signals every appended or stale check, after the VSAs and the state', async () => {
    for (const outcome of ['appended', 'stale'] as const) {
      const { calls, after } = hooks({ changed: false });
      await after(status, outcome, { fresh: false });
      expect(calls).toEqual([`vsa:${outcome}`, 'tracker', signal]);
    }
  });

  it('publishes nothing for a scheduled confirmation that left the state as it was', async () => {
    const { calls, after } = hooks({ changed: false });
    await after(status, 'confirmed', { fresh: false });
    // VSAs are still re-issued (newer timeVerified) and the state still decided.
    expect(calls).toEqual(['vsa:confirmed', 'tracker']);
    // The state the store read with the confirmation goes to the tracker.
    const known = hooks({ changed: false });
    await known.after(status, 'confirmed', {
      fresh: false,
      entityState: { state: 'resident', transition: 2 },
    });
    expect(known.calls).toEqual([
      'vsa:confirmed',
      'tracker:{"state":"resident","transition":2}',
    ]);
  });

  it('signals a confirmation asked for by a person, or one that moved the state', async () => {
    const fresh = hooks({ changed: false });
    await fresh.after(status, 'confirmed', { fresh: true });
    expect(fresh.calls).toEqual(['vsa:confirmed', 'tracker', signal]);
    for (const state of [{ changed: true }, { changed: false, first: true }]) {
      const moved = hooks(state);
      await moved.after(status, 'confirmed', { fresh: false });
      expect(moved.calls).toEqual(['vsa:confirmed', 'tracker', signal]);
    }
    // A tracker that failed (undefined) cannot say nothing changed.
    const failed = hooks(undefined);
    await failed.after(status, 'confirmed', { fresh: false });
    expect(failed.calls).toEqual(['vsa:confirmed', 'tracker', signal]);
  });
});
