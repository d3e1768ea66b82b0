import type {
  DatabaseService,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  residencyTenantsReadPermission,
  type Decision,
} from '@residency-dev/plugin-residency-common';
import express from 'express';
import Router from 'express-promise-router';

/** One day of the compliance-over-time chart. */
export interface ComplianceDay {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  resident: number;
  notResident: number;
  unknown: number;
  /** Entities whose first evidence record is later than that day. */
  unchecked: number;
}

export const MAX_HISTORY_DAYS = 90;
const DEFAULT_HISTORY_DAYS = 14;
const DAY_MS = 86_400_000;

function bucket(decision: string): 'resident' | 'notResident' | 'unknown' {
  switch (decision as Decision) {
    case 'compliant':
      return 'resident';
    case 'non_compliant':
    case 'invalid':
      return 'notResident';
    default:
      return 'unknown';
  }
}

/** Milliseconds of a stored time; SQLite's datetime('now') text is UTC without a zone. */
function timeOf(value: Date | string | number): number {
  if (typeof value === 'string') {
    const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)$/.exec(value);
    return new Date(m ? `${m[1]}T${m[2]}Z` : value).getTime();
  }
  return new Date(value).getTime();
}

function parseDays(value: unknown): number {
  if (value === undefined) {
    return DEFAULT_HISTORY_DAYS;
  }
  const n =
    typeof value === 'string' && /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_HISTORY_DAYS) {
    throw new InputError(
      `days must be an integer from 1 to ${MAX_HISTORY_DAYS}`,
    );
  }
  return n;
}

/**
 * For each of the last `days` UTC days, how many entities were resident, not
 * resident or unknown at the end of that day (their latest evidence record by
 * then), from the evidence log in one query.
 */
export function aggregateComplianceHistory(
  rows: {
    entity_ref: string;
    decision: string;
    created_at: Date | string | number;
  }[],
  options: { days: number; now: Date },
): ComplianceDay[] {
  const byEntity = new Map<string, { at: number; decision: string }[]>();
  for (const row of rows) {
    const at = timeOf(row.created_at);
    if (Number.isNaN(at)) continue;
    const list = byEntity.get(row.entity_ref) ?? [];
    list.push({ at, decision: row.decision });
    byEntity.set(row.entity_ref, list);
  }
  for (const list of byEntity.values()) list.sort((a, b) => a.at - b.at);
  const endOfToday = Date.UTC(
    options.now.getUTCFullYear(),
    options.now.getUTCMonth(),
    options.now.getUTCDate() + 1,
  );
  const out: ComplianceDay[] = [];
  for (let i = options.days - 1; i >= 0; i--) {
    const end = endOfToday - i * DAY_MS;
    const day: ComplianceDay = {
      day: new Date(end - 1).toISOString().slice(0, 10),
      resident: 0,
      notResident: 0,
      unknown: 0,
      unchecked: 0,
    };
    for (const list of byEntity.values()) {
      let latest: string | undefined;
      for (const entry of list) {
        if (entry.at >= end) break;
        latest = entry.decision;
      }
      if (latest === undefined) day.unchecked += 1;
      else day[bucket(latest)] += 1;
    }
    out.push(day);
  }
  return out;
}

/**
 * `GET /compliance/history?days=14`: the compliance-over-time aggregate for
 * the Residency page (one request instead of one per entity). Across the whole
 * catalog, so it needs the tenants permission (platform owners, auditors).
 * Kept in its own router so it does not touch the main router's file.
 */
export async function createComplianceHistoryRouter(options: {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  database: DatabaseService;
  now?: () => Date;
}): Promise<express.Router> {
  const { httpAuth, permissions, database } = options;
  const now = options.now ?? (() => new Date());
  const router = Router();
  router.get('/compliance/history', async (req, res) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const days = parseDays(req.query.days);
    const [decision] = await permissions.authorize(
      [{ permission: residencyTenantsReadPermission }],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `Missing permission ${residencyTenantsReadPermission.name}`,
      );
    }
    const knex = await database.getClient();
    // Retention bounds the log per entity; times are compared in JS because
    // SQLite stores them as text without a zone.
    const rows = await knex('residency_evidence').select(
      'entity_ref',
      'decision',
      'created_at',
    );
    res.json({
      days: aggregateComplianceHistory(rows, { days, now: now() }),
    });
  });
  return router;
}
