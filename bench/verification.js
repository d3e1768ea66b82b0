/*
 * Section 7 alone: the engine's decision over N images' material (fresh engine,
 * nothing cached) against a bare parse + verify loop over the same material, by this
 * thread's CPU time. The material is published into an OCI layout by the real signing
 * kit and kept in BENCH_VT_MATERIAL (a JSON file) when set, so that two checkouts can be
 * compared over the same bytes.
 *
 *   node --expose-gc bench/verification.js            # JSON on stdout
 *   BENCH_N=200 BENCH_VT_PROCS=3 BENCH_VT_MATERIAL=/tmp/vt.json node --expose-gc bench/verification.js
 */
'use strict';

const {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');
const {
  engine,
  kit,
  EU_REGION,
  TENANT,
  residencyConfig,
  settingsOf,
} = require('./lib');
const { verificationThroughput } = require('./backend');
const pMap = require('p-map');

const N = Math.max(10, Number(process.env.BENCH_N) || 200);
const REPEAT = Math.max(1, Number(process.env.BENCH_VT_REPEAT) || 3);

async function material(dir) {
  const file = process.env.BENCH_VT_MATERIAL;
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const key = kit.generateKey('ecdsa-p256');
  const layout = process.env.BENCH_VT_MATERIAL
    ? `${process.env.BENCH_VT_MATERIAL}.layout`
    : join(dir, 'layout');
  const refs = await pMap(
    Array.from({ length: N }, (_, i) => i),
    async i =>
      (
        await kit.publishSignedImage({
          target: { layout },
          repository: 'bench/svc',
          tag: `svc-${i}`,
          key,
          attestations: [
            kit.slsaProvenanceV1({ invocationId: `build-${i}` }),
            kit.cycloneDxSbom({ name: `svc-${i}` }),
          ],
        })
      ).reference,
    { concurrency: 2 },
  );
  const settings = settingsOf(
    residencyConfig({
      publicKeyPem: key.publicKeyPem,
      layouts: [{ path: layout, region: EU_REGION }],
      imagesPerEntity: N,
    }),
  );
  const e = engine.DefaultResidencyEngine.create({ settings });
  const { record } = await e.evaluateEntity({
    entityRef: 'component:default/verify',
    images: refs,
    tenant: TENANT,
  });
  const m = {
    publicKeyPem: key.publicKeyPem,
    layout,
    refs,
    material: record.material,
  };
  if (file) writeFileSync(file, JSON.stringify(m));
  return m;
}

async function main() {
  const dir = mkdtempSync(join(os.tmpdir(), 'residency-vt-'));
  try {
    const m = await material(dir);
    const settings = settingsOf(
      residencyConfig({
        publicKeyPem: m.publicKeyPem,
        layouts: [{ path: m.layout, region: EU_REGION }],
        imagesPerEntity: m.refs.length,
      }),
    );
    const runs = [];
    for (let i = 0; i < REPEAT; i++) {
      const load = os.loadavg();
      const r = verificationThroughput(
        settings,
        m.material,
        m.refs,
        m.publicKeyPem,
      );
      delete r.rounds;
      runs.push({ load, ...r });
    }
    process.stdout.write(`${JSON.stringify({ runs }, null, 1)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(e => {
  process.stderr.write(`${e.stack}\n`);
  process.exit(2);
});
