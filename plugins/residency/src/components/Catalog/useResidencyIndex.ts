import { useApi } from '@backstage/core-plugin-api';
import useAsync from 'react-use/esm/useAsync';
import type {
  Decision,
  EntityStatusSummary,
} from '@residency-dev/plugin-residency-common';
import { residencyApiRef, type ResidencyApi } from '../../api';

/** How many statuses the catalog column and filter read (pages of 100). */
export const INDEX_LIMIT = 2000;
const TTL_MS = 30_000;

const cache = new WeakMap<
  ResidencyApi,
  { at: number; promise: Promise<Map<string, EntityStatusSummary>> }
>();

async function loadIndex(
  api: ResidencyApi,
): Promise<Map<string, EntityStatusSummary>> {
  const index = new Map<string, EntityStatusSummary>();
  let cursor: string | undefined;
  do {
    const page = await api.listEntities({ cursor, limit: 100 });
    for (const item of page.items) {
      index.set(item.entityRef.toLocaleLowerCase('en-US'), item);
    }
    cursor = page.nextCursor;
  } while (cursor && index.size < INDEX_LIMIT);
  return index;
}

/**
 * Every entity's stored residency status by entity ref, read once for all the
 * rows of a catalog table (one paged list, not one request per row) and shared
 * for 30 s between the column and the filter.
 */
export function useResidencyIndex() {
  const api = useApi(residencyApiRef);
  return useAsync(() => {
    const hit = cache.get(api);
    if (hit && Date.now() - hit.at < TTL_MS) {
      return hit.promise;
    }
    const promise = loadIndex(api);
    cache.set(api, { at: Date.now(), promise });
    promise.catch(() => cache.delete(api));
    return promise;
  }, [api]);
}

/** The stored summary of an entity ref in an index, or undefined when not checked. */
export function summaryOf(
  index: Map<string, EntityStatusSummary> | undefined,
  entityRef: string,
): EntityStatusSummary | undefined {
  return index?.get(entityRef.toLocaleLowerCase('en-US'));
}

/** The stored decision of an entity ref in an index, or undefined when not checked. */
export function decisionOf(
  index: Map<string, EntityStatusSummary> | undefined,
  entityRef: string,
): Decision | undefined {
  return summaryOf(index, entityRef)?.decision;
}
