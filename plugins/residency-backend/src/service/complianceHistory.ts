/*
 * `GET /compliance/history`: the compliance-over-time aggregate for the
 * Residency page (one request instead of one per entity), computed from the
 * evidence log. Served by the router through ResidencyService.
 */
import type { Decision } from '@residency-dev/plugin-residency-common';

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
