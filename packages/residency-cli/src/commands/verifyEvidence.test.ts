import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../cli';
import { memoryIo } from '../io';
import { fakeEngine } from '../__testUtils__/fakeEngine';

describe('residency verify-evidence (command layer, engine faked)', () => {
  let dir: string;
  const bundle = {
    schema: 'https://residency.dev/evidence-bundle/v1',
    evidence: {
      id: 'rec-1',
      sequence: 1,
      previousHash: null,
      recordHash: 'h'.repeat(64),
      record: {
        entityRef: 'component:default/a',
        result: { decision: 'non_compliant' },
      },
    },
    exportedAt: '2026-11-23T20:00:00Z',
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'residency-ve-'));
    writeFileSync(join(dir, 'bundle.json'), JSON.stringify(bundle));
    const forged = structuredClone(bundle);
    forged.evidence.record.result.decision = 'compliant';
    writeFileSync(join(dir, 'forged.json'), JSON.stringify(forged));
    writeFileSync(
      join(dir, 'other.json'),
      JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      }),
    );
    writeFileSync(
      join(dir, 'broken.json'),
      '{"schema": "https://residency.dev/evi',
    );
    writeFileSync(join(dir, 'app-config.yaml'), 'residency:\n  tenants: {}\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(engine: ReturnType<typeof fakeEngine>, ...args: string[]) {
    const io = memoryIo({ cwd: dir });
    const code = await run(['verify-evidence', ...args], { io, engine });
    return { code, out: io.out, err: io.err };
  }

  it('exit 0 when the bundle verifies; every check passes', async () => {
    const r = await cli(
      fakeEngine({
        verification: { ok: true, decision: 'non_compliant', problems: [] },
      }),
      'bundle.json',
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain('PASS  record hash');
    expect(r.out).not.toContain('FAIL');
    expect(r.out).toContain('RESULT: the bundle verifies.');
  });

  it('--require-compliant fails a verified bundle whose recorded decision is not compliant', async () => {
    const r = await cli(
      fakeEngine({
        verification: { ok: true, decision: 'non_compliant', problems: [] },
      }),
      'bundle.json',
      '--require-compliant',
    );
    expect(r.code).toBe(1);
  });

  it('issue 12 item 1: a self-consistent forged bundle without --config is never RESIDENT, and --require-compliant exits 2', async () => {
    // What a forger controls: a US key relabelled as EU, the decision flipped and
    // every hash recomputed. The engine finds it consistent (ok, compliant).
    const forged = () =>
      fakeEngine({
        verification: { ok: true, decision: 'compliant', problems: [] },
      });
    const gate = await cli(forged(), 'forged.json', '--require-compliant');
    expect(gate.code).toBe(2);
    expect(gate.out).not.toContain('RESIDENT');
    expect(gate.out).toContain('Only its internal consistency was checked');
    expect(gate.out).toContain('--require-compliant needs --config');
    const plain = await cli(forged(), 'forged.json');
    expect(plain.code).toBe(0);
    expect(plain.out).not.toContain('RESIDENT');
    const json = await cli(
      forged(),
      'forged.json',
      '--json',
      '--require-compliant',
    );
    expect(json.code).toBe(2);
    expect(JSON.parse(json.out)).toMatchObject({
      configChecked: false,
      verified: 'internal_consistency_only',
    });
    // With the auditor's own configuration the same answer is a verified decision.
    const trusted = await cli(
      forged(),
      'forged.json',
      '-c',
      'app-config.yaml',
      '--require-compliant',
    );
    expect(trusted.code).toBe(0);
    expect(trusted.out).toContain('RESIDENT (compliant)');
  });

  it('issue 12 item 3, sibling: an evidence bundle with duplicate keys is refused (exit 1), never read as its last value', async () => {
    const text = JSON.stringify(bundle);
    // Two decisions: JSON.parse would keep the second, another reader the first.
    writeFileSync(
      join(dir, 'dup.json'),
      text.replace(
        '"decision":"non_compliant"',
        '"decision":"non_compliant","decision":"compliant"',
      ),
    );
    const r = await cli(
      fakeEngine({
        verification: { ok: true, decision: 'compliant', problems: [] },
      }),
      'dup.json',
      '-c',
      'app-config.yaml',
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain('duplicate key "decision"');
    expect(r.out).not.toContain('RESIDENT');
  });

  it('exit 1 and the failing JSON path when it does not verify', async () => {
    const engine = fakeEngine({
      verification: {
        ok: false,
        problems: [
          {
            path: '$.evidence.recordHash',
            code: 'hash_mismatch',
            message: 'recomputed hash differs',
            check: 'record_hash',
          },
          {
            path: 'evidence.record.material[0].simpleSignatures[0].signature',
            code: 'material_mismatch',
            message: 'does not verify',
            check: 'material',
          },
        ],
      },
    });
    const r = await cli(engine, 'bundle.json', '--json');
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out);
    expect(doc.ok).toBe(false);
    expect(doc.problems).toEqual([
      {
        path: '$.evidence.recordHash',
        code: 'hash_mismatch',
        message: 'recomputed hash differs',
        check: 'record_hash',
      },
      {
        path: '$.evidence.record.material[0].simpleSignatures[0].signature',
        code: 'material_mismatch',
        message: 'does not verify',
        check: 'material',
      },
    ]);
    expect(doc.checks.find((c: any) => c.id === 'chain').ok).toBe(true);
    expect(doc.checks.find((c: any) => c.id === 'material').ok).toBe(false);
  });

  it('human output names each failing path', async () => {
    const engine = fakeEngine({
      verification: {
        ok: false,
        problems: [
          {
            path: '$.previous.recordHash',
            code: 'chain_broken',
            message: 'link differs',
            check: 'chain',
          },
        ],
      },
    });
    const r = await cli(engine, 'bundle.json');
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'FAIL  chain link to the previous record (1 problem)',
    );
    expect(r.out).toContain(
      '$.previous.recordHash\n    chain_broken: link differs',
    );
    expect(r.out).toContain('RESULT: the bundle does NOT verify.');
  });

  it('a malformed evidence object fails the structure check', async () => {
    const engine = fakeEngine({
      verification: {
        ok: false,
        problems: [
          {
            path: 'evidence',
            code: 'malformed',
            message: 'evidence.record is missing',
            check: 'structure',
          },
        ],
      },
    });
    const r = await cli(engine, 'bundle.json', '--json');
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out);
    expect(doc.problems[0]).toMatchObject({
      path: '$.evidence',
      check: 'structure',
    });
    expect(doc.checks.find((c: any) => c.id === 'structure').status).toBe(
      'fail',
    );
  });

  it('--previous: a predecessor of another entity breaks the chain at entityRef', async () => {
    const other = structuredClone(bundle);
    other.evidence.sequence = 0;
    other.evidence.recordHash = 'a'.repeat(64);
    other.evidence.record.entityRef = 'component:default/b';
    writeFileSync(join(dir, 'prev.json'), JSON.stringify(other));
    const r = await cli(
      fakeEngine(),
      'bundle.json',
      '--previous',
      'prev.json',
      '--json',
    );
    expect(r.code).toBe(1);
    const paths = JSON.parse(r.out).problems.map(
      (p: { path: string }) => p.path,
    );
    expect(paths).toEqual([
      '$.evidence.previousHash',
      '$.evidence.record.entityRef',
    ]);
  });

  it.each([
    [
      'exportedAt',
      (b: any) => {
        b.exportedAt = 12;
      },
      '$.exportedAt',
    ],
    [
      'exportedAt',
      (b: any) => {
        b.exportedAt = 'yesterday';
      },
      '$.exportedAt',
    ],
    [
      'exportedBy',
      (b: any) => {
        b.exportedBy = ['x'];
      },
      '$.exportedBy',
    ],
    [
      'evidence.id',
      (b: any) => {
        b.evidence.id = null;
      },
      '$.evidence.id',
    ],
  ])(
    'metadata outside the hash must be well-formed: %s',
    async (_name, mutate, path) => {
      const doc = structuredClone(bundle);
      mutate(doc);
      writeFileSync(join(dir, 'meta.json'), JSON.stringify(doc));
      const r = await cli(fakeEngine(), 'meta.json', '--json');
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).problems).toEqual([
        expect.objectContaining({
          path,
          code: 'malformed',
          check: 'structure',
        }),
      ]);
    },
  );

  it('exit 2 when only undecidable material remains', async () => {
    const engine = fakeEngine({
      verification: {
        ok: false,
        problems: [
          {
            path: '$.evidence.record.material[0].bundles[0]',
            code: 'trusted_root_unavailable',
            message: 'no root',
            check: 'trust',
          },
        ],
      },
    });
    expect((await cli(engine, 'bundle.json')).code).toBe(2);
  });

  it('an engine exception is "could not decide" (exit 2)', async () => {
    const engine = fakeEngine();
    engine.verifyEvidenceBundle = () => {
      throw new Error('boom');
    };
    const r = await cli(engine, 'bundle.json', '--json');
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.out);
    expect(doc.problems[0]).toMatchObject({ path: '$', code: 'cannot_verify' });
    expect(doc.checks.find((c: any) => c.id === 'record_hash')).toMatchObject({
      status: 'not_run',
      ok: false,
    });
  });

  it('passes settings from --config to the engine', async () => {
    const engine = fakeEngine();
    await cli(engine, 'bundle.json', '--config', 'app-config.yaml');
    expect(
      (engine.calls.verifyBundle[0] as any).o.settings.tenants['acme-eu'],
    ).toBeDefined();
  });

  it.each([
    ['missing.json', 'cannot read evidence bundle'],
    ['broken.json', 'is not JSON'],
    ['other.json', 'is not a Residency evidence bundle'],
  ])('%s exits 3', async (file, message) => {
    const r = await cli(fakeEngine(), file);
    expect(r.code).toBe(3);
    expect(r.err).toContain(message);
  });
});
