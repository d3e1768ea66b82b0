/*
 * Section 6 alone (target 1 of issue 14): N signed images published into a real
 * docker-registry, then cold and warm refresh passes through the real refresher and
 * store on PostgreSQL, repeated BENCH_REFRESH_ROUNDS times (default 1). With
 * BENCH_REFRESH_OLD=<dir> (the `src` directory of an older residency-backend, e.g. a
 * `git archive` copy placed under plugins/residency-backend/ so that its imports
 * resolve), the rounds alternate between that code and this checkout's, over the
 * same registry, so both are measured in the same period on a shared machine.
 * Prints JSON (BENCH_JSON keeps it); BENCH_REFRESH_PROF=<dir> writes a CPU profile
 * of every pass.
 *
 *   node --expose-gc bench/refresh.js
 *   BENCH_REFRESH_ROUNDS=3 BENCH_REFRESH_OLD=plugins/residency-backend/.old-src node --expose-gc bench/refresh.js
 */
'use strict';

const { writeFileSync } = require('node:fs');
const os = require('node:os');
const { resolve } = require('node:path');
const { kit, EU_REGION, residencyConfig, settingsOf } = require('./lib');
const { refreshPasses } = require('./backend');
const pMap = require('p-map');

const N = Math.max(10, Number(process.env.BENCH_N) || 200);
const ROUNDS = Math.max(1, Number(process.env.BENCH_REFRESH_ROUNDS) || 1);
const WARM = Math.max(2, Number(process.env.BENCH_REFRESH_WARM) || 3);
const log = m => process.stderr.write(`[bench refresh] ${m}\n`);

/** Per-entity CPU of a pass: this process, the registry, PostgreSQL, all. */
function perEntity(pass, n) {
  const r = x => Number((x / n).toFixed(3));
  return {
    wallMs: Number(pass.ms.toFixed(1)),
    bench: r(pass.cpuMs),
    registry: r(pass.registryCpuMs),
    postgres: r(pass.postgresCpuMs),
    all: r(pass.allCpuMs),
    statements: r(pass.statements),
    signals: pass.signals,
    walBytes: r(pass.walBytes),
  };
}

async function main() {
  const registry = await kit.startTestRegistry();
  try {
    const key = kit.generateKey('ecdsa-p256');
    log(`publishing ${N} images into ${registry.host}`);
    const refs = await pMap(
      Array.from({ length: N }, (_, i) => i),
      async i =>
        (
          await kit.publishSignedImage({
            target: { registry: registry.url },
            repository: `bench/svc-${i}`,
            tag: 'v1',
            key,
            attestations: [
              kit.slsaProvenanceV1({ invocationId: `build-${i}` }),
              kit.cycloneDxSbom({ name: `svc-${i}` }),
            ],
          })
        ).reference.replace(/^https?:\/\//, ''),
      { concurrency: 6 },
    );
    const settings = settingsOf(
      residencyConfig({
        publicKeyPem: key.publicKeyPem,
        registries: [
          { host: registry.host, region: EU_REGION, insecure: true },
        ],
        imagesPerEntity: N,
      }),
    );
    const old = process.env.BENCH_REFRESH_OLD;
    const versions = old
      ? [
          ['old', resolve(old)],
          ['new', undefined],
        ]
      : [['new', undefined]];
    const runs = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, backendSrc] of round % 2
        ? [...versions].reverse()
        : versions) {
        const load = os.loadavg()[0];
        log(`round ${round + 1}, ${name} code (load ${load.toFixed(2)})`);
        const rf = await refreshPasses(settings, refs, {
          backendSrc,
          warmPasses: WARM,
        });
        const warms = rf.warms.map(w => perEntity(w, N));
        const run = {
          round: round + 1,
          code: name,
          load1: load,
          cold: perEntity(rf.cold, N),
          warms,
          perPassStatements: rf.perPass,
          warmStatementsPerEntity: (rf.warm.statements - rf.perPass) / N,
          wallRatio: rf.cold.ms / rf.warm.ms,
          cpuRatioAll: rf.cold.allCpuMs / rf.warm.allCpuMs,
        };
        log(JSON.stringify(run));
        runs.push(run);
      }
    }
    const out = { date: new Date().toISOString(), n: N, runs };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    if (process.env.BENCH_JSON) {
      writeFileSync(process.env.BENCH_JSON, JSON.stringify(out, null, 2));
    }
  } finally {
    await registry.stop?.();
  }
}

main().catch(e => {
  process.stderr.write(`bench refresh: ${e?.stack ?? e}\n`);
  process.exitCode = 2;
});
