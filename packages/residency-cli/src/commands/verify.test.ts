import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../cli';
import { memoryIo } from '../io';
import { DIGEST, fakeEngine } from '../__testUtils__/fakeEngine';

const IMAGE = `registry.eu.example.com/app@${DIGEST}`;

describe('residency verify (command layer, engine faked)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'residency-verify-'));
    writeFileSync(join(dir, 'app-config.yaml'), 'residency:\n  tenants: {}\n');
    writeFileSync(
      join(dir, 'catalog-info.yaml'),
      `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: shop-api
  namespace: payments
  annotations:
    residency.dev/images: |
      ${IMAGE}
      registry.eu.example.com/sidecar:2
    residency.dev/tenant: acme-eu
    residency.dev/region: eusc-de-east-1
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: no-tenant
  annotations:
    residency.dev/images: registry.eu.example.com/x:1
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: shop
`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(engine: ReturnType<typeof fakeEngine>, ...args: string[]) {
    const io = memoryIo({
      cwd: dir,
      now: new Date('2026-11-23T20:01:00.000Z'),
    });
    const code = await run(['verify', ...args], { io, engine });
    return { code, out: io.out, err: io.err };
  }

  it.each([
    ['compliant', 0],
    ['non_compliant', 1],
    ['invalid', 1],
    ['unknown', 2],
  ] as const)('decision %s exits %d', async (decision, exitCode) => {
    const engine = fakeEngine({ decision });
    const r = await cli(
      engine,
      IMAGE,
      '--config',
      'app-config.yaml',
      '--tenant',
      'acme-eu',
    );
    expect(r.code).toBe(exitCode);
    const words = {
      compliant: 'RESIDENT',
      unknown: 'UNKNOWN',
      non_compliant: 'NOT RESIDENT',
      invalid: 'NOT RESIDENT',
    };
    expect(r.out).toContain(`RESULT: ${words[decision]} (`);
  });

  it('prints a block per image with digest, key, region, reasons and advice', async () => {
    const r = await cli(
      fakeEngine({ decision: 'non_compliant' }),
      IMAGE,
      '-c',
      'app-config.yaml',
      '-t',
      'acme-eu',
    );
    expect(r.out).toContain(`IMAGE ${IMAGE}`);
    expect(r.out).toContain(DIGEST);
    expect(r.out).toContain(
      'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/0c7a (region eusc-de-east-1',
    );
    expect(r.out).toContain(
      'attestation_missing:provenance: No provenance attestation.',
    );
    expect(r.out).toContain(
      'fix: Attach a signed provenance attestation, e.g. cosign attest --key <kms-uri> --type slsaprovenance',
    );
    // Unsigned claims are shown as such, and terminal escapes from a registry are neutralised.
    expect(r.out).toContain('(unsigned; never decides)');
    expect(r.out).not.toContain('\u001b');
  });

  it('passes every reference, split like the catalog annotation, with tenant and region', async () => {
    const engine = fakeEngine();
    await cli(
      engine,
      `${IMAGE},oci:/tmp/layout:v1`,
      'registry.eu.example.com/b:1',
      '-c',
      'app-config.yaml',
      '-t',
      'acme-eu',
      '--region',
      'eusc-de-east-1',
    );
    expect(engine.calls.evaluate).toEqual([
      {
        entityRef: 'component:default/residency-cli',
        images: [IMAGE, 'oci:/tmp/layout:v1', 'registry.eu.example.com/b:1'],
        tenant: 'acme-eu',
        declaredRegion: 'eusc-de-east-1',
      },
    ]);
  });

  it('--entity-file takes images, tenant, region and the entity ref from the annotations', async () => {
    const engine = fakeEngine();
    const r = await cli(
      engine,
      '-c',
      'app-config.yaml',
      '-f',
      'catalog-info.yaml',
      '--entity',
      'Component:payments/shop-api',
    );
    expect(r.code).toBe(0);
    expect(engine.calls.evaluate).toEqual([
      {
        entityRef: 'component:payments/shop-api',
        images: [IMAGE, 'registry.eu.example.com/sidecar:2'],
        tenant: 'acme-eu',
        declaredRegion: 'eusc-de-east-1',
      },
    ]);
  });

  it('flags override annotations and arguments add images', async () => {
    const engine = fakeEngine();
    await cli(
      engine,
      'registry.eu.example.com/extra:3',
      '-c',
      'app-config.yaml',
      '-f',
      'catalog-info.yaml',
      '--entity',
      'component:default/no-tenant',
      '-t',
      'acme-eu',
      '-r',
      'eu-west-1',
    );
    expect(engine.calls.evaluate[0]).toEqual({
      entityRef: 'component:default/no-tenant',
      images: [
        'registry.eu.example.com/x:1',
        'registry.eu.example.com/extra:3',
      ],
      tenant: 'acme-eu',
      declaredRegion: 'eu-west-1',
    });
  });

  it('--json prints exactly the EntityResult document', async () => {
    const r = await cli(
      fakeEngine({ decision: 'non_compliant' }),
      IMAGE,
      '-c',
      'app-config.yaml',
      '-t',
      'acme-eu',
      '--json',
    );
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out);
    expect(doc.decision).toBe('non_compliant');
    expect(doc.images[0].digest).toBe(DIGEST);
    expect(Object.keys(doc).sort()).toEqual(
      [
        'boundary',
        'checkedAt',
        'decision',
        'engineVersion',
        'entityRef',
        'images',
        'policyHash',
        'reasons',
        'tenant',
        'trustHash',
      ].sort(),
    );
  });

  it('--evidence writes a chained evidence bundle', async () => {
    const r = await cli(
      fakeEngine(),
      IMAGE,
      '-c',
      'app-config.yaml',
      '-t',
      'acme-eu',
      '--evidence',
      'out/../evidence.json',
    );
    expect(r.code).toBe(0);
    const bundle = JSON.parse(readFileSync(join(dir, 'evidence.json'), 'utf8'));
    expect(bundle).toMatchObject({
      schema: 'https://residency.dev/evidence-bundle/v1',
      exportedAt: '2026-11-23T20:01:00.000Z',
      exportedBy: 'residency-cli',
      evidence: {
        previousHash: null,
        record: { entityRef: 'component:default/residency-cli' },
      },
    });
    expect(r.err).toContain('evidence bundle written to');
  });

  it('an unwritable --evidence path is a usage error', async () => {
    const r = await cli(
      fakeEngine(),
      IMAGE,
      '-c',
      'app-config.yaml',
      '-t',
      'acme-eu',
      '--evidence',
      'no/such/dir/e.json',
    );
    expect(r.code).toBe(3);
    expect(r.err).toContain('cannot write the evidence bundle');
  });

  it('an unknown tenant exits 3 and lists the defined tenants, without verifying', async () => {
    const engine = fakeEngine();
    const r = await cli(engine, IMAGE, '-c', 'app-config.yaml', '-t', 'nobody');
    expect(r.code).toBe(3);
    expect(r.err).toContain("tenant 'nobody' is not defined");
    expect(r.err).toContain('Use one of: acme-eu.');
    expect(engine.calls.evaluate).toHaveLength(0);
  });

  it('a configuration the engine rejects exits 3 with its code and entry, no stack', async () => {
    const err = Object.assign(
      new Error('residency.keys[0] (x): region is required'),
      { code: 'key_region_unpinned' },
    );
    const r = await cli(
      fakeEngine({ loadError: err }),
      IMAGE,
      '-c',
      'app-config.yaml',
      '-t',
      'acme-eu',
      '--json',
    );
    expect(r.code).toBe(3);
    expect(JSON.parse(r.out).error).toMatchObject({
      code: 'key_region_unpinned',
    });
    expect(r.err).toContain('residency.keys[0] (x): region is required');
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('--timeout aborts the engine and is "could not decide" (exit 2)', async () => {
    const engine = fakeEngine();
    engine.createEngine = settings => ({
      settings,
      trustHash: () => '',
      policyHash: () => '',
      // An engine that ignores the signal: the deadline must hold anyway.
      evaluateEntity: () => new Promise(() => {}),
    });
    const r = await cli(
      engine,
      IMAGE,
      '-c',
      'app-config.yaml',
      '-t',
      'acme-eu',
      '--timeout',
      '0.05',
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain('the --timeout of 0.05 s passed');
  });

  it('a bad --timeout is a usage error', async () => {
    const r = await cli(
      fakeEngine(),
      IMAGE,
      '-c',
      'app-config.yaml',
      '-t',
      'acme-eu',
      '--timeout',
      'soon',
    );
    expect(r.code).toBe(3);
    expect(r.err).toContain('give a number of seconds');
  });

  it('an engine fault is "could not decide" (exit 2), never a pass', async () => {
    const r = await cli(
      fakeEngine({ evaluateError: new Error('socket hang up') }),
      IMAGE,
      '-c',
      'app-config.yaml',
      '-t',
      'acme-eu',
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain('socket hang up');
  });

  it.each([
    [['-c', 'app-config.yaml', '-t', 'acme-eu'], 'no image reference given'],
    [
      [IMAGE, '-t', 'acme-eu'],
      "required option '-c, --config <file>' not specified",
    ],
    [[IMAGE, '-c', 'app-config.yaml'], 'no tenant given'],
    [
      ['-c', 'app-config.yaml', '-f', 'missing-catalog.yaml'],
      'cannot read entity file',
    ],
    [
      ['-c', 'app-config.yaml', '-f', 'catalog-info.yaml'],
      'has 2 entities with residency.dev/images',
    ],
    [
      [
        '-c',
        'app-config.yaml',
        '-f',
        'catalog-info.yaml',
        '--entity',
        'component:default/nope',
      ],
      'has no entity component:default/nope',
    ],
    [
      [
        '-c',
        'app-config.yaml',
        '-f',
        'catalog-info.yaml',
        '--entity',
        'component:default/no-tenant',
      ],
      'no tenant given',
    ],
    [[IMAGE, '-c', 'missing.yaml', '-t', 'acme-eu'], 'cannot read config file'],
    [
      [IMAGE, '-c', 'app-config.yaml', '-t', 'acme-eu', '--colour'],
      "unknown option '--colour'",
    ],
  ])('usage error %j exits 3', async (args, message) => {
    const r = await cli(fakeEngine(), ...(args as string[]));
    expect(r.code).toBe(3);
    expect(r.err).toContain(message);
  });
});
