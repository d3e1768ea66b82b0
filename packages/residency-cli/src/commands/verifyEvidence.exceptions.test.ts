/*
 * `residency verify-evidence` on an entity's chain in which a second exception
 * takes over from the first: each exception.applied record, and the link to its
 * predecessor, verify against the portal's exception key from the auditor's
 * configuration; a predecessor signed by another key does not.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EVIDENCE_BUNDLE_SCHEMA,
  type AppliedWaiver,
  type ResidencyException,
} from '@residency-dev/plugin-residency-common';
import {
  FileVsaSigner,
  buildExceptionEventRecord,
  buildExceptionStatement,
  chainRecord,
  describePublicKey,
  signException,
} from '@residency-dev/plugin-residency-node';
import { run } from '../cli';
import { memoryIo } from '../io';
import { DIGEST } from '../__testUtils__/fakeEngine';

const ENTITY = 'component:default/payments';
const NOW = new Date('2026-12-02T12:00:00Z');
const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
type Pair = ReturnType<typeof pair>;

const exceptionA: ResidencyException = {
  id: '00000000-0000-4000-8000-00000000000a',
  entityRef: ENTITY,
  status: 'approved',
  reasonCodes: ['signature_missing'],
  digests: [DIGEST],
  justification: 'Signing service outage',
  reference: 'INC-1',
  requestedBy: 'user:default/dev',
  requestedAt: '2026-12-01T08:00:00.000Z',
  expiresAt: '2026-12-03T08:00:00.000Z',
  decidedBy: 'user:default/dpo',
  decidedAt: '2026-12-01T09:00:00.000Z',
};
const exceptionB: ResidencyException = {
  ...exceptionA,
  id: '00000000-0000-4000-8000-00000000000b',
  reference: 'INC-2',
  requestedAt: '2026-12-01T10:00:00.000Z',
  expiresAt: '2026-12-05T10:00:00.000Z',
  decidedBy: 'user:default/platform',
  decidedAt: '2026-12-01T11:00:00.000Z',
};

async function statementOf(e: ResidencyException, key: Pair) {
  const signer = FileVsaSigner.fromPem(
    key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    { keyId: 'portal', region: 'eusc-de-east-1' },
  );
  const signed = await signException(
    buildExceptionStatement({
      ...e,
      decidedBy: e.decidedBy!,
      decidedAt: e.decidedAt!,
    }),
    signer,
  );
  return {
    envelope: signed.envelope,
    keyFingerprint: describePublicKey(key.publicKey).fingerprint,
    publicKeyPem: key.publicKey
      .export({ type: 'spki', format: 'pem' })
      .toString(),
  };
}

const waiverOf = (e: ResidencyException, digest = DIGEST): AppliedWaiver => ({
  exceptionId: e.id,
  digest,
  reasonCodes: [...e.reasonCodes],
  requestedBy: e.requestedBy,
  approvedBy: e.decidedBy!,
  expiresAt: e.expiresAt,
});

/** The exception.applied record of one waiver, backed by `statements`. */
function applied(
  at: string,
  waiver: AppliedWaiver,
  statements: Awaited<ReturnType<typeof statementOf>>[],
) {
  return buildExceptionEventRecord({
    kind: 'exception.applied',
    entityRef: ENTITY,
    actor: 'system',
    at,
    decisionEvidenceId: 'e'.repeat(32),
    verdict: {
      state: 'resident_by_exception',
      waived: [waiver],
      validUntil: waiver.expiresAt,
      uncovered: [],
    },
    statements,
  });
}

describe('verify-evidence on a chain where a second exception takes over', () => {
  let dir: string;
  const portal = pair();
  const other = pair();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'residency-two-exceptions-'));
    writeFileSync(
      join(dir, 'portal.pub'),
      portal.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
    writeFileSync(
      join(dir, 'portal.yaml'),
      'residency:\n  tenants: {}\n  exceptions:\n    keys:\n      - publicKeyFile: portal.pub\n',
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes the records as one chain of bundles (1.json, 2.json, ...). */
  function writeChain(records: ReturnType<typeof applied>[]) {
    let previous: ReturnType<typeof chainRecord> | null = null;
    records.forEach((record, i) => {
      const evidence: ReturnType<typeof chainRecord> = chainRecord(
        record,
        previous,
      );
      writeFileSync(
        join(dir, `${i + 1}.json`),
        JSON.stringify({
          schema: EVIDENCE_BUNDLE_SCHEMA,
          evidence,
          exportedAt: NOW.toISOString(),
        }),
      );
      previous = evidence;
    });
  }

  async function verify(file: string, ...args: string[]) {
    const io = memoryIo({ cwd: dir, now: NOW });
    const code = await run(
      ['verify-evidence', file, '--json', '--config', 'portal.yaml', ...args],
      { io },
    );
    return { code, doc: JSON.parse(io.out) };
  }
  const codes = (r: { doc: any }) => r.doc.problems.map((p: any) => p.code);

  it('each applied record verifies, linked to the one before', async () => {
    const a = await statementOf(exceptionA, portal);
    const b = await statementOf(exceptionB, portal);
    writeChain([
      applied('2026-12-01T09:00:01.000Z', waiverOf(exceptionA), [a]),
      // B approved later takes over: its own statement backs the new record.
      applied('2026-12-01T11:00:01.000Z', waiverOf(exceptionB), [b]),
      // B revoked: A applies again, with A's statement.
      applied('2026-12-01T12:00:01.000Z', waiverOf(exceptionA), [a]),
    ]);
    const first = await verify('1.json');
    expect(first.doc.problems).toEqual([]);
    expect(first.code).toBe(0);
    for (const [file, prev, id] of [
      ['2.json', '1.json', exceptionB.id],
      ['3.json', '2.json', exceptionA.id],
    ]) {
      const r = await verify(file, '--previous', prev);
      expect(r.doc.problems).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.doc.event).toMatchObject({
        kind: 'exception.applied',
        state: 'resident_by_exception',
      });
      expect(r.doc.event.waived).toEqual([
        `signature_missing on ${DIGEST} by exception ${id}`,
      ]);
      expect(r.doc.checks.find((c: any) => c.id === 'exception').status).toBe(
        'pass',
      );
    }
  });

  it('a takeover record backed only by the first statement fails', async () => {
    const a = await statementOf(exceptionA, portal);
    writeChain([
      applied('2026-12-01T09:00:01.000Z', waiverOf(exceptionA), [a]),
      applied('2026-12-01T11:00:01.000Z', waiverOf(exceptionB), [a]),
    ]);
    const r = await verify('2.json', '--previous', '1.json');
    expect(r.code).toBe(1);
    expect(codes(r)).toEqual(['exception_not_covered']);
  });

  it('a takeover after the first window ended needs the second exception', async () => {
    const a = await statementOf(exceptionA, portal);
    writeChain([
      applied('2026-12-01T09:00:01.000Z', waiverOf(exceptionA), [a]),
      applied('2026-12-04T00:00:00.000Z', waiverOf(exceptionA), [a]),
    ]);
    const r = await verify('2.json', '--previous', '1.json');
    expect(r.code).toBe(1);
    expect(codes(r)).toContain('exception_outside_window');
  });

  it("a predecessor whose statement another key signed breaks the link's check", async () => {
    const forged = await statementOf(exceptionA, other);
    const b = await statementOf(exceptionB, portal);
    writeChain([
      applied('2026-12-01T09:00:01.000Z', waiverOf(exceptionA), [forged]),
      applied('2026-12-01T11:00:01.000Z', waiverOf(exceptionB), [b]),
    ]);
    expect(codes(await verify('1.json'))).toContain(
      'exception_signature_invalid',
    );
    const r = await verify('2.json', '--previous', '1.json');
    expect(r.code).toBe(1);
    expect(codes(r)).toEqual(['previous_invalid']);
  });
});
