/*
 * Child process of the hostile-memory measurement (run with --expose-gc): a fresh
 * process so that its RSS high-water mark is not polluted by the publishing (which
 * holds the 64 MiB blob in memory) or by the 200-image run. It warms up on a normal
 * image, records its RSS, evaluates each hostile image while sampling RSS, and prints
 * one JSON line with the outcomes and RSS growths.
 */
'use strict';

const { readFileSync } = require('node:fs');
const { engine, settingsOf, TENANT, now, watchRss } = require('./lib');

async function main() {
  const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const settings = settingsOf(input.config);
  const e = engine.DefaultResidencyEngine.create({ settings });
  const evalOne = ref =>
    e.evaluateEntity({
      entityRef: 'component:default/hostile',
      images: [ref],
      tenant: TENANT,
    });

  // Warm up: module code, JIT, keep-alive pool, a normal discovery.
  for (let i = 0; i < 3; i++) await evalOne(input.warmReference);
  const out = [];
  for (const reference of input.references) {
    global.gc?.();
    await new Promise(r => setTimeout(r, 50));
    global.gc?.();
    const rss = watchRss(2);
    const t0 = now();
    const { result, record } = await evalOne(reference);
    const ms = now() - t0;
    const peak = rss.stop();
    out.push({
      reference,
      ms,
      decision: result.decision,
      reasons: result.images[0]?.reasons?.map(r => r.code) ?? [],
      error: record.material[0]?.error ?? null,
      growth: peak - rss.baseRss,
    });
  }
  await e.close();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch(err => {
  process.stderr.write(`hostile-child: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
});
