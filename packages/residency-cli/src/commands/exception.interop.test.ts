/*
 * Exceptions made by producers other than ours (__testUtils__/vectors/exceptions,
 * made with openssl and sigstore-js by generate.sh): `residency verify
 * --exception` honours the valid one and refuses each attack with its code, and
 * `verify-evidence` checks the same statements embedded in evidence records.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EVIDENCE_BUNDLE_SCHEMA,
  type ExceptionEventRecord,
} from '@residency-dev/plugin-residency-common';
import {
  buildExceptionEventRecord,
  chainRecord,
  describePublicKey,
  exceptionKeyFromPem,
} from '@residency-dev/plugin-residency-node';
import { run } from '../cli';
import { memoryIo } from '../io';
import { DIGEST, fakeEngine } from '../__testUtils__/fakeEngine';

const VECTORS = join(__dirname, '..', '__testUtils__', 'vectors', 'exceptions');
const vector = (name: string) => join(VECTORS, name);
const IMAGE = `registry.eu.example.com/app@${DIGEST}`;
const NOW = new Date('2026-12-02T12:00:00Z');

describe('exceptions from independent producers', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'residency-exception-interop-'));
    const config = (pub: string) =>
      `residency:\n  tenants: {}\n  exceptions:\n    keys:\n      - publicKeyFile: ${vector(
        pub,
      )}\n`;
    writeFileSync(join(dir, 'portal.yaml'), config('portal.pub'));
    writeFileSync(join(dir, 'other.yaml'), config('other.pub'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function verify(file: string, config = 'portal.yaml') {
    const io = memoryIo({ cwd: dir, now: NOW });
    const code = await run(
      [
        'verify',
        IMAGE,
        '--config',
        config,
        '--tenant',
        'acme-eu',
        '--exception',
        vector(file),
      ],
      { io, engine: fakeEngine({ decision: 'non_compliant' }) },
    );
    return { code, out: io.out };
  }

  it('the fixtures are what generate.sh says: the statement is in-toto Statement v1', () => {
    const env = JSON.parse(readFileSync(vector('valid.dsse.json'), 'utf8'));
    expect(env.payloadType).toBe('application/vnd.in-toto+json');
    expect(Buffer.from(env.payload, 'base64')).toEqual(
      readFileSync(vector('valid.statement.json')),
    );
    const statement = JSON.parse(
      readFileSync(vector('valid.statement.json'), 'utf8'),
    );
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.subject[0].digest.sha256).toBe(DIGEST.slice(7));
  });

  it.each(['valid.dsse.json', 'valid.sigstore.json'])(
    'honours %s (openssl DSSE, sigstore-js bundle) signed by the configured key',
    async file => {
      const r = await verify(file);
      expect(r.code).toBe(0);
      expect(r.out).toContain(
        'RESULT: RESIDENT BY EXCEPTION — waived attestation_missing:provenance (requested by user:default/dana, approved by user:default/pat) until 2026-12-05T09:00:00Z',
      );
    },
  );

  it.each([
    ['tampered-payload.dsse.json', 'exception_signature_invalid'],
    ['wrong-key.dsse.json', 'exception_signature_invalid'],
    ['expired.dsse.json', 'exception_expired'],
    ['digest-not-covered.dsse.json', 'exception_digest_not_covered'],
    ['codes-not-covered.dsse.json', 'exception_codes_not_covered'],
  ])('refuses %s (%s), exit 1', async (file, code) => {
    const r = await verify(file);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`EXCEPTION NOT HONOURED (${code})`);
  });

  it('refuses the valid one when another key is configured', async () => {
    const r = await verify('valid.dsse.json', 'other.yaml');
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'EXCEPTION NOT HONOURED (exception_signature_invalid)',
    );
  });

  describe('verify-evidence on records that embed them', () => {
    const portalPem = readFileSync(vector('portal.pub'), 'utf8');
    const statementOf = (file: string) => ({
      envelope: readFileSync(vector(file), 'utf8').trim(),
      keyFingerprint: describePublicKey(exceptionKeyFromPem(portalPem))
        .fingerprint,
      publicKeyPem: portalPem,
    });
    const appliedBundle = (file: string, at = '2026-12-02T00:00:00Z') => {
      const record: ExceptionEventRecord = buildExceptionEventRecord({
        kind: 'exception.applied',
        entityRef: 'component:default/residency-cli',
        actor: 'system',
        at,
        decisionEvidenceId: 'e'.repeat(32),
        verdict: {
          state: 'resident_by_exception',
          waived: [
            {
              exceptionId: '6f1c3c5e-2b7a-4c1e-9d0f-3a5b7c9d1e2f',
              digest: DIGEST,
              reasonCodes: ['attestation_missing:provenance'],
              requestedBy: 'user:default/dana',
              approvedBy: 'user:default/pat',
              expiresAt: '2026-12-05T09:00:00Z',
            },
          ],
          validUntil: '2026-12-05T09:00:00Z',
          uncovered: [],
        },
        statements: [statementOf(file)],
      });
      return {
        schema: EVIDENCE_BUNDLE_SCHEMA,
        evidence: chainRecord(record, {
          sequence: 6,
          recordHash: 'f'.repeat(64),
        }),
        exportedAt: '2026-12-02T12:00:00Z',
      };
    };

    async function verifyEvidence(
      name: string,
      bundle: unknown,
      ...args: string[]
    ) {
      writeFileSync(join(dir, name), JSON.stringify(bundle));
      const io = memoryIo({ cwd: dir, now: NOW });
      const code = await run(['verify-evidence', name, '--json', ...args], {
        io,
      });
      return { code, doc: JSON.parse(io.out) };
    }

    it('a resident-by-exception record backed by the openssl statement verifies against the configured key', async () => {
      const r = await verifyEvidence(
        'applied.json',
        appliedBundle('valid.dsse.json'),
        '--config',
        'portal.yaml',
      );
      expect(r.doc.problems).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.doc.event).toMatchObject({
        kind: 'exception.applied',
        state: 'resident_by_exception',
      });
      expect(r.doc.checks.map((c: any) => `${c.id}:${c.status}`)).toEqual([
        'structure:pass',
        'record_hash:pass',
        'chain:pass',
        'material:not_run',
        'trust:not_run',
        'decision:not_run',
        'exception:pass',
      ]);
    });

    it.each([
      ['wrong-key.dsse.json', undefined, 'exception_signature_invalid'],
      ['tampered-payload.dsse.json', undefined, 'exception_signature_invalid'],
      ['valid.dsse.json', '2026-12-06T00:00:00Z', 'exception_outside_window'],
      ['expired.dsse.json', undefined, 'exception_outside_window'],
      ['digest-not-covered.dsse.json', undefined, 'exception_not_covered'],
      ['codes-not-covered.dsse.json', undefined, 'exception_not_covered'],
    ])(
      'a record relying on %s (recorded at %s) fails with %s, exit 1',
      async (file, at, code) => {
        const r = await verifyEvidence(
          'bad.json',
          appliedBundle(file, at),
          '--config',
          'portal.yaml',
        );
        expect(r.code).toBe(1);
        expect(r.doc.problems.map((p: any) => p.code)).toContain(code);
        expect(r.doc.checks.find((c: any) => c.id === 'exception').status).toBe(
          'fail',
        );
      },
    );

    it('an exception event is never a compliant decision (--require-compliant, exit 1)', async () => {
      writeFileSync(
        join(dir, 'applied.json'),
        JSON.stringify(appliedBundle('valid.dsse.json')),
      );
      const io = memoryIo({ cwd: dir, now: NOW });
      const code = await run(
        [
          'verify-evidence',
          'applied.json',
          '--config',
          'portal.yaml',
          '--require-compliant',
        ],
        { io },
      );
      expect(code).toBe(1);
      expect(io.out).toContain(
        'RESULT: the bundle verifies, but it records an exception event, not a compliant decision (--require-compliant).',
      );
      expect(io.out).toContain(
        'exception event  exception.applied by system at 2026-12-02T00:00:00Z',
      );
    });

    it("an auditor's trusted-keys file brings the exception key too", async () => {
      writeFileSync(
        join(dir, 'trusted-keys.yaml'),
        `keys: []\nboundaries: {}\nexceptionKeys:\n  - path: ${vector(
          'portal.pub',
        )}\n`,
      );
      writeFileSync(
        join(dir, 'other-keys.yaml'),
        `keys: []\nboundaries: {}\nexceptionKeys:\n  - path: ${vector(
          'other.pub',
        )}\n`,
      );
      const ok = await verifyEvidence(
        'applied.json',
        appliedBundle('valid.dsse.json'),
        '--trusted-keys',
        'trusted-keys.yaml',
      );
      expect(ok.doc.problems).toEqual([]);
      expect(ok.code).toBe(0);
      expect(ok.doc.verified).toBe('against_trusted_keys');
      const other = await verifyEvidence(
        'applied.json',
        appliedBundle('valid.dsse.json'),
        '--trusted-keys',
        'other-keys.yaml',
      );
      expect(other.code).toBe(1);
      expect(other.doc.problems.map((p: any) => p.code)).toContain(
        'exception_signature_invalid',
      );
    });

    it('a configuration without exception keys cannot pass an exception record', async () => {
      writeFileSync(join(dir, 'no-keys.yaml'), 'residency:\n  tenants: {}\n');
      const r = await verifyEvidence(
        'applied.json',
        appliedBundle('valid.dsse.json'),
        '--config',
        'no-keys.yaml',
      );
      expect(r.code).toBe(1);
      expect(r.doc.problems.map((p: any) => p.code)).toContain(
        'exception_key_not_configured',
      );
    });
  });
});
