import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  ANNOTATION_IMAGES,
  ANNOTATION_TENANT,
  EVIDENCE_BUNDLE_SCHEMA,
  type Decision,
  type EntityResult,
  type EvidenceBundle,
  type ImageResult,
} from '@residency-dev/plugin-residency-common';
import { CliError, EXIT, errorMessage, type ExitCode } from '../errors';
import type { CliIo } from '../io';
import type { EngineApi } from '../engine';
import {
  DECISION_LABEL,
  keyValueRows,
  reasonLines,
  reportLines,
  safe,
  shortFingerprint,
} from '../format/text';
import { loadSettingsFromFiles } from './settings';
import { readEntityFile } from './entityFile';
import { writeVsaFiles } from './vsa';
import {
  applyExceptionFile,
  exceptionKeys,
  formatExceptionOutcome,
  readExceptionEnvelope,
  type ExceptionOutcome,
} from './exception';

export interface VerifyOptions {
  images: string[];
  config: string[];
  tenant?: string;
  region?: string;
  entity?: string;
  /** catalog-info.yaml: images, tenant and region from the entity's annotations. */
  entityFile?: string;
  /** Overall deadline in seconds; when it passes the result is "could not decide". */
  timeoutSeconds?: number;
  json?: boolean;
  /** Print every check performed, failing checks first (the verification report). */
  explain?: boolean;
  evidence?: string;
  /** Write signed VSAs (DSSE envelopes, JSON Lines) here; see commands/vsa.ts. */
  vsa?: string;
  /** Also write the VSAs as Sigstore bundles v0.3 (JSON Lines) here. */
  vsaBundle?: string;
  /** A signed exception to honour (see commands/exception.ts). */
  exception?: string;
}

/** Exit code of a decision: 0 resident, 1 not resident, 2 unknown. */
export function exitCodeForDecision(decision: Decision): ExitCode {
  switch (decision) {
    case 'compliant':
      return EXIT.OK;
    case 'non_compliant':
    case 'invalid':
      return EXIT.FAILED;
    default:
      return EXIT.UNKNOWN;
  }
}

/** The entity ref recorded when neither --entity nor --entity-file names one. */
export const DEFAULT_ENTITY_REF = 'component:default/residency-cli';

function keyLabel(
  key: { id: string; fingerprint: string; region: string } | undefined,
) {
  if (!key) return undefined;
  return `${safe(key.id, 120)} (region ${safe(
    key.region,
  )}, fp ${shortFingerprint(key.fingerprint)})`;
}

function formatImage(image: ImageResult, explain = false): string {
  const sigs = image.signatures.map(s => {
    if (s.verified) {
      let who = 'unknown signer';
      if (s.key) who = keyLabel(s.key) ?? who;
      else if (s.identity)
        who = `${safe(s.identity.subject)} via ${safe(s.identity.issuer)}`;
      return `verified (${s.format}, ${s.source}) by ${who}`;
    }
    return `NOT verified (${s.format}, ${s.source})${
      s.error ? `: ${safe(s.error.code)}` : ''
    }`;
  });
  const atts = image.attestations.map(a => {
    const status = a.verified
      ? 'verified'
      : `NOT verified${a.error ? ` (${safe(a.error.code)})` : ''}`;
    const by =
      a.verified && a.key
        ? ` by ${safe(a.key.id, 80)} [${safe(a.key.region)}]`
        : '';
    return `${a.kind} ${status}${by} — ${safe(a.predicateType, 120)}`;
  });
  const rows: [string, string | undefined][] = [
    ['decision', DECISION_LABEL[image.decision] ?? image.decision],
    ['digest', image.digest ?? '(not resolved)'],
    [
      'registry',
      image.registry
        ? `${safe(image.registry)}${
            image.registryRegion
              ? ` (region ${safe(image.registryRegion)})`
              : ' (not configured)'
          }`
        : undefined,
    ],
    ['signatures', sigs.length ? sigs[0] : '(none found)'],
    ...sigs.slice(1).map(s => ['', s] as [string, string]),
    ['attestations', atts.length ? atts[0] : '(none found)'],
    ...atts.slice(1).map(s => ['', s] as [string, string]),
  ];
  if (image.claims && Object.keys(image.claims).length > 0) {
    rows.push([
      'claimed',
      `${safe(
        Object.entries(image.claims)
          .map(([k, v]) => `${k}=${v}`)
          .join(', '),
        200,
      )} (unsigned; never decides)`,
    ]);
  }
  const lines = [`IMAGE ${safe(image.reference)}`, keyValueRows(rows)];
  if (image.reasons.length > 0) {
    lines.push('  reasons');
    lines.push(...image.reasons.map(r => reasonLines(r)));
  }
  if (explain) {
    lines.push('  checks (failing first)');
    lines.push(reportLines(image.report));
  }
  return lines.join('\n');
}

/** Human output of a verification: a block per image, then the entity's decision. */
export function formatEntityResult(
  result: EntityResult,
  options: { explain?: boolean } = {},
): string {
  const out: string[] = [];
  const boundary = result.boundary
    ? `${result.boundary.name} [${result.boundary.regions.join(', ')}]`
    : '(none)';
  out.push(
    keyValueRows(
      [
        ['tenant', result.tenant ? safe(result.tenant) : '(none)'],
        ['boundary', boundary],
        [
          'declared region',
          result.declaredRegion ? safe(result.declaredRegion) : undefined,
        ],
      ],
      '',
    ),
  );
  for (const image of result.images) {
    out.push('');
    out.push(formatImage(image, options.explain));
  }
  if (result.reasons.length > 0 || options.explain) {
    out.push('');
    out.push('ENTITY');
    out.push(...result.reasons.map(r => reasonLines(r, '  ')));
    if (options.explain) {
      out.push('  checks (failing first)');
      out.push(reportLines(result.report));
    }
  }
  out.push('');
  out.push(`RESULT: ${DECISION_LABEL[result.decision] ?? result.decision}`);
  return `${out.join('\n')}\n`;
}

/** `residency verify`: the CI/CD gate. */
export async function verifyCommand(
  options: VerifyOptions,
  io: CliIo,
  engineApi: EngineApi,
): Promise<ExitCode> {
  // Arguments and annotations are split exactly as the backend splits the annotation.
  const entity = options.entityFile
    ? readEntityFile(resolve(io.cwd, options.entityFile), options.entity)
    : undefined;
  const images = [
    ...(entity?.images ?? []),
    ...options.images.flatMap(a => engineApi.splitImagesAnnotation(a)),
  ];
  if (images.length === 0) {
    throw new CliError('no image reference given', {
      hint: entity
        ? `Add references to the ${ANNOTATION_IMAGES} annotation of ${entity.entityRef}, or pass them as arguments.`
        : 'Pass at least one reference, e.g. residency verify registry.example.com/app@sha256:<hex> ...',
    });
  }
  const tenant = options.tenant ?? entity?.tenant;
  if (!tenant) {
    throw new CliError('no tenant given', {
      hint: entity
        ? `Pass --tenant <id> or set the ${ANNOTATION_TENANT} annotation of ${entity.entityRef}.`
        : 'Pass --tenant <id> (a key of residency.tenants).',
    });
  }
  const declaredRegion = options.region ?? entity?.declaredRegion;
  const entityRef = entity?.entityRef ?? options.entity ?? DEFAULT_ENTITY_REF;
  const { settings, loaded } = await loadSettingsFromFiles(
    options.config,
    io,
    engineApi,
  );
  if (!Object.prototype.hasOwnProperty.call(settings.tenants, tenant)) {
    const known = Object.keys(settings.tenants);
    throw new CliError(
      `tenant '${safe(tenant)}' is not defined in residency.tenants`,
      {
        code: 'tenant_unknown',
        hint: known.length
          ? `Use one of: ${known.join(', ')}.`
          : 'Define the tenant under residency.tenants in the configuration.',
      },
    );
  }
  const engine = await engineApi.createEngine(settings);
  const signal =
    options.timeoutSeconds !== undefined
      ? AbortSignal.timeout(options.timeoutSeconds * 1000)
      : undefined;
  let evaluation;
  try {
    const evaluating = engine.evaluateEntity({
      entityRef,
      images,
      tenant,
      declaredRegion,
      ...(signal ? { signal } : {}),
    });
    // The deadline holds even if some part of the engine does not watch the signal.
    evaluation = signal
      ? await Promise.race([
          evaluating,
          new Promise<never>((_resolve, reject) => {
            if (signal.aborted) reject(signal.reason);
            signal.addEventListener('abort', () => reject(signal.reason), {
              once: true,
            });
          }),
        ])
      : await evaluating;
  } catch (e) {
    const why = signal?.aborted
      ? `the --timeout of ${options.timeoutSeconds} s passed`
      : errorMessage(e);
    throw new CliError(`the verification could not complete: ${why}`, {
      exitCode: EXIT.UNKNOWN,
      code: 'engine_error',
      hint: 'This is not a residency decision; retry, and report it if it persists.',
    });
  }
  const { result, record } = evaluation;

  if (options.evidence) {
    const chained = engineApi.chainRecord(record, null);
    const bundle: EvidenceBundle = {
      schema: EVIDENCE_BUNDLE_SCHEMA,
      evidence: chained,
      exportedAt: io.now().toISOString(),
      exportedBy: 'residency-cli',
    };
    const target = resolve(io.cwd, options.evidence);
    try {
      writeFileSync(target, `${JSON.stringify(bundle, null, 2)}\n`, {
        mode: 0o644,
      });
    } catch (e) {
      throw new CliError(
        `cannot write the evidence bundle to ${target}: ${errorMessage(e)}`,
        {
          code: 'file_unwritable',
          hint: 'Choose a writable path for --evidence.',
        },
      );
    }
    if (!options.json) io.stderr(`evidence bundle written to ${target}\n`);
  }

  if (options.vsa) {
    await writeVsaFiles({
      record,
      settings,
      loaded,
      vsa: options.vsa,
      vsaBundle: options.vsaBundle,
      io,
      quiet: options.json,
    });
  }

  let exception: ExceptionOutcome | undefined;
  if (options.exception) {
    const keys = exceptionKeys(loaded);
    if (keys.length === 0) {
      throw new CliError('--exception needs residency.exceptions.keys', {
        code: 'config_invalid',
        hint: 'Pin the public key of the portal that signs exceptions under residency.exceptions.keys.',
      });
    }
    exception = applyExceptionFile({
      envelope: readExceptionEnvelope(resolve(io.cwd, options.exception)),
      keys,
      result,
      now: io.now(),
    });
  }

  if (options.json) {
    const doc = exception
      ? {
          ...result,
          exception: {
            honoured: exception.verdict.state === 'resident_by_exception',
            code: exception.check.code,
            message: exception.check.message,
            ...exception.verdict,
          },
        }
      : result;
    io.stdout(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    io.stdout(formatEntityResult(result, { explain: options.explain }));
    if (exception) io.stdout(formatExceptionOutcome(exception));
  }
  // Resident by exception passes the gate; the output never calls it resident.
  return exception?.verdict.state === 'resident_by_exception'
    ? EXIT.OK
    : exitCodeForDecision(result.decision);
}
