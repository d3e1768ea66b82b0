/*
 * Child process of the memory measurement (run with --expose-gc): a fresh process,
 * like a backend that just started, evaluates all images of the registry run in one
 * entity (cold). The parent's RSS is not used because publishing the images with
 * the signing kit inflates it. Prints one JSON line: RSS after loading the modules,
 * peak RSS during the evaluation, and RSS / heap used after it (after GC).
 */
'use strict';

const { readFileSync } = require('node:fs');
const { engine, settingsOf, TENANT, now, watchRss } = require('./lib');

async function main() {
  const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const settings = settingsOf(input.config);
  const e = engine.DefaultResidencyEngine.create({ settings });
  global.gc?.();
  const rss = watchRss(5);
  const t0 = now();
  const { result } = await e.evaluateEntity({
    entityRef: 'component:default/memory',
    images: input.references,
    tenant: TENANT,
  });
  const ms = now() - t0;
  const peak = rss.stop();
  await e.close();
  global.gc?.();
  const m = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({
      ms,
      decision: result.decision,
      baseRss: rss.baseRss,
      peakRss: peak,
      rssAfter: m.rss,
      heapUsedAfter: m.heapUsed,
    })}\n`,
  );
}

main().catch(err => {
  process.stderr.write(`memory-child: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
});
