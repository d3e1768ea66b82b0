/*
 * Issue 14 probe: section 7 alone, then again with retained ballast on the heap
 * (BENCH_VT_BALLAST MiB of small objects), to tell a bigger heap from other causes.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const os = require('node:os');
const { join } = require('node:path');
const { readFileSync, existsSync } = require('node:fs');
const { EU_REGION, residencyConfig, settingsOf } = require('./lib');
const { verificationThroughput } = require('./backend');

const file =
  process.env.BENCH_VT_MATERIAL || join(os.tmpdir(), 'vt-probe.json');
if (!existsSync(file)) {
  spawnSync(
    process.execPath,
    ['--expose-gc', join(__dirname, 'verification.js')],
    {
      env: { ...process.env, BENCH_VT_MATERIAL: file, BENCH_VT_REPEAT: '1' },
      stdio: 'ignore',
    },
  );
}
const m = JSON.parse(readFileSync(file, 'utf8'));
const settings = settingsOf(
  residencyConfig({
    publicKeyPem: m.publicKeyPem,
    layouts: [{ path: m.layout, region: EU_REGION }],
    imagesPerEntity: m.refs.length,
  }),
);
const run = label => {
  global.gc?.();
  const r = verificationThroughput(
    settings,
    m.material,
    m.refs,
    m.publicKeyPem,
  );
  process.stderr.write(
    `${label}: engine ${r.engineCpuMs.toFixed(1)} floor ${r.floorCpuMs.toFixed(
      1,
    )} ratio ${r.ratio.toFixed(2)} heap ${(
      process.memoryUsage().heapUsed /
      2 ** 20
    ).toFixed(1)} MiB\n`,
  );
};
run('alone');
run('alone again');
const mib = Number(process.env.BENCH_VT_BALLAST) || 100;
const ballast = [];
const base = process.memoryUsage().heapUsed;
while (process.memoryUsage().heapUsed < base + mib * 2 ** 20) {
  for (let i = 0; i < 10000; i++) ballast.push({ a: i, b: `s${i}`, c: [i] });
}
run(`ballast ${mib} MiB`);
run(`ballast ${mib} MiB again`);
ballast.length = 0;
run('ballast dropped');
