import { useApi } from '@backstage/core-plugin-api';
import useAsync from 'react-use/esm/useAsync';
import type { Reason } from '@residency-dev/plugin-residency-common';
import { residencyApiRef } from '../../api';

/**
 * The names of the defined tenants, loaded only when a reason says the
 * entity's tenant is unknown (so the fix can list the valid ones).
 */
export function useTenantNames(reasons: Reason[] | undefined): string[] {
  const api = useApi(residencyApiRef);
  const needed = (reasons ?? []).some(r => r.code === 'tenant_unknown');
  const { value } = useAsync(async () => {
    if (!needed) {
      return [];
    }
    try {
      return (await api.listTenants()).items.map(t => t.id);
    } catch {
      // The fix then names the configuration key instead of the tenants.
      return [];
    }
  }, [api, needed]);
  return value ?? [];
}
