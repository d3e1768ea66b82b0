import { useApi } from '@backstage/core-plugin-api';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import type {
  EntityStatus,
  ExceptionVerdict,
} from '@residency-dev/plugin-residency-common';
import { residencyApiRef } from '../../api';
import { useResidencySignal } from './useResidencySignal';

/**
 * The verdict with approved exceptions applied, as the backend computes it
 * (the `/exceptions` endpoint of the entity). Only a current, not-resident
 * status can become "resident by exception", so nothing is asked otherwise.
 * When the exceptions cannot be loaded the verdict stays absent and the plain
 * decision is shown: a failure never turns into a pass.
 */
export function useExceptionVerdict(
  entityRef: string,
  status: EntityStatus | undefined,
): { verdict?: ExceptionVerdict; retry: () => void } {
  const api = useApi(residencyApiRef);
  // an exception decided or expired elsewhere: read the verdict again
  const signals = useResidencySignal(entityRef);
  const applicable =
    !!api.listExceptions &&
    !!status &&
    !status.stale &&
    status.decision === 'non_compliant';
  const loaded = useAsyncRetry(async () => {
    if (!applicable) return undefined;
    return (await api.listExceptions!({ entityRef })).verdict;
  }, [api, entityRef, applicable, status?.checkedAt, signals]);
  return {
    verdict: applicable && !loaded.error ? loaded.value : undefined,
    retry: loaded.retry,
  };
}
