import {
  checksFailingFirst,
  reasonAdvice,
  type Decision,
  type Reason,
  type VerificationCheck,
  type VerificationReport,
} from '@residency-dev/plugin-residency-common';

/** Words shown for each decision. */
export const DECISION_LABEL: Record<Decision, string> = {
  compliant: 'RESIDENT (compliant)',
  non_compliant: 'NOT RESIDENT (non_compliant)',
  invalid: 'NOT RESIDENT (invalid input)',
  unknown: 'UNKNOWN (could not decide)',
};

/**
 * Makes text from registries, annotations or bundles safe for a terminal: control
 * characters (ANSI escapes, carriage returns) are shown escaped, long values cut.
 */
export function safe(value: unknown, max = 300): string {
  let s: string;
  try {
    s =
      typeof value === 'string'
        ? value
        : JSON.stringify(value) ?? String(value);
  } catch {
    s = '(unprintable)';
  }
  // eslint-disable-next-line no-control-regex
  const cleaned = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, c =>
    c === '\n' ? ' ' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return cleaned.length > max ? `${cleaned.slice(0, max)}…` : cleaned;
}

/** Rows of `label  value`, labels padded to one column. */
export function keyValueRows(
  rows: [string, string | undefined][],
  indent = '  ',
): string {
  const shown = rows.filter(([, v]) => v !== undefined && v !== '');
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${indent}${k.padEnd(width)}  ${v}`).join('\n');
}

/** A plain text table with a header row. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** A reason with its plain-language advice. */
export function reasonLines(reason: Reason, indent = '    '): string {
  const lines = [`${indent}- ${safe(reason.code)}: ${safe(reason.message)}`];
  const advice = reasonAdvice(reason.code);
  if (advice) lines.push(`${indent}  fix: ${advice}`);
  if (reason.details && Object.keys(reason.details).length > 0) {
    lines.push(`${indent}  details: ${safe(reason.details, 500)}`);
  }
  return lines.join('\n');
}

/** Marks of each check outcome in `--explain` output (plain ASCII). */
const OUTCOME_MARK: Record<VerificationCheck['outcome'], string> = {
  fail: 'FAIL',
  pass: 'ok  ',
  skipped: 'skip',
  not_applicable: 'n/a ',
};

/**
 * A verification report as text for `residency verify --explain`: failing checks
 * first, each with what was expected and what was found, then the rest in order.
 */
export function reportLines(
  report: VerificationReport | undefined,
  indent = '    ',
): string {
  if (!report) return `${indent}(no verification report recorded)`;
  const lines: string[] = [];
  for (const c of checksFailingFirst(report.checks)) {
    const where = c.material ? ` [${c.material.path}]` : '';
    const head = `${indent}${OUTCOME_MARK[c.outcome]} ${c.id}${where}`;
    if (c.outcome === 'skipped' || c.outcome === 'not_applicable') {
      lines.push(`${head}: ${safe(c.why ?? '')}`);
      continue;
    }
    lines.push(c.reason ? `${head} (${safe(c.reason)})` : head);
    if (c.expected) lines.push(`${indent}       expected: ${safe(c.expected)}`);
    if (c.found) lines.push(`${indent}       found:    ${safe(c.found)}`);
    if (c.outcome === 'fail' && c.time)
      lines.push(
        `${indent}       time:     ${safe(c.time.at)} (${safe(c.time.source)})`,
      );
  }
  return lines.join('\n');
}

/** First 16 hex characters of a fingerprint, enough to recognise a key. */
export function shortFingerprint(fp: string | undefined): string | undefined {
  return fp ? `${fp.slice(0, 16)}…` : undefined;
}
