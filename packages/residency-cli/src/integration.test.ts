/*
 * End to end: the CLI on the real engine, against a real docker-registry on loopback and
 * an OCI image layout on disk, with images signed by the signing kit in cosign's formats.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  generateKey,
  publishSignedImage,
  slsaProvenanceV1,
  startTestRegistry,
  type SigningKey,
  type TestRegistry,
} from '@residency-dev/signing-kit';
import {
  chainRecord,
  recordHashOf,
} from '@residency-dev/plugin-residency-node';
import { run } from './cli';
import { memoryIo } from './io';

const EU_KEY_ID =
  'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/0c7a1b2c-eu';
const US_KEY_ID =
  'awskms:///arn:aws:kms:us-east-1:111122223333:key/9f8e7d6c-us';

jest.setTimeout(60_000);

describe('residency CLI on the real engine', () => {
  let dir: string;
  let registry: TestRegistry;
  let eu: SigningKey;
  let us: SigningKey;
  const refs: Record<string, string> = {};

  async function cli(...args: string[]) {
    const io = memoryIo({ cwd: dir, env: {} });
    const code = await run(args, { io });
    return { code, out: io.out, err: io.err };
  }

  const provenance = () => {
    const p = slsaProvenanceV1();
    return { predicateType: p.predicateType, predicate: p.predicate };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'residency-it-'));
    registry = await startTestRegistry();
    eu = generateKey();
    us = generateKey();
    writeFileSync(join(dir, 'eu.pub'), eu.publicKeyPem);
    writeFileSync(join(dir, 'us.pub'), us.publicKeyPem);
    writeFileSync(
      join(dir, 'app-config.yaml'),
      `residency:
  boundaries:
    eu-sovereign: [eusc-de-east-1]
  registries:
    - host: ${registry.host}
      region: eusc-de-east-1
      insecure: true
    - host: 127.0.0.1:1
      region: eusc-de-east-1
      insecure: true
  layouts:
    - path: ./layout
      region: eusc-de-east-1
  keys:
    - id: ${EU_KEY_ID}
      publicKeyFile: eu.pub
    - id: ${US_KEY_ID}
      publicKeyFile: us.pub
  tenants:
    acme-eu:
      boundary: eu-sovereign
      require: [signature, provenance]
`,
    );
    const target = { registry: registry.host };
    const good = await publishSignedImage({
      target,
      repository: 'acme/good',
      tag: 'v1',
      key: eu,
      attestations: [provenance()],
    });
    refs.good = good.reference;
    refs.goodDigest = good.digestReference;
    refs.usSigned = (
      await publishSignedImage({
        target,
        repository: 'acme/us',
        tag: 'v1',
        key: us,
        attestations: [{ ...provenance(), key: us }],
      })
    ).reference;
    refs.unsigned = (
      await publishSignedImage({
        target,
        repository: 'acme/unsigned',
        tag: 'v1',
        signatures: [],
      })
    ).reference;
    refs.noProvenance = (
      await publishSignedImage({
        target,
        repository: 'acme/noprov',
        tag: 'v1',
        key: eu,
      })
    ).reference;
    const p = provenance();
    refs.bundled = (
      await publishSignedImage({
        target,
        repository: 'acme/bundled',
        tag: 'v1',
        key: eu,
        bundles: [
          {
            kind: 'dsse',
            predicateType: p.predicateType,
            predicate: p.predicate,
          },
        ],
      })
    ).reference;
    refs.layout = (
      await publishSignedImage({
        target: { layout: join(dir, 'layout') },
        repository: 'acme/layout',
        tag: 'v1',
        key: eu,
        attestations: [provenance()],
      })
    ).reference;
  });

  afterAll(async () => {
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const base = ['-c', 'app-config.yaml', '-t', 'acme-eu'];

  it('a signed, attested image in the EU registry is resident (exit 0)', async () => {
    const r = await cli('verify', refs.good, ...base, '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.decision).toBe('compliant');
    expect(doc.images[0].digest).toBe(refs.goodDigest.split('@')[1]);
    expect(doc.images[0].signatures[0]).toMatchObject({
      verified: true,
      key: { id: EU_KEY_ID, region: 'eusc-de-east-1' },
    });
  });

  it('an OCI layout on disk is verified the same way (exit 0)', async () => {
    const r = await cli('verify', refs.layout, ...base);
    expect(r.code).toBe(0);
    expect(r.out).toContain('RESULT: RESIDENT (compliant)');
  });

  it.each([
    ['usSigned', 'key_outside_boundary'],
    ['unsigned', 'signature_missing'],
    ['noProvenance', 'attestation_missing:provenance'],
  ])('%s is not resident (exit 1) with %s', async (name, code) => {
    const r = await cli('verify', refs[name], ...base, '--json');
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out);
    expect(
      doc.images[0].reasons.map((x: { code: string }) => x.code),
    ).toContain(code);
  });

  it('--json carries the verification report of every image; --explain prints it, failing checks first', async () => {
    const json = await cli('verify', refs.usSigned, ...base, '--json');
    const doc = JSON.parse(json.out);
    const checks = doc.images[0].report.checks as {
      id: string;
      outcome: string;
      reason?: string;
    }[];
    expect(doc.images[0].report.schema).toBe(
      'https://residency.dev/verification-report/v1',
    );
    expect(checks.slice(0, 6).map(c => `${c.id}:${c.outcome}`)).toEqual([
      'reference_parsed:pass',
      'registry_allowed:pass',
      'registry_region:pass',
      'tag_resolved:pass',
      'manifest_hashed:pass',
      'discovery:pass',
    ]);
    expect(checks).toContainEqual(
      expect.objectContaining({
        id: 'key_region',
        outcome: 'fail',
        reason: 'key_outside_boundary',
        found: 'us-east-1',
      }),
    );
    expect(doc.report.checks[0]).toMatchObject({
      id: 'tenant_known',
      outcome: 'pass',
    });

    const r = await cli('verify', refs.usSigned, ...base, '--explain');
    expect(r.code).toBe(1);
    const lines = r.out.split('\n');
    const start = lines.indexOf('  checks (failing first)');
    expect(start).toBeGreaterThan(0);
    // the first check printed is a failure, with expected and found in words
    expect(lines[start + 1]).toMatch(
      /^ {4}FAIL key_region \[simpleSignatures\[0\]\] \(key_outside_boundary\)$/,
    );
    expect(lines[start + 2]).toBe(
      '           expected: a region of boundary eu-sovereign (eusc-de-east-1)',
    );
    expect(lines[start + 3]).toBe('           found:    us-east-1');
    expect(r.out).toContain('    ok   manifest_hashed');
    expect(r.out).toContain(
      '    n/a  certificate_chain [simpleSignatures[0]]: signed with a pinned key, not a certificate',
    );
    expect(r.out).toContain('    ok   tenant_known');
    const plain = await cli('verify', refs.usSigned, ...base);
    expect(plain.out).not.toContain('checks (failing first)');
  });

  it('the worst image decides for several references', async () => {
    const r = await cli('verify', refs.good, refs.unsigned, ...base);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`IMAGE ${refs.good}`);
    expect(r.out).toContain(`IMAGE ${refs.unsigned}`);
    expect(r.out).toContain('signature_missing');
    expect(r.out).toContain('fix: Sign the image by digest');
  });

  it("the auditor's walkthrough: a Sigstore bundle from the evidence verifies alone", async () => {
    const v = await cli(
      'verify',
      refs.bundled,
      ...base,
      '--evidence',
      'bundled-evidence.json',
    );
    expect(v.code).toBe(0);
    const ev = JSON.parse(
      readFileSync(join(dir, 'bundled-evidence.json'), 'utf8'),
    );
    const material = ev.evidence.record.material[0];
    expect(material.bundles).toHaveLength(1);
    writeFileSync(join(dir, 'att.sigstore.json'), material.bundles[0].bundle);
    const pem = ev.evidence.record.trust.keys.find(
      (k: { id: string }) => k.id === EU_KEY_ID,
    ).publicKeyPem;
    writeFileSync(join(dir, 'recorded-eu.pem'), pem);
    const r = await cli(
      'verify-bundle',
      'att.sigstore.json',
      '--key',
      'recorded-eu.pem',
      '--digest',
      material.digest,
      '--json',
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.signer.fingerprint).toBe(eu.fingerprint);
    expect(doc.statement.predicateType).toBe('https://slsa.dev/provenance/v1');
    // The same bundle does not verify against the US key.
    expect(
      (
        await cli(
          'verify-bundle',
          'att.sigstore.json',
          '--key',
          'us.pub',
          '--digest',
          material.digest,
        )
      ).code,
    ).toBe(1);
  });

  it('--entity-file reads the annotations of a catalog-info.yaml', async () => {
    writeFileSync(
      join(dir, 'catalog-info.yaml'),
      `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: shop\n  annotations:\n    residency.dev/images: ${refs.good}, ${refs.layout}\n    residency.dev/tenant: acme-eu\n`,
    );
    const r = await cli(
      'verify',
      '-c',
      'app-config.yaml',
      '-f',
      'catalog-info.yaml',
      '--json',
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.entityRef).toBe('component:default/shop');
    expect(doc.images.map((i: { reference: string }) => i.reference)).toEqual([
      refs.good,
      refs.layout,
    ]);
  });

  it('an unlisted registry is refused without a request (exit 1, registry_not_allowed)', async () => {
    const r = await cli(
      'verify',
      'registry.us.example.com/acme/good:v1',
      ...base,
      '--json',
    );
    expect(r.code).toBe(1);
    expect(JSON.stringify(JSON.parse(r.out).images[0].reasons)).toContain(
      'registry_not_allowed',
    );
  });

  it('an unreachable registry is unknown (exit 2)', async () => {
    const r = await cli(
      'verify',
      '127.0.0.1:1/acme/good:v1',
      ...base,
      '--json',
    );
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).decision).toBe('unknown');
  });

  describe('evidence written by verify --evidence', () => {
    let bundle: any;
    beforeAll(async () => {
      const r = await cli(
        'verify',
        refs.good,
        ...base,
        '--evidence',
        'evidence.json',
      );
      if (r.code !== 0) throw new Error(`verify --evidence failed: ${r.err}`);
      bundle = JSON.parse(readFileSync(join(dir, 'evidence.json'), 'utf8'));
    });

    it('is an evidence bundle with the first record of a chain', () => {
      expect(bundle.schema).toBe('https://residency.dev/evidence-bundle/v1');
      expect(bundle.evidence.previousHash).toBeNull();
      expect(bundle.evidence.recordHash).toMatch(/^[0-9a-f]{64}$/);
      expect(bundle.evidence.record.material[0].simpleSignatures).toHaveLength(
        1,
      );
      expect(
        bundle.evidence.record.trust.keys.map((k: { id: string }) => k.id),
      ).toContain(EU_KEY_ID);
    });

    it('re-verifies offline (exit 0), also against the configuration', async () => {
      const human = await cli('verify-evidence', 'evidence.json');
      expect(human.code).toBe(0);
      expect(human.out).toContain(
        `eusc-de-east-1   ${eu.fingerprint}  ${EU_KEY_ID}`,
      );
      expect(human.out).toContain(
        `compliant     ${refs.goodDigest.split('@')[1]}  ${refs.good}`,
      );
      const r = await cli(
        'verify-evidence',
        'evidence.json',
        '-c',
        'app-config.yaml',
        '--require-compliant',
        '--json',
      );
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({
        ok: true,
        configChecked: true,
        recordedDecision: 'compliant',
      });
    });

    it('--previous checks the chain link between two downloaded bundles', async () => {
      // A second record of the same entity, chained by the engine as the backend does.
      const second = await cli(
        'verify',
        refs.good,
        ...base,
        '--evidence',
        'second.json',
      );
      expect(second.code).toBe(0);
      const record2 = JSON.parse(readFileSync(join(dir, 'second.json'), 'utf8'))
        .evidence.record;
      const chained = chainRecord(record2, bundle.evidence);
      writeFileSync(
        join(dir, 'next.json'),
        JSON.stringify({
          schema: bundle.schema,
          evidence: chained,
          previous: {
            id: bundle.evidence.id,
            sequence: bundle.evidence.sequence,
            recordHash: bundle.evidence.recordHash,
          },
          exportedAt: new Date().toISOString(),
        }),
      );
      const ok = await cli(
        'verify-evidence',
        'next.json',
        '--previous',
        'evidence.json',
        '--json',
      );
      expect(ok.code).toBe(0);
      expect(
        JSON.parse(ok.out).checks.find((c: { id: string }) => c.id === 'chain')
          .status,
      ).toBe('pass');
      // Against a record that is not its predecessor (a fork or a substituted history).
      const broken = await cli(
        'verify-evidence',
        'next.json',
        '--previous',
        'second.json',
        '--json',
      );
      expect(broken.code).toBe(1);
      expect(JSON.parse(broken.out).problems).toContainEqual(
        expect.objectContaining({
          path: '$.evidence.previousHash',
          code: 'chain_broken',
          check: 'chain',
        }),
      );
    });

    it('fails (exit 1) when the key is no longer configured the same way', async () => {
      writeFileSync(join(dir, 'rotated.pub'), generateKey().publicKeyPem);
      writeFileSync(
        join(dir, 'rotated.yaml'),
        readFileSync(join(dir, 'app-config.yaml'), 'utf8').replace(
          'publicKeyFile: eu.pub',
          'publicKeyFile: rotated.pub',
        ),
      );
      const r = await cli(
        'verify-evidence',
        'evidence.json',
        '-c',
        'rotated.yaml',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(
        JSON.parse(r.out).problems.some((p: { path: string }) =>
          p.path.startsWith('$.evidence.record.trust.keys'),
        ),
      ).toBe(true);
    });

    /** Every scalar leaf of the bundle, as a JSON path and a setter. */
    function leaves(value: any, path = '$'): string[] {
      if (Array.isArray(value))
        return value.flatMap((v, i) => leaves(v, `${path}[${i}]`));
      if (value !== null && typeof value === 'object') {
        return Object.keys(value).flatMap(k =>
          leaves(value[k], `${path}.${k}`),
        );
      }
      return [path];
    }

    /** Changes one character in the middle of a string to another of the same kind. */
    function flipMiddle(v: string): string {
      if (v.length === 0) return 'x';
      const i = Math.floor(v.length / 2);
      const c = v[i];
      let d = 'a';
      if (/[0-9]/.test(c)) d = c === '0' ? '1' : '0';
      else if (/[a-z]/.test(c)) d = c === 'a' ? 'b' : 'a';
      else if (/[A-Z]/.test(c)) d = c === 'A' ? 'B' : 'A';
      return v.slice(0, i) + d + v.slice(i + 1);
    }

    function alter(doc: any, path: string, mode: 'append' | 'middle'): any {
      const copy = structuredClone(doc);
      const parts = path
        .slice(2)
        .split(/\.|(?=\[)/)
        .map(p => (p.startsWith('[') ? Number(p.slice(1, -1)) : p));
      let cur = copy;
      for (const p of parts.slice(0, -1)) cur = cur[p];
      const last = parts[parts.length - 1];
      const v = cur[last];
      if (typeof v === 'number') cur[last] = v + 1;
      else if (typeof v === 'boolean') cur[last] = !v;
      else if (v === null) cur[last] = 'x'.repeat(64);
      else cur[last] = mode === 'append' ? `${v}x` : flipMiddle(String(v));
      return copy;
    }

    /**
     * The most precise statement possible about an altered field: its own path (or an
     * ancestor), or else the hash that anchors it (a hash cannot say which covered byte
     * changed): the policy and trust snapshots are anchored by result.policyHash /
     * result.trustHash, everything else in the record by evidence.recordHash.
     */
    function named(path: string, problems: { path: string }[]): boolean {
      const at = (p: string) => problems.some(x => x.path === p);
      if (
        problems.some(
          x =>
            path === x.path ||
            path.startsWith(`${x.path}.`) ||
            path.startsWith(`${x.path}[`),
        )
      ) {
        return true;
      }
      if (path.startsWith('$.evidence.record.policy'))
        return at('$.evidence.record.result.policyHash');
      if (path.startsWith('$.evidence.record.trust'))
        return at('$.evidence.record.result.trustHash');
      return at('$.evidence.recordHash');
    }

    it('altered in any field: does not verify (exit 1) and names the field or its anchoring hash', async () => {
      // Outside the hashed record by design: the download's exportedAt/exportedBy and the
      // storage id of the record.
      const paths = leaves(bundle).filter(
        p => !/^\$\.(exportedAt|exportedBy|evidence\.id)$/.test(p),
      );
      expect(paths.length).toBeGreaterThan(30);
      const failures: string[] = [];
      for (const [path, mode] of paths.flatMap(
        p =>
          [
            [p, 'append'],
            [p, 'middle'],
          ] as const,
      )) {
        writeFileSync(
          join(dir, 'altered.json'),
          JSON.stringify(alter(bundle, path, mode)),
        );
        const r = await cli('verify-evidence', 'altered.json', '--json');
        if (r.code !== 1) {
          failures.push(`${path} (${mode}): exit ${r.code}`);
          continue;
        }
        const problems: { path: string }[] = JSON.parse(r.out).problems;
        if (!named(path, problems))
          failures.push(
            `${path} (${mode}): ${problems.map(p => p.path).join(', ')}`,
          );
      }
      expect(failures).toEqual([]);
    });

    it('hostile structure (types swapped, keys removed, deep nesting): a typed answer, never a crash or a pass', async () => {
      let seed = 42;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      const nodes = (
        v: any,
        path: (string | number)[] = [],
      ): (string | number)[][] => {
        if (v === null || typeof v !== 'object') return [path];
        const keys = Array.isArray(v) ? v.map((_x, i) => i) : Object.keys(v);
        return [path, ...keys.flatMap(k => nodes(v[k], [...path, k]))];
      };
      const DEEP = '__deeply_nested__';
      const replacements = [
        null,
        0,
        -1,
        1e308,
        '',
        'x'.repeat(100_000),
        [],
        {},
        true,
        DEEP,
        { $ref: '#' },
      ];
      // exportedAt/exportedBy describe the download, outside the hashed evidence:
      // verify-evidence ignores them, so altering them is not an attack to catch.
      const all = nodes(bundle).filter(
        p => p.length > 0 && p[0] !== 'exportedAt' && p[0] !== 'exportedBy',
      );
      for (let i = 0; i < 150; i++) {
        const doc = structuredClone(bundle);
        const path = all[rand(all.length)];
        let cur = doc;
        for (const k of path.slice(0, -1)) cur = cur[k];
        const last = path[path.length - 1];
        if (rand(4) === 0 && !Array.isArray(cur)) delete cur[last];
        else cur[last] = replacements[rand(replacements.length)];
        writeFileSync(
          join(dir, 'hostile.json'),
          JSON.stringify(doc).replace(
            `"${DEEP}"`,
            `${'['.repeat(5000)}"x"${']'.repeat(5000)}`,
          ),
        );
        const r = await cli('verify-evidence', 'hostile.json', '--json');
        const label = `${path.join('.')} #${i}`;
        expect({ label, ok: [1, 2, 3].includes(r.code) }).toEqual({
          label,
          ok: true,
        });
        expect(r.out).not.toContain('internal_error');
      }
    });

    it('a forged record with a recomputed hash is still caught by the field itself', async () => {
      // An attacker who rewrites a decision and recomputes recordHash: the decision is
      // recomputed from the signed material, so the field is named.
      const forged = structuredClone(bundle);
      forged.evidence.record.result.images[0].digest = `sha256:${'0'.repeat(
        64,
      )}`;
      forged.evidence.recordHash = recordHashOf(
        forged.evidence.sequence,
        null,
        forged.evidence.record,
      );
      writeFileSync(join(dir, 'forged.json'), JSON.stringify(forged));
      const r = await cli('verify-evidence', 'forged.json', '--json');
      expect(r.code).toBe(1);
      const paths = JSON.parse(r.out).problems.map(
        (p: { path: string }) => p.path,
      );
      expect(paths).not.toContain('$.evidence.recordHash');
      expect(paths).toContain('$.evidence.record.result.images[0].digest');
    });
  });

  it('as a child process: a stalled registry and --timeout exit 2 promptly', async () => {
    const sockets: Socket[] = [];
    const server = createServer(s => sockets.push(s)); // accepts, never answers
    await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    writeFileSync(
      join(dir, 'stalled.yaml'),
      `residency:\n  boundaries: { eu: [eusc-de-east-1] }\n  registries: [{ host: "127.0.0.1:${port}", region: eusc-de-east-1, insecure: true }]\n  tenants: { t: { boundary: eu } }\n`,
    );
    const bin = resolve(__dirname, '..', 'bin', 'residency');
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [
        bin,
        'verify',
        `127.0.0.1:${port}/acme/app:1`,
        '-c',
        'stalled.yaml',
        '-t',
        't',
        '--timeout',
        '2',
      ],
      { cwd: dir },
    );
    let err = '';
    child.stderr.on('data', d => (err += d));
    const code = await new Promise<number | null>(r =>
      child.on('exit', c => r(c)),
    );
    sockets.forEach(s => s.destroy());
    server.close();
    expect(code).toBe(2);
    expect(err).toContain('the --timeout of 2 s passed');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('issue 12 item 6: --timeout ends a run whose event loop is blocked (exit 2, could not decide)', async () => {
    // The run blocks its event loop 200 ms after start, whatever it is doing then:
    // no in-process timer can fire any more; only the supervisor can keep the deadline.
    writeFileSync(
      join(dir, 'block-loop.js'),
      "if (process.env.RESIDENCY_SUPERVISED === '1') setTimeout(() => { for (;;) {} }, 200);\n",
    );
    writeFileSync(
      join(dir, 'blocked.yaml'),
      'residency:\n  boundaries: { eu: [eusc-de-east-1] }\n  registries: [{ host: "127.0.0.1:9", region: eusc-de-east-1, insecure: true }]\n  tenants: { t: { boundary: eu } }\n',
    );
    const bin = resolve(__dirname, '..', 'bin', 'residency');
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [
        '--require',
        join(dir, 'block-loop.js'),
        bin,
        'verify',
        '127.0.0.1:9/acme/app:1',
        '-c',
        'blocked.yaml',
        '-t',
        't',
        '--timeout',
        '1',
      ],
      { cwd: dir },
    );
    let err = '';
    child.stderr.on('data', d => (err += d));
    const code = await new Promise<number | null>(r =>
      child.on('exit', c => r(c)),
    );
    expect(code).toBe(2);
    expect(err).toContain('could not decide: the --timeout of 1 s passed');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('as a child process: real exit codes for resident and not resident', () => {
    const bin = resolve(__dirname, '..', 'bin', 'residency');
    const go = (ref: string) =>
      spawnSync(process.execPath, [bin, 'verify', ref, ...base], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 60_000,
      });
    const ok = go(refs.good);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('RESULT: RESIDENT (compliant)');
    const bad = go(refs.usSigned);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('key_outside_boundary');
  });
});
