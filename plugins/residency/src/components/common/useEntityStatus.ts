import { useCallback, useEffect, useState } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import type { EntityStatus } from '@residency-dev/plugin-residency-common';
import { residencyApiRef } from '../../api';

/** Loads an entity's status and offers an on-demand refresh. */
export function useEntityStatus(entityRef: string, enabled = true) {
  const api = useApi(residencyApiRef);
  const [state, setState] = useState<{
    loading: boolean;
    error?: Error;
    status?: EntityStatus;
  }>({ loading: enabled });
  const [refreshing, setRefreshing] = useState(false);
  const [refreshError, setRefreshError] = useState<Error | undefined>();

  useEffect(() => {
    if (!enabled) {
      return undefined;
    }
    let cancelled = false;
    setState({ loading: true });
    api.getStatus({ entityRef }).then(
      status => !cancelled && setState({ loading: false, status }),
      error => !cancelled && setState({ loading: false, error }),
    );
    return () => {
      cancelled = true;
    };
  }, [api, entityRef, enabled]);

  const refresh = useCallback(async () => {
    setRefreshing(true);
    setRefreshError(undefined);
    try {
      const status = await api.refresh({ entityRef });
      setState({ loading: false, status });
    } catch (error) {
      setRefreshError(error as Error);
    } finally {
      setRefreshing(false);
    }
  }, [api, entityRef]);

  return { ...state, refresh, refreshing, refreshError };
}
