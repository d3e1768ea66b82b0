/*
 * `residency verify --exception` through the command layer: the key comes from
 * residency.exceptions.keys in the config file, the exception from a file.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileVsaSigner,
  buildExceptionStatement,
  signException,
} from '@residency-dev/plugin-residency-node';
import { run } from '../cli';
import { memoryIo } from '../io';
import { DIGEST, fakeEngine } from '../__testUtils__/fakeEngine';

const IMAGE = `registry.eu.example.com/app@${DIGEST}`;
const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

async function signedBy(key: ReturnType<typeof pair>, expiresAt: string) {
  const statement = buildExceptionStatement({
    id: '00000000-0000-4000-8000-000000000009',
    entityRef: 'component:default/residency-cli',
    status: 'approved',
    reasonCodes: ['attestation_missing:provenance'],
    digests: [DIGEST],
    justification: 'builder outage',
    reference: 'LEGAL-7',
    requestedBy: 'user:default/dana',
    requestedAt: '2026-11-23T08:00:00Z',
    expiresAt,
    decidedBy: 'user:default/pat',
    decidedAt: '2026-11-23T09:00:00Z',
  });
  const signer = FileVsaSigner.fromPem(
    key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    { keyId: 'portal', region: 'eusc-de-east-1' },
  );
  return (await signException(statement, signer)).envelope;
}

describe('residency verify --exception', () => {
  let dir: string;
  const portal = pair();
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'residency-exception-'));
    writeFileSync(
      join(dir, 'portal.pub'),
      portal.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
    writeFileSync(
      join(dir, 'app-config.yaml'),
      'residency:\n  tenants: {}\n  exceptions:\n    keys:\n      - publicKeyFile: portal.pub\n',
    );
    writeFileSync(join(dir, 'no-keys.yaml'), 'residency:\n  tenants: {}\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(file: string, config = 'app-config.yaml') {
    const io = memoryIo({ cwd: dir, now: new Date('2026-11-23T20:01:00Z') });
    const code = await run(
      [
        'verify',
        IMAGE,
        '--config',
        config,
        '--tenant',
        'acme-eu',
        '--exception',
        file,
      ],
      { io, engine: fakeEngine({ decision: 'non_compliant' }) },
    );
    return { code, out: io.out, err: io.err };
  }

  it('passes the gate as RESIDENT BY EXCEPTION with the configured key', async () => {
    writeFileSync(
      join(dir, 'ok.json'),
      JSON.stringify({
        envelope: await signedBy(portal, '2026-11-25T00:00:00Z'),
      }),
    );
    const r = await cli('ok.json');
    expect(r.code).toBe(0);
    expect(r.out).toContain('RESULT: NOT RESIDENT');
    expect(r.out).toContain(
      'RESULT: RESIDENT BY EXCEPTION — waived attestation_missing:provenance (requested by user:default/dana, approved by user:default/pat) until 2026-11-25T00:00:00Z',
    );
  });

  it('does not honour an exception signed by another key', async () => {
    writeFileSync(
      join(dir, 'foreign.json'),
      await signedBy(pair(), '2026-11-25T00:00:00Z'),
    );
    const r = await cli('foreign.json');
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'EXCEPTION NOT HONOURED (exception_signature_invalid)',
    );
  });

  it('does not honour an expired exception', async () => {
    writeFileSync(
      join(dir, 'expired.json'),
      await signedBy(portal, '2026-11-23T20:00:00Z'),
    );
    const r = await cli('expired.json');
    expect(r.code).toBe(1);
    expect(r.out).toContain('EXCEPTION NOT HONOURED (exception_expired)');
  });

  it('needs residency.exceptions.keys (usage error, exit 3)', async () => {
    const r = await cli('ok.json', 'no-keys.yaml');
    expect(r.code).toBe(3);
    expect(r.err).toContain('--exception needs residency.exceptions.keys');
  });
});

describe('residency verify-evidence --exception', () => {
  let dir: string;
  const portal = pair();
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'residency-ve-exception-'));
    writeFileSync(
      join(dir, 'portal.pub'),
      portal.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
    writeFileSync(
      join(dir, 'app-config.yaml'),
      'residency:\n  tenants: {}\n  exceptions:\n    keys:\n      - publicKeyFile: portal.pub\n',
    );
    const bundle = (checkedAt: string) =>
      JSON.stringify({
        schema: 'https://residency.dev/evidence-bundle/v1',
        evidence: {
          id: 'rec-1',
          sequence: 1,
          previousHash: null,
          recordHash: 'h'.repeat(64),
          record: {
            entityRef: 'component:default/residency-cli',
            result: { decision: 'non_compliant', checkedAt },
          },
        },
        exportedAt: '2026-11-24T00:00:00Z',
      });
    writeFileSync(join(dir, 'inside.json'), bundle('2026-11-24T00:00:00Z'));
    writeFileSync(join(dir, 'after.json'), bundle('2026-11-26T00:00:00Z'));
    writeFileSync(
      join(dir, 'exception.json'),
      await signedBy(portal, '2026-11-25T00:00:00Z'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(file: string) {
    const io = memoryIo({ cwd: dir });
    const code = await run(
      [
        'verify-evidence',
        file,
        '--config',
        'app-config.yaml',
        '--exception',
        'exception.json',
      ],
      {
        io,
        engine: fakeEngine({
          verification: { ok: true, decision: 'non_compliant', problems: [] },
        }),
      },
    );
    return { code, out: io.out };
  }

  it('accepts an exception in force when the record was decided', async () => {
    const r = await cli('inside.json');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Exception  VALID (exception_valid)');
  });

  it('fails a record decided after the exception ended', async () => {
    const r = await cli('after.json');
    expect(r.code).toBe(1);
    expect(r.out).toContain('Exception  NOT VALID (exception_expired)');
  });
});
