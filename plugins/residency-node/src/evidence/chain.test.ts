import type { EvidenceRecord } from '@residency-dev/plugin-residency-common';
import {
  ChainVerifier,
  chainLinkProblems,
  chainRecord,
  computeEvidenceId,
} from '.';

const record = (n: number, entityRef = 'component:default/a') =>
  ({ entityRef, n } as unknown as EvidenceRecord);

function stored(entityRef = 'component:default/a') {
  const first = chainRecord(record(1, entityRef));
  const second = chainRecord(record(2, entityRef), first);
  return [first, second].map(l => ({
    ...l,
    id: computeEvidenceId({
      entityRef,
      sequence: l.sequence,
      recordHash: l.recordHash,
    }),
  }));
}

describe('one chain-link rule set (backend store, bundle verifier, CLI --previous)', () => {
  it('a well-formed chain verifies; each broken rule is tagged with its check', () => {
    const [first, second] = stored();
    expect(chainLinkProblems(first, null)).toEqual([]);
    expect(chainLinkProblems(second, first)).toEqual([]);
    expect(chainLinkProblems(second, undefined)).toEqual([]);
    // The sequence is also hashed, so a renumbered link breaks both checks.
    expect(chainLinkProblems({ ...second, sequence: 3 }, first)).toEqual([
      expect.objectContaining({
        path: 'evidence.sequence',
        code: 'chain_broken',
        check: 'chain',
      }),
      expect.objectContaining({ code: 'hash_mismatch', check: 'record_hash' }),
    ]);
    expect(
      chainLinkProblems({ ...second, previousHash: 'f'.repeat(64) }, first),
    ).toContainEqual(
      expect.objectContaining({
        path: 'evidence.previousHash',
        check: 'chain',
      }),
    );
    expect(
      chainLinkProblems({ ...second, record: record(9) }, first),
    ).toContainEqual(
      expect.objectContaining({
        path: 'evidence.recordHash',
        code: 'hash_mismatch',
        check: 'record_hash',
      }),
    );
    expect(
      chainLinkProblems({ ...second, previousHash: null }, undefined),
    ).toContainEqual(
      expect.objectContaining({
        message: 'a later record must link to its predecessor',
      }),
    );
    expect(
      chainLinkProblems(second, { ...first, entityRef: 'component:default/b' }),
    ).toContainEqual(
      expect.objectContaining({ path: 'evidence.record.entityRef' }),
    );
  });

  it('ChainVerifier reports the first broken link of a stored chain', () => {
    const [first, second] = stored();
    const ok = new ChainVerifier('component:default/a');
    ok.add(first);
    ok.add(second);
    expect(ok.result()).toEqual({
      entityRef: 'component:default/a',
      ok: true,
      length: 2,
    });
    const missing = new ChainVerifier('component:default/a');
    missing.add(second);
    expect(missing.result().brokenAt).toEqual({
      sequence: 2,
      id: second.id,
      problem: 'chain starts at sequence 2, expected 1',
    });
    const checkpoint = new ChainVerifier('component:default/a');
    checkpoint.add({ ...second, checkpoint: true });
    expect(checkpoint.result().ok).toBe(true);
    const badId = new ChainVerifier('component:default/a');
    badId.add({ ...first, id: 'x' });
    expect(badId.result().brokenAt?.problem).toBe(
      'evidence id does not match the record',
    );
    const other = new ChainVerifier('component:default/b');
    other.add(first);
    expect(other.result().brokenAt?.problem).toBe(
      'record belongs to another entity',
    );
  });
});
