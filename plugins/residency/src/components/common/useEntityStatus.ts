import { useState } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import useAsyncFn from 'react-use/esm/useAsyncFn';
import type { EntityStatus } from '@residency-dev/plugin-residency-common';
import { residencyApiRef } from '../../api';
import { useResidencySignal } from './useResidencySignal';

/** When a status was decided: its last check, or a later undecided attempt. */
function decidedAt(status: EntityStatus): number {
  const times = [status.checkedAt, status.lastAttempt?.checkedAt]
    .map(t => (t ? Date.parse(t) : NaN))
    .filter(t => Number.isFinite(t));
  return times.length ? Math.max(...times) : 0;
}

/**
 * Loads an entity's status and offers an on-demand refresh. After a refresh
 * the refreshed status is shown (without a second request) and `refreshedAt`
 * says when, so the UI can confirm it. When the backend signals that the
 * entity was checked again (a scheduled or another person's refresh, an
 * exception decided), the status is read again without a spinner, and the
 * newer of the two is shown.
 */
export function useEntityStatus(entityRef: string, enabled = true) {
  const api = useApi(residencyApiRef);
  const signals = useResidencySignal(entityRef);
  const loaded = useAsyncRetry(
    async () => (enabled ? api.getStatus({ entityRef }) : undefined),
    [api, entityRef, enabled, signals],
  );
  const [refreshed, setRefreshed] = useState<
    { entityRef: string; status: EntityStatus; at: Date } | undefined
  >();
  const [refreshState, refresh] = useAsyncFn(async () => {
    const status = await api.refresh({ entityRef });
    setRefreshed({ entityRef, status, at: new Date() });
    return status;
  }, [api, entityRef]);

  const current = refreshed?.entityRef === entityRef ? refreshed : undefined;
  // After a refresh, its answer stays until a later read (after a signal)
  // holds a newer check.
  const newerLoad =
    !loaded.loading &&
    loaded.value !== undefined &&
    current !== undefined &&
    decidedAt(loaded.value) > decidedAt(current.status);
  const status = current && !newerLoad ? current.status : loaded.value;
  return {
    // a reload after a signal keeps showing the status until it answers
    loading: enabled && loaded.loading && !current && signals === 0,
    error: current ? undefined : loaded.error,
    status,
    refresh,
    refreshing: refreshState.loading,
    refreshError: refreshState.error,
    refreshedAt: current?.at,
    retry: loaded.retry,
  };
}
