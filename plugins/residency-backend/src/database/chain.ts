import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { recordHashOf } from '@residency-dev/plugin-residency-node';
import type {
  ChainVerification,
  ChainedEvidence,
  EvidenceRecord,
} from '@residency-dev/plugin-residency-common';

/** RFC 8785 canonical JSON; throws on values JSON cannot represent. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) {
    throw new TypeError('Value cannot be represented as canonical JSON');
  }
  return text;
}

/** Hex SHA-256 of a UTF-8 string. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The record hash: SHA-256 hex of canonical JSON of `{ sequence, previousHash, record }`. */
export function computeRecordHash(options: {
  sequence: number;
  previousHash: string | null;
  record: EvidenceRecord;
}): string {
  // The engine's definition, so the CLI and auditors recompute the same hash.
  return recordHashOf(options.sequence, options.previousHash, options.record);
}

/**
 * Deterministic evidence id: the same append retried yields the same id, so the
 * primary key turns a duplicate into a conflict instead of a second row.
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

/**
 * Incremental chain verifier: feed records in ascending sequence order, read
 * the result at the end. Reports the first broken link only.
 */
export class ChainVerifier {
  readonly #entityRef: string;
  #length = 0;
  #expectedSequence: number | undefined;
  #previousHash: string | null = null;
  #brokenAt: ChainVerification['brokenAt'];

  constructor(entityRef: string) {
    this.#entityRef = entityRef;
  }

  add(evidence: ChainedEvidence & { checkpoint?: boolean }): void {
    this.#length += 1;
    if (this.#brokenAt) {
      return;
    }
    const { id, sequence, previousHash, recordHash, record } = evidence;
    const fail = (problem: string) => {
      this.#brokenAt = { sequence, id, problem };
    };
    if (this.#expectedSequence === undefined) {
      // The first retained record: sequence 1 starts the chain; a later start is
      // only valid for a checkpoint written by retention.
      if (sequence !== 1 && !evidence.checkpoint) {
        fail(`chain starts at sequence ${sequence}, expected 1`);
        return;
      }
      if (sequence === 1 && previousHash !== null) {
        fail('first record has a previous hash');
        return;
      }
    } else {
      if (sequence !== this.#expectedSequence) {
        fail(
          `sequence ${sequence} follows ${
            this.#expectedSequence - 1
          }; a record is missing or reordered`,
        );
        return;
      }
      if (previousHash !== this.#previousHash) {
        fail('previous hash does not match the hash of the previous record');
        return;
      }
    }
    if (record?.entityRef !== this.#entityRef) {
      fail('record belongs to another entity');
      return;
    }
    let actual: string;
    try {
      actual = computeRecordHash({ sequence, previousHash, record });
    } catch {
      fail('record cannot be canonicalized');
      return;
    }
    if (actual !== recordHash) {
      fail('record hash does not match the record content');
      return;
    }
    if (
      computeEvidenceId({
        entityRef: this.#entityRef,
        sequence,
        recordHash,
      }) !== id
    ) {
      fail('evidence id does not match the record');
      return;
    }
    this.#expectedSequence = sequence + 1;
    this.#previousHash = recordHash;
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
