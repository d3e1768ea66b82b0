import type {
  Decision,
  EvidenceSummary,
} from '@residency-dev/plugin-residency-common';

/** One bar of the compliance-over-time chart. */
export interface ComplianceDay {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  resident: number;
  notResident: number;
  unknown: number;
  /** Entities without any evidence yet on that day. */
  unchecked: number;
}

function bucket(decision: Decision): 'resident' | 'notResident' | 'unknown' {
  switch (decision) {
    case 'compliant':
      return 'resident';
    case 'non_compliant':
    case 'invalid':
      return 'notResident';
    default:
      return 'unknown';
  }
}

/**
 * Rebuilds, for each of the last `days` UTC days, what each entity's decision
 * was at the end of that day, from each entity's evidence history.
 */
export function complianceOverTime(
  histories: EvidenceSummary[][],
  options: { days: number; now: Date },
): ComplianceDay[] {
  const sorted = histories.map(h =>
    [...h]
      .filter(e => !Number.isNaN(Date.parse(e.createdAt)))
      .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt)),
  );
  const endOfToday = Date.UTC(
    options.now.getUTCFullYear(),
    options.now.getUTCMonth(),
    options.now.getUTCDate() + 1,
  );
  const result: ComplianceDay[] = [];
  for (let i = options.days - 1; i >= 0; i--) {
    const end = endOfToday - i * 86_400_000;
    const day: ComplianceDay = {
      day: new Date(end - 1).toISOString().slice(0, 10),
      resident: 0,
      notResident: 0,
      unknown: 0,
      unchecked: 0,
    };
    for (const history of sorted) {
      let latest: EvidenceSummary | undefined;
      for (const entry of history) {
        if (Date.parse(entry.createdAt) < end) {
          latest = entry;
        } else {
          break;
        }
      }
      if (latest) {
        day[bucket(latest.decision)] += 1;
      } else {
        day.unchecked += 1;
      }
    }
    result.push(day);
  }
  return result;
}
