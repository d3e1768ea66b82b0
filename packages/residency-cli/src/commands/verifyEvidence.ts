import { resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import {
  EVIDENCE_BUNDLE_SCHEMA,
  isExceptionEventRecord,
  type EvidenceBundle,
  type EvidenceRecord,
  type ExceptionEventRecord,
} from '@residency-dev/plugin-residency-common';
import { CliError, EXIT, errorMessage, type ExitCode } from '../errors';
import type { CliIo } from '../io';
import type {
  BundleVerification,
  EngineApi,
  ResidencySettings,
} from '../engine';
import {
  EVIDENCE_CHECKS,
  UNDECIDABLE_EVIDENCE_CODES,
  chainLinkProblems,
  parseStrictJson,
  readRegularFile,
  StrictJsonError,
  type EvidenceProblem,
} from '@residency-dev/plugin-residency-node';
import { DECISION_LABEL, safe } from '../format/text';
import { loadSettingsFromFiles } from './settings';
import { loadAuditorTrust } from './auditorTrust';
import {
  checkExceptionForRecord,
  exceptionKeys,
  readExceptionEnvelope,
} from './exception';
import type { ExceptionCheck } from '@residency-dev/plugin-residency-node';

/** Largest evidence bundle read, in bytes. */
export const MAX_EVIDENCE_BYTES = 64 * 1024 * 1024;

export interface VerifyEvidenceOptions {
  file: string;
  config: string[];
  json?: boolean;
  requireCompliant?: boolean;
  /** The bundle of the previous record of the same entity: checks the chain link. */
  previous?: string;
  /** Auditor trust without a full configuration: keys, boundaries, identities. */
  trustedKeys?: string;
  /** A Sigstore trusted_root.json the auditor trusts for keyless material. */
  trustedRoot?: string;
  /** A signed exception: checked against residency.exceptions.keys and the record's time. */
  exception?: string;
}

/** Where the trust a bundle is checked against comes from. */
type TrustSource = 'configuration' | 'trusted_keys' | 'none';

/**
 * The auditor's trust: a configuration (`--config`), or trusted keys and/or a trusted
 * root (`--trusted-keys`, `--trusted-root`); never both kinds at once.
 */
async function auditorSettings(
  options: VerifyEvidenceOptions,
  io: CliIo,
  engineApi: EngineApi,
): Promise<{
  settings?: ResidencySettings;
  loaded?: Awaited<ReturnType<typeof loadSettingsFromFiles>>['loaded'];
  /** Keys trusted to sign exceptions (undefined: no trust brought). */
  exceptionKeys?: KeyObject[];
  source: TrustSource;
}> {
  const explicit = Boolean(options.trustedKeys || options.trustedRoot);
  if (explicit && options.config.length > 0) {
    throw new CliError(
      '--config cannot be combined with --trusted-keys or --trusted-root',
      {
        code: 'usage',
        hint: 'Bring either the platform configuration or your own trusted keys and root.',
      },
    );
  }
  if (options.config.length > 0) {
    const { settings, loaded } = await loadSettingsFromFiles(
      options.config,
      io,
      engineApi,
    );
    return {
      settings,
      loaded,
      exceptionKeys: exceptionKeys(loaded),
      source: 'configuration',
    };
  }
  if (explicit) {
    const trust = await loadAuditorTrust(options, io, engineApi);
    return {
      settings: trust.settings,
      exceptionKeys: trust.exceptionKeys,
      source: 'trusted_keys',
    };
  }
  return { source: 'none' };
}

/**
 * Problem codes meaning "could not check", not "does not verify": trust material the
 * bundle needs is not available offline. They give exit 2 when nothing else fails.
 */
export const UNDECIDABLE_CODES: ReadonlySet<string> =
  UNDECIDABLE_EVIDENCE_CODES;

/** A problem as shown: the engine's, with the path in `$.` form. */
type ShownProblem = EvidenceProblem;

function normalisePath(path: string): string {
  if (path.startsWith('$')) return path;
  return path.startsWith('.') || path.startsWith('[')
    ? `$${path}`
    : `$.${path}`;
}

/** Reads and minimally checks that a file is an evidence bundle (else exit 3). */
export function readEvidenceBundle(file: string): EvidenceBundle {
  let text: string;
  try {
    // Regular files only, at most the cap, even if the file changes after a stat.
    text = readRegularFile(file, MAX_EVIDENCE_BYTES).toString('utf8');
  } catch (e) {
    throw new CliError(
      `cannot read evidence bundle ${file}: ${errorMessage(e)}`,
      {
        code: 'file_unreadable',
        hint: 'Pass the JSON file downloaded from the portal or written by residency verify --evidence.',
      },
    );
  }
  let doc: unknown;
  try {
    // Strict, as every signed document: JSON.parse keeps the last of duplicate keys,
    // so two readers (ours and an auditor's jq or viewer) could see two decisions.
    doc = parseStrictJson(text, { maxLength: MAX_EVIDENCE_BYTES });
  } catch (e) {
    if (e instanceof StrictJsonError && e.problem === 'duplicate_key') {
      throw new CliError(
        `${file} is ambiguous: ${errorMessage(
          e,
        )}; an evidence bundle never has duplicate keys`,
        {
          exitCode: EXIT.FAILED,
          code: 'bundle_ambiguous',
          hint: 'The file was altered after export; download the bundle again.',
        },
      );
    }
    throw new CliError(`${file} is not JSON: ${errorMessage(e)}`, {
      code: 'file_unreadable',
      hint: 'Pass the evidence bundle JSON file, unmodified.',
    });
  }
  // A document with our schema id, or with an `evidence` record, is an evidence bundle
  // (possibly tampered: then the engine names what does not verify, exit 1).
  const looksLikeBundle =
    typeof doc === 'object' &&
    doc !== null &&
    !Array.isArray(doc) &&
    ((doc as { schema?: unknown }).schema === EVIDENCE_BUNDLE_SCHEMA ||
      typeof (doc as { evidence?: unknown }).evidence === 'object');
  if (!looksLikeBundle) {
    throw new CliError(
      `${file} is not a Residency evidence bundle (no $.evidence, and $.schema is not "${EVIDENCE_BUNDLE_SCHEMA}")`,
      {
        code: 'not_evidence_bundle',
        hint: 'For a single Sigstore bundle use residency verify-bundle instead.',
      },
    );
  }
  return doc as EvidenceBundle;
}

/**
 * The link between this bundle and the bundle of the previous record (`--previous`):
 * the previous one verifies, and this record follows it by the engine's chain rules.
 */
async function checkPrevious(
  file: string,
  bundle: EvidenceBundle,
  settings: ResidencySettings | undefined,
  scope: 'configuration' | 'keys',
  engineApi: EngineApi,
  trustedExceptionKeys: readonly KeyObject[] | undefined,
): Promise<ShownProblem[]> {
  const prev = readEvidenceBundle(file);
  const out: ShownProblem[] = [];
  let pv: BundleVerification;
  try {
    // The predecessor is held to the same trust as the bundle, exception keys
    // included: a predecessor whose exception another key signed does not verify.
    pv = await engineApi.verifyEvidenceBundle(prev, {
      settings,
      scope,
      ...(trustedExceptionKeys ? { exceptionKeys: trustedExceptionKeys } : {}),
    });
  } catch (e) {
    pv = {
      ok: false,
      problems: [
        {
          path: '$',
          code: 'cannot_verify',
          message: errorMessage(e),
          check: 'chain',
        },
      ],
    };
  }
  if (!pv.ok) {
    out.push({
      path: '$.previous',
      code: 'previous_invalid',
      message: `the previous bundle ${file} does not verify (${pv.problems
        .map(p => normalisePath(p.path))
        .join(', ')})`,
      check: 'chain',
    });
  }
  const ev = bundle.evidence ?? ({} as Partial<EvidenceBundle['evidence']>);
  const pe = prev.evidence;
  out.push(
    ...chainLinkProblems(
      {
        sequence: ev.sequence,
        previousHash: ev.previousHash,
        recordHash: ev.recordHash,
        record: ev.record,
      },
      {
        sequence: pe?.sequence,
        recordHash: pe?.recordHash,
        entityRef: pe?.record?.entityRef ?? null,
      },
      { skipRecordHash: true },
    ).map(p => ({ ...p, path: normalisePath(p.path) })),
  );
  return out;
}

/**
 * The fields outside the hashed record (the download's metadata and the storage id)
 * cannot be proven, but they must at least be well-formed.
 */
function metadataProblems(bundle: EvidenceBundle): ShownProblem[] {
  const out: ShownProblem[] = [];
  const add = (path: string, message: string) =>
    out.push({ path, code: 'malformed', message, check: 'structure' });
  const b = bundle as unknown as Record<string, unknown>;
  if (
    typeof b.exportedAt !== 'string' ||
    Number.isNaN(Date.parse(b.exportedAt))
  ) {
    add('$.exportedAt', 'must be an RFC 3339 date-time string');
  }
  if (
    b.exportedBy !== undefined &&
    (typeof b.exportedBy !== 'string' || b.exportedBy.length > 1024)
  ) {
    add('$.exportedBy', 'must be a string (at most 1024 characters)');
  }
  const ev = b.evidence as Record<string, unknown> | undefined;
  if (
    ev &&
    typeof ev === 'object' &&
    (typeof ev.id !== 'string' || ev.id === '' || ev.id.length > 1024)
  ) {
    add(
      '$.evidence.id',
      'must be a non-empty string (at most 1024 characters)',
    );
  }
  return out;
}

/** What the record claims, for the auditor to compare (as recorded; verified below). */
function recordedSummary(record: unknown): string[] {
  const out: string[] = [];
  const r = record as Partial<EvidenceRecord> | undefined;
  const images = Array.isArray(r?.result?.images) ? r!.result!.images : [];
  const keys = Array.isArray(r?.trust?.keys) ? r!.trust!.keys : [];
  if (images.length > 0) {
    out.push('', 'Recorded images');
    for (const i of images.slice(0, 50)) {
      out.push(
        `  ${safe(i?.decision, 20).padEnd(13)} ${safe(
          i?.digest ?? '(no digest)',
          80,
        )}  ${safe(i?.reference, 200)}`,
      );
    }
    if (images.length > 50) out.push(`  … ${images.length - 50} more`);
  }
  if (keys.length > 0) {
    out.push(
      '',
      "Recorded keys (compare the fingerprints with the platform team's)",
    );
    for (const k of keys.slice(0, 50)) {
      out.push(
        `  ${safe(k?.region, 40).padEnd(16)} ${safe(
          k?.fingerprint,
          64,
        )}  ${safe(k?.id, 200)}${k?.revoked ? '  REVOKED' : ''}`,
      );
    }
    if (keys.length > 50) out.push(`  … ${keys.length - 50} more`);
  }
  return out;
}

/** What an exception event record says, for the output (as recorded; verified by the checks). */
function eventSummary(e: ExceptionEventRecord) {
  const waived = Array.isArray(e.verdict?.waived)
    ? e.verdict!.waived.map(
        w =>
          `${String(w?.reasonCodes)} on ${String(
            w?.digest,
          )} by exception ${String(w?.exceptionId)}`,
      )
    : [];
  return {
    kind: String(e.kind),
    actor: String(e.actor),
    at: String(e.at),
    ...(e.exception?.id ? { exceptionId: String(e.exception.id) } : {}),
    ...(e.verdict?.state ? { state: String(e.verdict.state) } : {}),
    waived,
  };
}

/**
 * Exit code of a bundle verification (see README). Without trust brought by the
 * auditor (`--config`), a bundle is only shown to be self-consistent: a forger can
 * relabel a key and recompute every hash, so `--require-compliant` cannot pass.
 */
export function exitCodeForVerification(
  v: BundleVerification,
  recordedDecision: string | undefined,
  requireCompliant: boolean,
  trustChecked = true,
): ExitCode {
  if (!v.ok) {
    const undecidable =
      v.problems.length > 0 &&
      v.problems.every(p => UNDECIDABLE_CODES.has(p.code));
    return undecidable ? EXIT.UNKNOWN : EXIT.FAILED;
  }
  if (requireCompliant && recordedDecision !== 'compliant') {
    return recordedDecision === 'unknown' ? EXIT.UNKNOWN : EXIT.FAILED;
  }
  if (requireCompliant && !trustChecked) return EXIT.UNKNOWN;
  return EXIT.OK;
}

/** How a decision is shown: never as a verified "RESIDENT" without the auditor's trust. */
function decisionLabel(decision: string, trustChecked: boolean): string {
  if (!trustChecked) {
    return `${safe(decision)} (claimed; not verified against your trust)`;
  }
  return (
    DECISION_LABEL[decision as keyof typeof DECISION_LABEL] ?? safe(decision)
  );
}

/** `residency verify-evidence`: offline re-verification of an evidence bundle. */
export async function verifyEvidenceCommand(
  options: VerifyEvidenceOptions,
  io: CliIo,
  engineApi: EngineApi,
): Promise<ExitCode> {
  const file = resolve(io.cwd, options.file);
  const bundle = readEvidenceBundle(file);
  const {
    settings,
    exceptionKeys: trustedExceptionKeys,
    source: trustSource,
  } = await auditorSettings(options, io, engineApi);
  const scope = trustSource === 'trusted_keys' ? 'keys' : 'configuration';
  let exceptionCheck: ExceptionCheck | undefined;
  if (options.exception) {
    const keys = trustedExceptionKeys ?? [];
    if (keys.length === 0)
      throw new CliError(
        '--exception needs trusted exception keys: residency.exceptions.keys in --config, or exceptionKeys in --trusted-keys',
        {
          code: 'config_invalid',
        },
      );
    const chained = (bundle as Partial<EvidenceBundle>).evidence?.record;
    const rec = isExceptionEventRecord(chained)
      ? undefined
      : (chained as EvidenceRecord | undefined);
    exceptionCheck = checkExceptionForRecord({
      envelope: readExceptionEnvelope(resolve(io.cwd, options.exception)),
      keys,
      entityRef: rec?.entityRef,
      checkedAt: rec?.result?.checkedAt,
    });
  }
  let verification: BundleVerification;
  let completed = true;
  try {
    verification = await engineApi.verifyEvidenceBundle(bundle, {
      settings,
      scope,
      // The auditor's trust names the exception keys (none: a problem); without
      // trust, a statement is checked against the key its record names.
      ...(trustedExceptionKeys ? { exceptionKeys: trustedExceptionKeys } : {}),
    });
  } catch (e) {
    // The engine must answer with problems for any hostile input; if it throws,
    // nothing was decided.
    completed = false;
    verification = {
      ok: false,
      problems: [
        {
          path: '$',
          code: 'cannot_verify',
          message: `the verifier could not complete: ${errorMessage(e)}`,
          check: 'structure',
        },
      ],
    };
  }
  const chainProblems = [
    ...metadataProblems(bundle),
    ...(options.previous
      ? await checkPrevious(
          resolve(io.cwd, options.previous),
          bundle,
          settings,
          scope,
          engineApi,
          trustedExceptionKeys,
        )
      : []),
  ];
  if (chainProblems.length > 0) {
    verification = {
      ...verification,
      ok: false,
      problems: [...verification.problems, ...chainProblems],
    };
  }
  const chained = (bundle as Partial<EvidenceBundle>).evidence?.record;
  const event: ExceptionEventRecord | undefined = isExceptionEventRecord(
    chained,
  )
    ? chained
    : undefined;
  const record = event ? undefined : (chained as EvidenceRecord | undefined);
  const recordedDecision =
    typeof record?.result?.decision === 'string'
      ? record.result.decision
      : undefined;
  const trustChecked = settings !== undefined;
  const bundleExit = exitCodeForVerification(
    verification,
    recordedDecision,
    Boolean(options.requireCompliant),
    trustChecked,
  );
  // A forged, foreign or out-of-window exception fails the run.
  const exitCode: ExitCode =
    exceptionCheck && !exceptionCheck.ok && bundleExit === EXIT.OK
      ? EXIT.FAILED
      : bundleExit;

  const problems = verification.problems.map(p => ({
    path: normalisePath(p.path),
    code: p.code,
    message: p.message,
    check: p.check,
  }));
  type CheckStatus = 'pass' | 'fail' | 'not_run';
  const checks: {
    id: string;
    title: string;
    status: CheckStatus;
    ok: boolean;
    problems: number;
  }[] = EVIDENCE_CHECKS.map(c => {
    const mine = problems.filter(p => p.check === c.id);
    let status: CheckStatus = mine.length === 0 ? 'pass' : 'fail';
    // A decision record has no exception statement; an exception event has no
    // material, trust snapshot or decision to recompute.
    const applies = event
      ? !['material', 'trust', 'decision'].includes(c.id)
      : c.id !== 'exception';
    if (!completed || (!applies && mine.length === 0)) status = 'not_run';
    return {
      id: c.id,
      title: c.title,
      status,
      ok: status === 'pass',
      problems: mine.length,
    };
  });
  if (options.json) {
    io.stdout(
      `${JSON.stringify(
        {
          file,
          ok: verification.ok,
          exitCode,
          recordedDecision: recordedDecision ?? null,
          recomputedDecision: verification.decision ?? null,
          entityRef:
            typeof chained?.entityRef === 'string' ? chained.entityRef : null,
          ...(event ? { event: eventSummary(event) } : {}),
          sequence: bundle.evidence?.sequence ?? null,
          recordHash: bundle.evidence?.recordHash ?? null,
          configChecked: trustChecked,
          verified: {
            configuration: 'against_configuration',
            trusted_keys: 'against_trusted_keys',
            none: 'internal_consistency_only',
          }[trustSource],
          checks,
          ...(exceptionCheck ? { exception: exceptionCheck } : {}),
          problems: problems.map(({ path, code, message, check }) => ({
            path,
            code,
            message,
            check,
          })),
        },
        null,
        2,
      )}\n`,
    );
    return exitCode;
  }

  const out: string[] = [];
  out.push(`Evidence bundle ${file}`);
  if (chained?.entityRef)
    out.push(`  entity           ${safe(chained.entityRef)}`);
  if (event) {
    const e = eventSummary(event);
    out.push(
      `  exception event  ${safe(e.kind)} by ${safe(e.actor)} at ${safe(e.at)}${
        e.exceptionId ? ` (exception ${safe(e.exceptionId)})` : ''
      }`,
    );
    if (e.waived.length > 0)
      out.push(`  waived           ${safe(e.waived.join('; '), 500)}`);
  }
  if (bundle.evidence?.recordHash) {
    out.push(
      `  record           #${safe(bundle.evidence.sequence)} ${safe(
        bundle.evidence.recordHash,
      )}`,
    );
  }
  if (!event) {
    out.push(
      `  recorded result  ${
        recordedDecision
          ? decisionLabel(recordedDecision, trustChecked)
          : '(missing)'
      }`,
    );
  }
  if (verification.decision) {
    out.push(
      `  recomputed       ${decisionLabel(
        verification.decision,
        trustChecked,
      )}`,
    );
  }
  out.push(
    `  trust            ${
      {
        configuration: 'compared with the given configuration',
        trusted_keys:
          'compared with your trusted keys and root (keys, boundaries, keyless identities); requirements and registries are as recorded',
        none: 'NOT CHECKED: only the keys recorded in the bundle were used (pass --config or --trusted-keys to bring your own trust)',
      }[trustSource]
    }`,
  );
  out.push(...recordedSummary(record));
  out.push('');
  out.push('Checks');
  for (const c of checks) {
    const label = { pass: 'PASS', fail: 'FAIL', not_run: 'SKIP' }[c.status];
    const count =
      c.status === 'fail'
        ? ` (${c.problems} problem${c.problems === 1 ? '' : 's'})`
        : '';
    out.push(
      `  ${label}  ${c.title}${c.status === 'not_run' ? ' (not run)' : count}`,
    );
  }
  if (problems.length > 0) {
    out.push('');
    out.push('What does not verify');
    for (const p of problems) {
      out.push(`  ${safe(p.path, 200)}`);
      out.push(`    ${safe(p.code)}: ${safe(p.message, 500)}`);
    }
  }
  if (exceptionCheck) {
    out.push('');
    out.push(
      `Exception  ${exceptionCheck.ok ? 'VALID' : 'NOT VALID'} (${
        exceptionCheck.code
      }): ${safe(exceptionCheck.message, 500)}`,
    );
  }
  out.push('');
  if (verification.ok && !trustChecked) {
    out.push(
      'RESULT: the bundle verifies. Only its internal consistency was checked: its keys, regions and decision are as the bundle itself claims, not verified against trust you supplied. Pass --config <app-config.yaml> or --trusted-keys <file> to verify residency.',
    );
    if (options.requireCompliant) {
      out.push(
        'Could not decide: --require-compliant needs --config (or --trusted-keys / --trusted-root) (exit 2).',
      );
    }
  } else if (verification.ok && exitCode === EXIT.OK) {
    out.push('RESULT: the bundle verifies.');
  } else if (verification.ok) {
    out.push(
      event
        ? 'RESULT: the bundle verifies, but it records an exception event, not a compliant decision (--require-compliant).'
        : `RESULT: the bundle verifies, but its recorded decision is ${recordedDecision} (--require-compliant).`,
    );
  } else {
    out.push(
      exitCode === EXIT.UNKNOWN
        ? 'RESULT: could not decide; some material could not be checked offline.'
        : 'RESULT: the bundle does NOT verify.',
    );
  }
  io.stdout(`${out.join('\n')}\n`);
  return exitCode;
}
