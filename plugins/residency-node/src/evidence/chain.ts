/*
 * The hash chain over evidence records: how a link is hashed, and the one set of
 * rules a link obeys relative to its predecessor. The backend's stored chains,
 * the offline bundle verifier and the CLI's `--previous` check all use these.
 */
import type {
  ChainRecord,
  ChainVerification,
  ChainedEvidence,
} from '@residency-dev/plugin-residency-common';
import { canonicalHash, sha256Hex } from '../canonical';
import type { EvidenceProblem } from './problems';

const HEX64 = /^[0-9a-f]{64}$/;

/** Hash of a chain link: SHA-256 of canonical `{ sequence, previousHash, record }`. @public */
export function recordHashOf(
  sequence: number,
  previousHash: string | null,
  record: ChainRecord,
): string {
  return canonicalHash({ sequence, previousHash, record });
}

/**
 * Appends a record to a chain: sequence 1 and previousHash null for the first
 * record of an entity, otherwise the previous link's sequence + 1 and hash.
 *
 * @public
 */
export function chainRecord<R extends ChainRecord>(
  record: R,
  previous?: Pick<
    ChainedEvidence<ChainRecord>,
    'sequence' | 'recordHash'
  > | null,
  id?: string,
): ChainedEvidence<R> {
  const sequence = previous ? previous.sequence + 1 : 1;
  const previousHash = previous ? previous.recordHash : null;
  const recordHash = recordHashOf(sequence, previousHash, record);
  return { id: id ?? recordHash, sequence, previousHash, recordHash, record };
}

/**
 * Deterministic evidence id: the same append retried yields the same id, so a
 * store's primary key turns a duplicate into a conflict instead of a second row.
 *
 * @public
 */
export function computeEvidenceId(options: {
  entityRef: string;
  sequence: number;
  recordHash: string;
}): string {
  return sha256Hex(
    `${options.entityRef}\n${options.sequence}\n${options.recordHash}`,
  ).slice(0, 32);
}

/** The fields of a link, as read from untrusted input. @public */
export interface ChainLinkInput {
  sequence: unknown;
  previousHash: unknown;
  recordHash: unknown;
  record: unknown;
}

/**
 * What precedes a link: `undefined` when unknown (a single bundle), `null` at the
 * start of a stored chain, otherwise the predecessor's sequence and hash.
 *
 * @public
 */
export type ChainPredecessor =
  | { sequence: unknown; recordHash: unknown; entityRef?: unknown }
  | null
  | undefined;

/**
 * The chain rules one link obeys. Problems carry bundle-relative paths
 * (`evidence.sequence`, `evidence.previousHash`, `evidence.recordHash`).
 *
 * @public
 */
export function chainLinkProblems(
  link: ChainLinkInput,
  predecessor: ChainPredecessor,
  options?: {
    /** The entity the chain belongs to. */
    entityRef?: string;
    /** A stored chain may start at a retention checkpoint. */
    checkpoint?: boolean;
    /** Skip recomputing the record hash (already checked by the caller). */
    skipRecordHash?: boolean;
  },
): EvidenceProblem[] {
  return [
    ...linkShapeProblems(link),
    ...predecessorProblems(link, predecessor, options?.checkpoint),
    ...entityProblems(link, predecessor, options?.entityRef),
    ...(options?.skipRecordHash ? [] : recordHashProblems(link)),
  ];
}

function chainProblem(
  path: string,
  message: string,
  code: EvidenceProblem['code'] = 'chain_broken',
): EvidenceProblem {
  return { path, code, message, check: 'chain' };
}

function linkShapeProblems(link: ChainLinkInput): EvidenceProblem[] {
  const out: EvidenceProblem[] = [];
  if (!Number.isInteger(link.sequence) || (link.sequence as number) < 1) {
    out.push(
      chainProblem(
        'evidence.sequence',
        'sequence must be a positive integer',
        'malformed',
      ),
    );
  }
  const ph = link.previousHash;
  if (!(ph === null || (typeof ph === 'string' && HEX64.test(ph)))) {
    out.push(
      chainProblem(
        'evidence.previousHash',
        'previousHash must be null or a SHA-256 hex digest',
        'malformed',
      ),
    );
  }
  return out;
}

function predecessorProblems(
  link: ChainLinkInput,
  predecessor: ChainPredecessor,
  checkpoint: boolean | undefined,
): EvidenceProblem[] {
  const { sequence, previousHash } = link;
  if (predecessor) {
    const expected = (predecessor.sequence as number) + 1;
    if (typeof predecessor.sequence !== 'number' || sequence !== expected) {
      return [
        chainProblem(
          'evidence.sequence',
          `sequence ${String(sequence)} follows ${String(
            predecessor.sequence,
          )}; a record is missing or reordered`,
        ),
      ];
    }
    if (previousHash !== predecessor.recordHash) {
      return [
        chainProblem(
          'evidence.previousHash',
          'previous hash does not match the hash of the previous record',
        ),
      ];
    }
    return [];
  }
  if (predecessor === null && sequence !== 1 && !checkpoint) {
    return [
      chainProblem(
        'evidence.sequence',
        `chain starts at sequence ${String(sequence)}, expected 1`,
      ),
    ];
  }
  if (sequence === 1 && previousHash !== null) {
    return [
      chainProblem(
        'evidence.previousHash',
        'the first record of a chain has no previous hash',
      ),
    ];
  }
  if (
    predecessor === undefined &&
    typeof sequence === 'number' &&
    sequence > 1 &&
    previousHash === null
  ) {
    return [
      chainProblem(
        'evidence.previousHash',
        'a later record must link to its predecessor',
      ),
    ];
  }
  return [];
}

function entityOf(record: unknown): unknown {
  return record && typeof record === 'object'
    ? (record as { entityRef?: unknown }).entityRef
    : undefined;
}

function entityProblems(
  link: ChainLinkInput,
  predecessor: ChainPredecessor,
  entityRef: string | undefined,
): EvidenceProblem[] {
  const own = entityOf(link.record);
  if (entityRef !== undefined && own !== entityRef) {
    return [
      chainProblem(
        'evidence.record.entityRef',
        'record belongs to another entity',
      ),
    ];
  }
  if (predecessor?.entityRef !== undefined && predecessor.entityRef !== own) {
    return [
      chainProblem(
        'evidence.record.entityRef',
        'the previous record belongs to another entity',
      ),
    ];
  }
  return [];
}

function recordHashProblems(link: ChainLinkInput): EvidenceProblem[] {
  let actual: string;
  try {
    actual = recordHashOf(
      link.sequence as number,
      (link.previousHash ?? null) as string | null,
      link.record as ChainRecord,
    );
  } catch {
    return [
      {
        path: 'evidence.record',
        code: 'malformed',
        message: 'record cannot be canonicalized',
        check: 'record_hash',
      },
    ];
  }
  if (actual === link.recordHash) return [];
  return [
    {
      path: 'evidence.recordHash',
      code: 'hash_mismatch',
      message:
        'record hash does not match the record content (SHA-256 of canonical {sequence, previousHash, record})',
      check: 'record_hash',
    },
  ];
}

/**
 * Incremental verifier of a stored chain: feed records in ascending sequence
 * order, read the result at the end. Reports the first broken link only.
 *
 * @public
 */
export class ChainVerifier {
  readonly #entityRef: string;
  #length = 0;
  #previous: { sequence: number; recordHash: string } | null = null;
  #brokenAt: ChainVerification['brokenAt'];

  constructor(entityRef: string) {
    this.#entityRef = entityRef;
  }

  add(evidence: ChainedEvidence<ChainRecord> & { checkpoint?: boolean }): void {
    this.#length += 1;
    if (this.#brokenAt) return;
    const { id, sequence, recordHash } = evidence;
    const problems = chainLinkProblems(evidence, this.#previous, {
      entityRef: this.#entityRef,
      checkpoint: evidence.checkpoint,
    });
    if (
      problems.length === 0 &&
      computeEvidenceId({
        entityRef: this.#entityRef,
        sequence,
        recordHash,
      }) !== id
    ) {
      problems.push(
        chainProblem('evidence.id', 'evidence id does not match the record'),
      );
    }
    if (problems.length > 0) {
      this.#brokenAt = { sequence, id, problem: problems[0].message };
      return;
    }
    this.#previous = { sequence, recordHash };
  }

  result(): ChainVerification {
    return {
      entityRef: this.#entityRef,
      ok: !this.#brokenAt,
      length: this.#length,
      ...(this.#brokenAt ? { brokenAt: this.#brokenAt } : {}),
    };
  }
}
