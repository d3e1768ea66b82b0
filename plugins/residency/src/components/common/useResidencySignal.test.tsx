/*
 * Live reload through Backstage signals: the Residency tab's status and its
 * exception verdict are read again when the backend announces, on the entity's
 * channel, that the entity was checked or an exception changed; messages of other
 * entities change nothing.
 */
import { act, screen, waitFor } from '@testing-library/react';
import { TestApiProvider, renderInTestApp } from '@backstage/test-utils';
import { signalApiRef, type SignalApi } from '@backstage/plugin-signals-react';
import type { JsonObject } from '@backstage/types';
import type { EntityStatus } from '@residency-dev/plugin-residency-common';
import { residencyApiRef, type ResidencyApi } from '../../api';
import { fakeApi, makeStatus } from '../../__fixtures__/fixtures';
import { useEntityStatus } from './useEntityStatus';
import { useExceptionVerdict } from './useExceptionVerdict';

const ENTITY = 'component:default/payments';

/** The signal API as the signals plugin offers it: callbacks per channel. */
class FakeSignalApi implements SignalApi {
  readonly channels = new Map<string, Set<(m: JsonObject) => void>>();
  subscribe<T extends JsonObject>(channel: string, onMessage: (m: T) => void) {
    const set = this.channels.get(channel) ?? new Set();
    this.channels.set(channel, set);
    const cb = onMessage as (m: JsonObject) => void;
    set.add(cb);
    return { unsubscribe: () => set.delete(cb) };
  }
  send(channel: string, message: JsonObject) {
    act(() => {
      this.channels.get(channel)?.forEach(cb => cb(message));
    });
  }
}

function Probe(props: { entityRef: string }) {
  const { loading, status } = useEntityStatus(props.entityRef);
  const { verdict } = useExceptionVerdict(props.entityRef, status);
  if (loading) return <p>loading</p>;
  return (
    <>
      <p>decision: {status?.decision}</p>
      <p>state: {verdict?.state ?? 'none'}</p>
    </>
  );
}

function render(api: ResidencyApi, signals: FakeSignalApi) {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [residencyApiRef, api],
        [signalApiRef, signals],
      ]}
    >
      <Probe entityRef={ENTITY} />
    </TestApiProvider>,
  );
}

const at = (minute: number) =>
  `2026-12-02T10:${String(minute).padStart(2, '0')}:00.000Z`;

describe('useResidencySignal', () => {
  it('reloads the status when its entity was checked again', async () => {
    const answers: EntityStatus[] = [
      makeStatus({ decision: 'non_compliant', checkedAt: at(1) }),
      makeStatus({ decision: 'compliant', checkedAt: at(2) }),
    ];
    let reads = 0;
    const getStatus = jest.fn(
      async (): Promise<EntityStatus> => answers[Math.min(reads++, 1)],
    );
    const listExceptions = jest.fn(async () => ({
      items: [],
      canApprove: false,
      verdict: { state: 'not_resident' as const, waived: [], uncovered: [] },
    }));
    const signals = new FakeSignalApi();
    await render(fakeApi({ getStatus, listExceptions }), signals);
    expect(await screen.findByText('decision: non_compliant')).toBeVisible();
    expect(getStatus).toHaveBeenCalledTimes(1);
    const channel = 'residency:entity-status:component:default/payments';
    expect(signals.channels.get(channel)?.size).toBeGreaterThan(0);

    // a message for another entity on this channel (never sent by the backend) is ignored
    signals.send(channel, {
      entityRef: 'component:default/other',
      event: 'checked',
    });
    signals.send(channel, { entityRef: ENTITY, event: 'checked' });
    expect(await screen.findByText('decision: compliant')).toBeVisible();
    expect(getStatus).toHaveBeenCalledTimes(2);
    // the reload did not show a spinner instead of the status
    expect(screen.queryByText('loading')).toBeNull();
  });

  it('reads the exception verdict again when an exception changed', async () => {
    const getStatus = jest.fn(async () =>
      makeStatus({ decision: 'non_compliant', checkedAt: at(1) }),
    );
    const verdicts = [
      { state: 'not_resident' as const, waived: [], uncovered: [] },
      {
        state: 'resident_by_exception' as const,
        waived: [],
        uncovered: [],
      },
    ];
    let listed = 0;
    const listExceptions = jest.fn(async () => ({
      items: [],
      canApprove: false,
      verdict: verdicts[Math.min(listed++, 1)],
    }));
    const signals = new FakeSignalApi();
    await render(fakeApi({ getStatus, listExceptions }), signals);
    expect(await screen.findByText('state: not_resident')).toBeVisible();

    // another entity's channel: nothing is read again
    signals.send('residency:entity-status:component:default/other', {
      entityRef: 'component:default/other',
      event: 'exception',
    });
    expect(listExceptions).toHaveBeenCalledTimes(1);

    signals.send('residency:entity-status:component:default/payments', {
      entityRef: 'Component:default/payments',
      event: 'exception',
    });
    expect(
      await screen.findByText('state: resident_by_exception'),
    ).toBeVisible();
    await waitFor(() => expect(listExceptions).toHaveBeenCalledTimes(2));
  });
});
