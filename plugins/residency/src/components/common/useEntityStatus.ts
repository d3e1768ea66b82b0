import { useState } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import useAsyncFn from 'react-use/esm/useAsyncFn';
import type { EntityStatus } from '@residency-dev/plugin-residency-common';
import { residencyApiRef } from '../../api';

/**
 * Loads an entity's status and offers an on-demand refresh. After a refresh
 * the refreshed status is shown (without a second request) and `refreshedAt`
 * says when, so the UI can confirm it.
 */
export function useEntityStatus(entityRef: string, enabled = true) {
  const api = useApi(residencyApiRef);
  const loaded = useAsyncRetry(
    async () => (enabled ? api.getStatus({ entityRef }) : undefined),
    [api, entityRef, enabled],
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
  return {
    loading: enabled && loaded.loading && !current,
    error: current ? undefined : loaded.error,
    status: current?.status ?? loaded.value,
    refresh,
    refreshing: refreshState.loading,
    refreshError: refreshState.error,
    refreshedAt: current?.at,
    retry: loaded.retry,
  };
}
