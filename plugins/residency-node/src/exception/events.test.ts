/*
 * Exception events as evidence bundles, checked offline: one fixture per attack
 * (forged signature, window, coverage, a record that says something other than
 * its statement), each asserting the problem code.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { dsse } from '@sigstore/core';
import {
  EVIDENCE_BUNDLE_SCHEMA,
  type ExceptionEventRecord,
  type ResidencyException,
} from '@residency-dev/plugin-residency-common';
import { chainRecord } from '../evidence/chain';
import { verifyEvidenceBundle } from '../evidence/verifyBundle';
import { FileVsaSigner } from '../vsa/sign';
import { buildExceptionEventRecord } from './events';
import { signException } from './sign';
import { buildExceptionStatement } from './statement';
import { checkException } from './verify';

const ENTITY = 'component:default/payments';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER_DIGEST = `sha256:${'b'.repeat(64)}`;
const APPROVED_AT = '2026-12-01T10:00:00.000Z';
const EXPIRES_AT = '2026-12-04T10:00:00.000Z';

const exception: ResidencyException = {
  id: '00000000-0000-4000-8000-000000000017',
  entityRef: ENTITY,
  status: 'approved',
  reasonCodes: ['signature_missing'],
  digests: [DIGEST],
  justification: 'Signing service outage',
  reference: 'INC-4711',
  requestedBy: 'user:default/dev',
  requestedAt: '2026-12-01T09:00:00.000Z',
  expiresAt: EXPIRES_AT,
  decidedBy: 'user:default/dpo',
  decidedAt: APPROVED_AT,
};

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
  });
  return {
    publicKey,
    signer: FileVsaSigner.fromPem(
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      { keyId: 'portal', region: 'eusc-de-east-1' },
    ),
  };
}

const portal = keyPair();
const attacker = keyPair();

async function statementBy(
  signer: FileVsaSigner,
  e: ResidencyException = exception,
) {
  const s = await signException(
    buildExceptionStatement(e as Required<ResidencyException>),
    signer,
  );
  return {
    envelope: s.envelope,
    keyFingerprint: s.keyFingerprint,
    publicKeyPem: s.publicKeyPem,
  };
}

const bundleOf = (record: ExceptionEventRecord) => ({
  schema: EVIDENCE_BUNDLE_SCHEMA,
  evidence: chainRecord(record, { sequence: 4, recordHash: 'c'.repeat(64) }),
  exportedAt: '2026-12-02T00:00:00.000Z',
});

const codes = (record: ExceptionEventRecord, keys?: KeyObject[]) =>
  verifyEvidenceBundle(bundleOf(record), {
    ...(keys ? { exceptionKeys: keys } : {}),
  }).problems.map(p => p.code);

async function approval(
  overrides: Partial<Parameters<typeof buildExceptionEventRecord>[0]> = {},
) {
  return buildExceptionEventRecord({
    kind: 'exception.approved',
    entityRef: ENTITY,
    actor: 'user:default/dpo',
    at: APPROVED_AT,
    decisionEvidenceId: 'd'.repeat(32),
    exception,
    statement: await statementBy(portal.signer),
    ...overrides,
  });
}

async function applied(options: {
  at?: string;
  digest?: string;
  reasonCodes?: string[];
  signer?: FileVsaSigner;
}) {
  return buildExceptionEventRecord({
    kind: 'exception.applied',
    entityRef: ENTITY,
    actor: 'system',
    at: options.at ?? '2026-12-02T10:00:00.000Z',
    decisionEvidenceId: 'd'.repeat(32),
    verdict: {
      state: 'resident_by_exception',
      waived: [
        {
          exceptionId: exception.id,
          digest: options.digest ?? DIGEST,
          reasonCodes: options.reasonCodes ?? ['signature_missing'],
          requestedBy: exception.requestedBy,
          approvedBy: exception.decidedBy!,
          expiresAt: EXPIRES_AT,
        },
      ],
      validUntil: EXPIRES_AT,
      uncovered: [],
    },
    statements: [await statementBy(options.signer ?? portal.signer)],
  });
}

describe('exception events in the evidence chain', () => {
  it('an approval signed by the trusted key verifies (and by the key it names, without trust)', async () => {
    const record = await approval();
    expect(codes(record, [portal.publicKey])).toEqual([]);
    expect(codes(record)).toEqual([]);
    expect(verifyEvidenceBundle(bundleOf(record)).decision).toBeUndefined();
  });

  it('forgery: an approval signed by another key fails against the trusted key', async () => {
    const record = await approval({
      statement: await statementBy(attacker.signer),
    });
    // Self-consistent (it names the attacker's key) ...
    expect(codes(record)).toEqual([]);
    // ... but not signed by the key the auditor trusts.
    expect(codes(record, [portal.publicKey])).toEqual([
      'exception_signature_invalid',
    ]);
  });

  it('a named key that is not the fingerprint recorded is refused', async () => {
    const good = await statementBy(portal.signer);
    const record = await approval({
      statement: {
        ...good,
        publicKeyPem: (await statementBy(attacker.signer)).publicKeyPem,
      },
    });
    expect(codes(record)).toEqual(['fingerprint_mismatch']);
  });

  it('no exception key configured by the auditor is a problem, not a pass', async () => {
    expect(codes(await approval(), [])).toEqual([
      'exception_key_not_configured',
    ]);
  });

  it('a record that says more than its statement (another digest) is refused', async () => {
    const record = await approval({
      exception: { ...exception, digests: [DIGEST, OTHER_DIGEST] },
    });
    expect(codes(record, [portal.publicKey])).toEqual(['exception_mismatch']);
  });

  it('an approval recorded after the window is refused', async () => {
    const record = await approval({ at: '2026-12-05T00:00:00.000Z' });
    expect(codes(record, [portal.publicKey])).toEqual([
      'exception_outside_window',
    ]);
  });

  it('resident by exception inside the window, covered, verifies', async () => {
    expect(codes(await applied({}), [portal.publicKey])).toEqual([]);
  });

  it('resident by exception recorded after the exception expired fails', async () => {
    const problems = verifyEvidenceBundle(
      bundleOf(await applied({ at: '2026-12-04T10:00:01.000Z' })),
      { exceptionKeys: [portal.publicKey] },
    ).problems;
    expect(problems.map(p => p.code)).toEqual([
      'exception_outside_window',
      'exception_not_covered',
    ]);
    expect(problems[0]).toMatchObject({
      check: 'exception',
      path: 'evidence.record.statements[0].envelope',
    });
    expect(problems[0].message).toContain('exception_expired');
  });

  it('resident by exception recorded before the approval fails', async () => {
    expect(
      codes(await applied({ at: '2026-12-01T09:59:00.000Z' }), [
        portal.publicKey,
      ]),
    ).toEqual(['exception_outside_window', 'exception_not_covered']);
  });

  it('a waiver of a digest the exception does not cover fails', async () => {
    const problems = verifyEvidenceBundle(
      bundleOf(await applied({ digest: OTHER_DIGEST })),
      { exceptionKeys: [portal.publicKey] },
    ).problems;
    expect(problems).toEqual([
      expect.objectContaining({
        code: 'exception_not_covered',
        path: 'evidence.record.verdict.waived[0].digest',
      }),
    ]);
  });

  it('a waiver of a code the exception does not waive fails', async () => {
    expect(
      codes(
        await applied({ reasonCodes: ['signature_missing', 'key_untrusted'] }),
        [portal.publicKey],
      ),
    ).toEqual(['exception_not_covered']);
  });

  it('a waiver backed by a statement of another key fails', async () => {
    expect(
      codes(await applied({ signer: attacker.signer }), [portal.publicKey]),
    ).toEqual(['exception_signature_invalid', 'exception_not_covered']);
  });

  it('an expiry recorded before the end of the window fails', async () => {
    const record = buildExceptionEventRecord({
      kind: 'exception.expired',
      entityRef: ENTITY,
      actor: 'system',
      at: '2026-12-03T00:00:00.000Z',
      decisionEvidenceId: null,
      exception,
    });
    expect(codes(record)).toEqual(['exception_outside_window']);
    expect(codes({ ...record, at: EXPIRES_AT })).toEqual([]);
  });

  it('an edited event no longer matches its record hash', async () => {
    const bundle = bundleOf(await approval());
    (bundle.evidence.record as ExceptionEventRecord).exception!.expiresAt =
      '2027-01-01T00:00:00.000Z';
    expect(
      verifyEvidenceBundle(bundle, {
        exceptionKeys: [portal.publicKey],
      }).problems.map(p => p.code),
    ).toEqual(['hash_mismatch', 'exception_mismatch']);
  });

  it('garbage events are malformed, never a throw', () => {
    for (const record of [
      { schema: 'https://residency.dev/exception-event/v1' },
      {
        schema: 'https://residency.dev/exception-event/v1',
        kind: 'exception.applied',
        entityRef: ENTITY,
        actor: 'system',
        at: APPROVED_AT,
        verdict: 'resident',
      },
      {
        schema: 'https://residency.dev/exception-event/v1',
        kind: 'exception.approved',
        entityRef: ENTITY,
        actor: 'system',
        at: APPROVED_AT,
        exception,
        statement: { envelope: '{"payloadType":1}' },
      },
    ]) {
      const v = verifyEvidenceBundle(
        bundleOf(record as unknown as ExceptionEventRecord),
      );
      expect(v.ok).toBe(false);
      expect(v.problems.map(p => p.code)).toContain('malformed');
    }
  });
});

describe('the exception statement is an in-toto Statement v1', () => {
  it('subjects name the covered digests; a statement without _type or with other subjects is malformed', async () => {
    const { envelope } = await statementBy(portal.signer);
    const env = JSON.parse(envelope);
    const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString());
    expect(statement).toMatchObject({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: DIGEST, digest: { sha256: 'a'.repeat(64) } }],
      predicateType: 'https://residency.dev/exception/v1',
    });
    const resign = async (doc: unknown) => {
      const payload = Buffer.from(JSON.stringify(doc));
      const sig = await portal.signer.sign(
        dsse.preAuthEncoding('application/vnd.in-toto+json', payload),
      );
      return JSON.stringify({
        payloadType: 'application/vnd.in-toto+json',
        payload: payload.toString('base64'),
        signatures: [{ keyid: '', sig: sig.toString('base64') }],
      });
    };
    const check = async (doc: unknown) =>
      checkException({
        envelope: await resign(doc),
        keys: [portal.publicKey],
        now: new Date('2026-12-02T00:00:00Z'),
      });
    expect(await check(statement)).toMatchObject({ ok: true });
    const { _type, ...untyped } = statement;
    expect(await check(untyped)).toMatchObject({
      code: 'exception_malformed',
      message: expect.stringContaining('_type'),
    });
    expect(
      await check({
        ...statement,
        subject: [{ name: ENTITY, digest: { sha256: 'b'.repeat(64) } }],
      }),
    ).toMatchObject({
      code: 'exception_malformed',
      message: expect.stringContaining('subjects'),
    });
    expect(await check({ ...statement, subject: [] })).toMatchObject({
      code: 'exception_malformed',
    });
    // `name` is optional in Statement v1: a producer may leave it out.
    expect(
      await check({
        ...statement,
        subject: [{ digest: { sha256: 'a'.repeat(64) } }],
      }),
    ).toMatchObject({ ok: true });
    expect(
      await check({
        ...statement,
        subject: [{ name: 7, digest: { sha256: 'a'.repeat(64) } }],
      }),
    ).toMatchObject({ code: 'exception_malformed' });
  });
});
