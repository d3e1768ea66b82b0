/*
 * Residency benchmark: throughput, incremental passes, evidence and memory of the
 * real verification engine (plugins/residency-node) over material written by the real
 * signing kit (packages/signing-kit) into an OCI layout and into a real
 * docker-registry on loopback. Prints a table with a target per line and exits 1
 * when a target is missed (targets are ~3x what an idle machine measures; see
 * bench/README.md). Environment: BENCH_N (images, default 200), BENCH_JSON (write the
 * measurements to this file).
 */
'use strict';

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');
const {
  engine,
  source,
  kit,
  common,
  EU_REGION,
  TENANT,
  MiB,
  residencyConfig,
  settingsOf,
  now,
  percentile,
  mb,
} = require('./lib');
const {
  refreshPasses,
  replicaScaling,
  verificationThroughput,
  apiBench,
} = require('./backend');
// The engine's own worker pool (a dependency of residency-node, hoisted).
const pMap = require('p-map');

const N = Math.max(10, Number(process.env.BENCH_N) || 200);
const HOSTILE_SIZE = 64 * MiB;
/** Images whose one-image-per-entity latency is measured (p50/p95). */
const SAMPLE = Math.min(
  N,
  Math.max(10, Number(process.env.BENCH_SAMPLE) || 50),
);
const BLOB_CAP = source.DEFAULT_SOURCE_LIMITS.blobBytes;
/** Status rows behind the API measurement (BENCH_API_N=50000 for the scale run). */
const API_N = Math.max(100, Number(process.env.BENCH_API_N) || 10_000);
/** Seconds per API phase (floor, status, list first/cursor/search/filter). */
const API_SECONDS = Math.max(2, Number(process.env.BENCH_API_SECONDS) || 6);
/** Load average per section: the machine is shared, so every section states it. */
const loads = {};
const noteLoad = section => {
  loads[section] = os.loadavg().map(x => Number(x.toFixed(2)));
};
/** One verify (parse + P-256) as measured in /work/shared/ENVIRONMENT.md. */
const DOC_FLOOR = 0.14;

const rows = [];
/** One table line; `ok` undefined means informational. */
function row(section, metric, value, unit, target, ok) {
  rows.push({ section, metric, value, unit, target: target ?? '', ok });
}
const log = m => process.stderr.write(`[bench] ${m}\n`);
const fmt = v =>
  typeof v === 'number'
    ? Math.abs(v) >= 100
      ? v.toFixed(0)
      : v.toFixed(2)
    : String(v);

/**
 * HTTP requests the engine's undici pools send (diagnostics channel
 * `undici:request:create`), by kind of path: what the registry is asked per image.
 */
const httpRequests = { on: false, byKind: {}, total: 0 };
require('node:diagnostics_channel').subscribe(
  'undici:request:create',
  ({ request }) => {
    if (!httpRequests.on) return;
    const path = String(request.path);
    const kind = path.includes('/referrers/')
      ? 'referrers API'
      : /\/manifests\/sha256-[0-9a-f]{64}\.(sig|att)$/.test(path)
      ? 'cosign .sig/.att tags'
      : /\/manifests\/sha256-[0-9a-f]{64}$/.test(path)
      ? 'referrers tag schema'
      : path.includes('/manifests/')
      ? 'manifests'
      : path.includes('/blobs/')
      ? 'blobs'
      : 'other';
    httpRequests.byKind[kind] = (httpRequests.byKind[kind] ?? 0) + 1;
    httpRequests.total++;
  },
);
function countRequests() {
  httpRequests.byKind = {};
  httpRequests.total = 0;
  httpRequests.on = true;
  return () => {
    httpRequests.on = false;
    return { total: httpRequests.total, byKind: { ...httpRequests.byKind } };
  };
}

/** A source that forwards to the real one and records when the fetching ended. */
function instrumented(real) {
  const stats = { resolves: 0, discovers: 0, lastFetchEnd: 0 };
  return {
    stats,
    source: {
      async resolve(ref, signal) {
        stats.resolves++;
        const r = await real.resolve(ref, signal);
        stats.lastFetchEnd = Math.max(stats.lastFetchEnd, now());
        return r;
      },
      async discover(image, signal) {
        stats.discovers++;
        const d = await real.discover(image, signal);
        stats.lastFetchEnd = Math.max(stats.lastFetchEnd, now());
        return d;
      },
    },
    reset() {
      stats.resolves = 0;
      stats.discovers = 0;
      stats.lastFetchEnd = 0;
    },
  };
}

function makeEngine(settings) {
  const real = source.createArtifactSource({
    registries: settings.registries,
    limits: { concurrencyPerRegistry: settings.limits.concurrencyPerRegistry },
    layoutRoots: (settings.layouts ?? []).map(l => l.path),
  });
  const inst = instrumented(real);
  const e = engine.DefaultResidencyEngine.create({
    settings,
    source: inst.source,
  });
  return { e, inst, close: () => real.close() };
}

/** P-256 verify of a cosign-sized payload: the CPU floor of one signature check. */
function p256Floor() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', {
    namedCurve: 'P-256',
  });
  const payload = Buffer.alloc(300, 'x');
  const sig = crypto.sign('sha256', payload, privateKey);
  for (let i = 0; i < 200; i++)
    crypto.verify('sha256', payload, publicKey, sig);
  const n = 2000;
  const t0 = now();
  for (let i = 0; i < n; i++) crypto.verify('sha256', payload, publicKey, sig);
  return (now() - t0) / n;
}

function cpuMs(start) {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

async function publishAll(target, refOf, n = N) {
  const key = publishAll.key;
  const t0 = now();
  const published = await pMap(
    Array.from({ length: n }, (_, i) => i),
    async i => {
      const repository = target.layout ? 'bench/svc' : `bench/svc-${i}`;
      const tag = target.layout ? `svc-${i}` : 'v1';
      const p = await kit.publishSignedImage({
        target,
        repository,
        tag,
        key,
        attestations: [
          kit.slsaProvenanceV1({ invocationId: `build-${i}` }),
          kit.cycloneDxSbom({ name: `svc-${i}` }),
        ],
      });
      return refOf(p.reference);
    },
    { concurrency: target.layout ? 2 : 6 },
  );
  return { refs: published, ms: now() - t0 };
}

/** Section 1/2: cold evaluation of all images in one entity, then one by one. */
async function throughput(label, settings, refs, floorPerImage) {
  const { e, inst, close } = makeEngine(settings);
  const stopCounting = countRequests();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const { result, record } = await e.evaluateEntity({
    entityRef: `component:default/bench-${label}`,
    images: refs,
    tenant: TENANT,
  });
  const total = now() - t0;
  const cpu = cpuMs(cpu0);
  const requests = stopCounting();
  const decide = now() - inst.stats.lastFetchEnd;
  const bad = result.images.filter(i => i.decision !== 'compliant');
  if (bad.length > 0) {
    throw new Error(
      `${label}: ${bad.length} images not compliant, e.g. ${JSON.stringify(
        bad[0].reasons,
      )}`,
    );
  }
  // Per-image latency: single-image entities evaluated one after the other.
  const per = [];
  const step = refs.length / SAMPLE;
  for (let k = 0; k < SAMPLE; k++) {
    const ref = refs[Math.floor(k * step)];
    const t = now();
    const r = await e.evaluateEntity({
      entityRef: `component:default/one`,
      images: [ref],
      tenant: TENANT,
    });
    per.push(now() - t);
    if (r.result.decision !== 'compliant')
      throw new Error(`${label}: ${ref} not compliant`);
  }
  await close();
  return { total, cpu, decide, per, result, record, floorPerImage, requests };
}

/** Cold evaluation of all images in one entity, nothing else (scaling check). */
async function coldOnly(settings, refs) {
  const { e, close } = makeEngine(settings);
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const { result } = await e.evaluateEntity({
    entityRef: 'component:default/scale',
    images: refs,
    tenant: TENANT,
  });
  const total = now() - t0;
  const cpu = cpuMs(cpu0);
  await close();
  if (result.decision !== 'compliant')
    throw new Error(`scaling run: ${result.decision}`);
  return { total, cpu };
}

/** Section 3: incremental pass, previous results reused by digest. */
async function incremental(label, settings, refs, previous) {
  const byDigest = new Map();
  previous.result.images.forEach((img, i) => {
    byDigest.set(img.digest, {
      image: img,
      material: previous.record.material[i],
    });
  });
  const { e, inst, close } = makeEngine(settings);
  const reuse = async digest => byDigest.get(digest);
  // One untimed pass to warm the pool; then the timed one.
  await e.evaluateEntity({
    entityRef: 'component:default/warm',
    images: refs.slice(0, 8),
    tenant: TENANT,
    reuse,
  });
  inst.reset();
  const t0 = now();
  const { result } = await e.evaluateEntity({
    entityRef: `component:default/bench-${label}`,
    images: refs,
    tenant: TENANT,
    reuse,
  });
  const total = now() - t0;
  await close();
  if (result.decision !== 'compliant')
    throw new Error(`${label} incremental: ${result.decision}`);
  if (inst.stats.discovers !== 0)
    throw new Error(
      `${label} incremental: ${inst.stats.discovers} discoveries despite reuse`,
    );
  return { total, resolves: inst.stats.resolves };
}

/** Section 4: evidence records of `per` images: chainRecord + export/import + verifyEvidenceBundle. */
async function evidence(settings, refs, previous, per) {
  const byDigest = new Map();
  previous.result.images.forEach((img, i) => {
    byDigest.set(img.digest, {
      image: img,
      material: previous.record.material[i],
    });
  });
  const { e, close } = makeEngine(settings);
  const reuse = async digest => byDigest.get(digest);
  const records = [];
  for (let i = 0; i < refs.length; i += per) {
    const { record } = await e.evaluateEntity({
      entityRef: 'component:default/evidence',
      images: refs.slice(i, i + per),
      tenant: TENANT,
      reuse,
    });
    records.push(record);
  }
  await close();
  const times = [];
  let prev = null;
  let bytes = 0;
  for (const record of records) {
    const t = now();
    const chained = engine.chainRecord(record, prev);
    const text = JSON.stringify({
      schema: common.EVIDENCE_BUNDLE_SCHEMA,
      evidence: chained,
      ...(prev
        ? { previous: { sequence: prev.sequence, recordHash: prev.recordHash } }
        : {}),
      exportedAt: new Date().toISOString(),
    });
    const v = engine.verifyEvidenceBundle(JSON.parse(text), { settings });
    times.push(now() - t);
    bytes += text.length;
    if (!v.ok)
      throw new Error(
        `evidence does not verify: ${JSON.stringify(v.problems.slice(0, 3))}`,
      );
    prev = chained;
  }
  // The whole N-image record once.
  const t = now();
  const big = engine.chainRecord(previous.record, null);
  const text = JSON.stringify({
    schema: common.EVIDENCE_BUNDLE_SCHEMA,
    evidence: big,
    exportedAt: new Date().toISOString(),
  });
  const v = engine.verifyEvidenceBundle(JSON.parse(text), { settings });
  const bigMs = now() - t;
  if (!v.ok)
    throw new Error(
      `big evidence does not verify: ${JSON.stringify(v.problems.slice(0, 3))}`,
    );
  return {
    times,
    bigMs,
    bigBytes: text.length,
    avgBytes: bytes / records.length,
  };
}

/**
 * Section 5b: a `.sig` whose layer is 64 MiB, pushed into a real registry, twice:
 * declared honestly (64 MiB, over the 16 MiB blob cap: refused before reading) and
 * declared just under the cap while the registry serves all 64 MiB (the client must
 * stop reading at the declared size). Evaluated in a fresh child process.
 */
async function hostile(registry, dir, publicKeyPem, warmReference) {
  const huge = Buffer.alloc(HOSTILE_SIZE, 0x20);
  huge.write('{"critical":', 0);
  const variants = [
    {
      name: `declared ${mb(HOSTILE_SIZE)} MiB (honest)`,
      declared: HOSTILE_SIZE,
    },
    {
      name: `declared cap-1 KiB, ${mb(HOSTILE_SIZE)} MiB served`,
      declared: BLOB_CAP - 1024,
    },
  ];
  const references = [];
  for (const [i, v] of variants.entries()) {
    const repository = `bench/hostile-${i}`;
    const img = await kit.publishSignedImage({
      target: { registry: registry.url },
      repository,
      tag: 'v1',
      signatures: [],
    });
    const layer = kit.blobOf(
      new Uint8Array(huge.buffer, huge.byteOffset, huge.byteLength),
      kit.MEDIA_COSIGN_SIMPLESIGNING,
      {
        annotations: { [kit.ANNOTATION_COSIGN_SIGNATURE]: 'MEUCIQ==' },
      },
    );
    layer.descriptor.size = v.declared;
    const target = kit.openTarget({ registry: registry.url }, repository);
    await kit.appendCosignLayers(target, kit.cosignTag(img.digest, '.sig'), [
      layer,
    ]);
    references.push(img.reference.replace(/^https?:\/\//, ''));
  }
  const cfg = residencyConfig({
    publicKeyPem,
    registries: [{ host: registry.host, region: EU_REGION, insecure: true }],
  });
  const input = join(dir, 'hostile.json');
  writeFileSync(
    input,
    JSON.stringify({ config: cfg, references, warmReference }),
  );
  const results = await runChild('hostile-child.js', input, 60_000);
  return variants.map((v, i) => ({ ...v, ...results[i] }));
}

/**
 * Runs a child bench script and returns its last stdout line as JSON. Asynchronous on
 * purpose: the docker-registry child of this process writes a log line per 404 to a
 * pipe this process drains; blocking in spawnSync would stall the registry.
 */
function runChild(script, input, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', join(__dirname, script), input],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => (stdout += d));
    child.stderr.on('data', d => (stderr = (stderr + d).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`${script} failed (${code ?? signal}): ${stderr}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()));
      } catch (e) {
        reject(
          new Error(`${script}: unreadable output ${stdout.slice(0, 200)}`),
        );
      }
    });
  });
}

/** Section 5a: the registry run again, cold, in a fresh process (see memory-child.js). */
async function memoryChild(dir, settingsConfig, references) {
  const input = join(dir, 'memory.json');
  writeFileSync(input, JSON.stringify({ config: settingsConfig, references }));
  const r = await runChild('memory-child.js', input, 120_000);
  if (r.decision !== 'compliant')
    throw new Error(`memory child: ${r.decision}`);
  return r;
}

/** Peak RSS per phase, sampled every 5 ms (RSS falls slowly, so little is missed). */
function rssSampler() {
  const peaks = {};
  let phase = 'setup';
  const timer = setInterval(() => {
    const r = process.memoryUsage().rss;
    if (!(r <= peaks[phase])) peaks[phase] = r;
  }, 5);
  timer.unref();
  return {
    peaks,
    phase(name) {
      const r = process.memoryUsage().rss;
      if (!(r <= peaks[phase])) peaks[phase] = r;
      phase = name;
    },
    stop() {
      clearInterval(timer);
    },
  };
}

async function main() {
  const started = now();
  const load = os
    .loadavg()
    .map(x => x.toFixed(2))
    .join(' ');
  log(
    `N=${N} images, ${os.cpus().length} CPUs, load average ${load}, node ${
      process.version
    }`,
  );
  const dir = mkdtempSync(join(os.tmpdir(), 'residency-bench-'));
  let registry;
  const out = {
    date: new Date().toISOString(),
    n: N,
    loadavg: os.loadavg(),
    node: process.version,
  };
  try {
    const floor = p256Floor();
    out.p256VerifyMs = floor;
    // Per compliant image: 1 simple signature + 2 DSSE envelopes (provenance, SBOM).
    const floorPerImage = 3 * floor;

    const key = kit.generateKey('ecdsa-p256');
    publishAll.key = key;
    const layout = join(dir, 'layout');
    const small = join(dir, 'layout-small');
    const nSmall = Math.max(10, Math.round(N / 4));
    log('starting docker-registry');
    registry = await kit.startTestRegistry();
    log(
      `publishing ${N} images into an OCI layout (and ${nSmall} into a second one)`,
    );
    const lay = await publishAll({ layout }, r => r);
    const laySmall = await publishAll({ layout: small }, r => r, nSmall);
    log(`  ${lay.ms.toFixed(0)} ms`);
    log(`publishing ${N} images into ${registry.host}`);
    const reg = await publishAll({ registry: registry.url }, r =>
      r.replace(/^https?:\/\//, ''),
    );
    log(`  ${reg.ms.toFixed(0)} ms`);

    const layoutSettings = settingsOf(
      residencyConfig({
        publicKeyPem: key.publicKeyPem,
        layouts: [
          { path: layout, region: EU_REGION },
          { path: small, region: EU_REGION },
        ],
        imagesPerEntity: N,
      }),
    );
    const registryConfig = residencyConfig({
      publicKeyPem: key.publicKeyPem,
      registries: [{ host: registry.host, region: EU_REGION, insecure: true }],
      imagesPerEntity: N,
    });
    const registrySettings = settingsOf(registryConfig);
    const conc = registrySettings.limits.concurrencyPerRegistry;

    // BENCH_VT_PROBE=1: section 7 run again at several points of this process (stderr
    // only), to see which earlier section makes the engine slower in-process (issue 14).
    const probe = async label => {
      if (!process.env.BENCH_VT_PROBE) return;
      if (!probe.material) {
        const { e, close } = makeEngine(registrySettings);
        const { record } = await e.evaluateEntity({
          entityRef: 'component:default/probe',
          images: reg.refs,
          tenant: TENANT,
        });
        await close();
        probe.material = record.material;
      }
      global.gc?.();
      const r = verificationThroughput(
        registrySettings,
        probe.material,
        reg.refs,
        key.publicKeyPem,
      );
      log(
        `  probe ${label}: engine ${r.engineCpuMs.toFixed(
          1,
        )} floor ${r.floorCpuMs.toFixed(1)} ratio ${r.ratio.toFixed(2)} heap ${(
          process.memoryUsage().heapUsed / MiB
        ).toFixed(1)} MiB`,
      );
    };
    await probe('before 1');
    global.gc?.();
    const baseRss = process.memoryUsage().rss;
    const rss = rssSampler();
    noteLoad('1-5 engine');
    log('1. OCI layout, cold');
    rss.phase('layout');
    const L = await throughput(
      'layout',
      layoutSettings,
      lay.refs,
      floorPerImage,
    );
    rss.phase('other');
    const LS = await coldOnly(layoutSettings, laySmall.refs);
    log('2. registry, cold');
    global.gc?.();
    rss.phase('registry');
    const R = await throughput(
      'registry',
      registrySettings,
      reg.refs,
      floorPerImage,
    );
    rss.phase('other');
    global.gc?.();
    const mem = process.memoryUsage();
    const peakRss = Math.max(rss.peaks.layout ?? 0, rss.peaks.registry ?? 0);
    await probe('after 1-2');
    log('3. incremental');
    const LI = await incremental('layout', layoutSettings, lay.refs, L);
    const RI = await incremental('registry', registrySettings, reg.refs, R);
    log('4. evidence');
    const EV = await evidence(registrySettings, reg.refs, R, 5);
    rss.stop();
    await probe('after 3-4');
    const maxRss = process.resourceUsage().maxRSS * 1024;
    log(
      `6. refresh through the refresher and store on PostgreSQL (${N} entities)`,
    );
    noteLoad('6 refresh');
    const RF = await refreshPasses(registrySettings, reg.refs);
    await probe('after 6');
    log('6b. two replicas, a registry process each');
    noteLoad('6b replicas');
    const RS = await replicaScaling(
      () => settingsOf(registryConfig),
      reg.refs,
      registry.host,
      dir,
    );
    await probe('after 6b');
    log('7. verification throughput vs a bare parse + verify loop');
    noteLoad('7 verification');
    const VT = verificationThroughput(
      registrySettings,
      R.record.material,
      reg.refs,
      key.publicKeyPem,
    );
    // The same measurement in a fresh process (see RESULTS.md, run 13): best-of-7
    // rounds of a ~50 ms measure move by +-0.1 between runs on this machine, in this
    // process or alone, so both numbers are shown side by side.
    const vtInput = join(dir, 'vt.json');
    writeFileSync(
      vtInput,
      JSON.stringify({
        config: registryConfig,
        material: R.record.material,
        refs: reg.refs,
        publicKeyPem: key.publicKeyPem,
      }),
    );
    const VTF = await runChild('vt-child.js', vtInput, 120_000);
    log(`8. API through the real backend, ${API_N} entities, 50 clients`);
    noteLoad('8 api');
    const API = await apiBench(dir, API_N, {
      clients: 50,
      seconds: API_SECONDS,
    });
    noteLoad('after 8');
    log(`5. memory: ${N} images in a fresh process`);
    const M = await memoryChild(dir, registryConfig, reg.refs);
    log('5. hostile .sig layers');
    const H = await hostile(registry, dir, key.publicKeyPem, reg.refs[0]);

    // ---------------------------------------------------------------- table
    // Targets: about 3x what this machine measures when lightly loaded (README).
    const T = {
      layoutPerImage: 40,
      layoutP50: 60,
      registryPerImage: 100,
      registryP50: 250,
      registryCpuPerImage: 25,
      incrementalPerImage: 20,
      evidencePerRecord: 40,
      rssMb: 400,
      heapMb: 150,
    };
    const perL = L.total / N;
    const perR = R.total / N;
    row('1 layout', `cold, ${N} images in one entity: total`, L.total, 'ms');
    row(
      '1 layout',
      'cold: ms per image (total / N)',
      perL,
      'ms',
      `< ${T.layoutPerImage}`,
      perL < T.layoutPerImage,
    );
    row(
      '1 layout',
      '  of which decide+verify after the last fetch',
      L.decide / N,
      'ms/img',
    );
    row('1 layout', '  CPU time per image (this process)', L.cpu / N, 'ms/img');
    row(
      '1 layout',
      `  CPU per image, ${nSmall}-image layout instead`,
      LS.cpu / nSmall,
      'ms/img',
    );
    row(
      '1 layout',
      `one image per entity (${SAMPLE} sampled): p50`,
      percentile(L.per, 50),
      'ms',
      `< ${T.layoutP50}`,
      percentile(L.per, 50) < T.layoutP50,
    );
    row(
      '1 layout',
      `one image per entity (${SAMPLE} sampled): p95`,
      percentile(L.per, 95),
      'ms',
    );
    row(
      '2 registry',
      `cold, ${N} images, concurrency/registry ${conc}: total`,
      R.total,
      'ms',
    );
    row(
      '2 registry',
      'cold: ms per image (total / N)',
      perR,
      'ms',
      `< ${T.registryPerImage}`,
      perR < T.registryPerImage,
    );
    row(
      '2 registry',
      '  of which decide+verify after the last fetch',
      R.decide / N,
      'ms/img',
    );
    row(
      '2 registry',
      '  CPU time per image (this process)',
      R.cpu / N,
      'ms/img',
      `< ${T.registryCpuPerImage}`,
      R.cpu / N < T.registryCpuPerImage,
    );
    row(
      '2 registry',
      `one image per entity (${SAMPLE} sampled): p50`,
      percentile(R.per, 50),
      'ms',
      `< ${T.registryP50}`,
      percentile(R.per, 50) < T.registryP50,
    );
    row(
      '2 registry',
      `one image per entity (${SAMPLE} sampled): p95`,
      percentile(R.per, 95),
      'ms',
    );
    const referrersApi = R.requests.byKind['referrers API'] ?? 0;
    row(
      '2 registry',
      `cold: registry requests per image (${R.requests.total} for ${N})`,
      R.requests.total / N,
      '',
    );
    for (const [kind, n] of Object.entries(R.requests.byKind).sort()) {
      row('2 registry', `  ${kind} per image`, n / N, '');
    }
    row(
      '2 registry',
      'referrers API asked in the cycle (absent: remembered)',
      referrersApi,
      '',
      '<= 1 (per registry)',
      referrersApi <= 1,
    );
    row('floor', 'P-256 crypto.verify alone, measured now', floor, 'ms');
    row('floor', 'documented floor: parse + P-256 verify', DOC_FLOOR, 'ms');
    row('floor', 'floor per image: 3 x documented floor', 3 * DOC_FLOOR, 'ms');
    row(
      'floor',
      'registry: CPU per image / floor',
      R.cpu / N / (3 * DOC_FLOOR),
      'x',
    );
    row(
      'floor',
      'layout: CPU per image / floor',
      L.cpu / N / (3 * DOC_FLOOR),
      'x',
    );
    row(
      'floor',
      'decide+verify after last fetch / floor',
      R.decide / N / (3 * DOC_FLOOR),
      'x',
    );
    row(
      '3 incremental',
      'layout, reuse: ms per image',
      LI.total / N,
      'ms',
      `< ${T.incrementalPerImage}`,
      LI.total / N < T.incrementalPerImage,
    );
    row(
      '3 incremental',
      'registry, reuse: ms per image',
      RI.total / N,
      'ms',
      `< ${T.incrementalPerImage}`,
      RI.total / N < T.incrementalPerImage,
    );
    row(
      '3 incremental',
      'registry, reuse: speed-up vs cold',
      perR / (RI.total / N),
      'x',
    );
    const evP50 = percentile(EV.times, 50);
    row(
      '4 evidence',
      `record of 5 images: chain+export+verify p50`,
      evP50,
      'ms',
      `< ${T.evidencePerRecord}`,
      evP50 < T.evidencePerRecord,
    );
    row(
      '4 evidence',
      `record of 5 images: p95`,
      percentile(EV.times, 95),
      'ms',
    );
    row(
      '4 evidence',
      `record of 5 images: bundle size`,
      EV.avgBytes / 1024,
      'KiB',
    );
    row(
      '4 evidence',
      `record of ${N} images: chain+export+verify`,
      EV.bigMs,
      'ms',
    );
    row(
      '4 evidence',
      `record of ${N} images: bundle size`,
      EV.bigBytes / 1024,
      'KiB',
    );
    row(
      '5 memory',
      `fresh process, ${N} images cold: peak RSS`,
      mb(M.peakRss),
      'MiB',
      `< ${T.rssMb}`,
      mb(M.peakRss) < T.rssMb,
    );
    row('5 memory', '  RSS after loading the modules', mb(M.baseRss), 'MiB');
    row(
      '5 memory',
      '  heap used after the run (after GC)',
      mb(M.heapUsedAfter),
      'MiB',
      `< ${T.heapMb}`,
      mb(M.heapUsedAfter) < T.heapMb,
    );
    row('5 memory', '  wall time of that run', M.ms, 'ms');
    row(
      '5 memory',
      `bench process: RSS growth in the ${N}-image runs`,
      mb(peakRss - baseRss),
      'MiB',
    );
    row(
      '5 memory',
      '  bench process heap used after them (after GC)',
      mb(mem.heapUsed),
      'MiB',
    );
    for (const h of H) {
      const refused =
        h.error?.code === 'too_large' && h.decision !== 'compliant';
      row(
        '5 hostile',
        `.sig ${h.name}`,
        `${h.error?.code ?? 'none'}/${h.decision}`,
        '',
        'too_large',
        refused,
      );
      row('5 hostile', '  time to refuse', h.ms, 'ms');
      row(
        '5 hostile',
        '  RSS growth during the check',
        mb(h.growth),
        'MiB',
        `< ${mb(2 * BLOB_CAP)} (2x cap)`,
        h.growth < 2 * BLOB_CAP,
      );
    }

    // ------------------------------------------------------------ 6-8
    const warmPerEntity = (RF.warm.statements - RF.perPass) / RF.entities;
    const speedUp = RF.cold.ms / RF.warm.ms;
    row(
      '6 refresh',
      `cold pass, ${RF.entities} entities (1 image each)`,
      RF.cold.ms,
      'ms',
    );
    row('6 refresh', 'warm pass, nothing changed', RF.warm.ms, 'ms');
    row('6 refresh', 'warm pass again', RF.warm2.ms, 'ms');
    row(
      '6 refresh',
      'warm speed-up vs cold (floor: the cold pass)',
      speedUp,
      'x',
      '>= 10',
      speedUp >= 10,
    );
    row(
      '6 refresh',
      'DB statements per unchanged entity',
      warmPerEntity,
      '',
      '<= 2',
      warmPerEntity <= 2,
    );
    row(
      '6 refresh',
      `  all-in per entity (incl. ${RF.perPass} per pass)`,
      RF.warm.perEntity,
      '',
    );
    row('6 refresh', '  cold: DB statements per entity', RF.cold.perEntity, '');
    row(
      '6 refresh',
      'warm: discoveries / signatures verified again',
      `${RF.warm.discovers}/${RF.warm.verifyCacheMisses}`,
      '',
      '0/0',
      RF.warm.discovers === 0 && RF.warm.verifyCacheMisses === 0,
    );
    row(
      '6 refresh',
      'warm: registry requests (tag resolutions)',
      RF.warm.resolves,
      '',
    );
    row(
      '6 refresh',
      "warm: signals published (the plugin's after-check hooks)",
      `${RF.warm.signals} (cold ${RF.cold.signals})`,
      '',
    );
    row(
      '6 refresh',
      'warm: CPU per entity (this process)',
      RF.warm.cpuMs / RF.entities,
      'ms',
    );
    row(
      '6 refresh',
      'cold: CPU per entity (this process)',
      RF.cold.cpuMs / RF.entities,
      'ms',
    );
    row(
      '6 refresh',
      'CPU per entity, all processes (bench/registry/PostgreSQL): cold',
      `${fmt(RF.cold.allCpuMs / RF.entities)} (${[
        RF.cold.cpuMs,
        RF.cold.registryCpuMs,
        RF.cold.postgresCpuMs,
      ]
        .map(x => fmt(x / RF.entities))
        .join('/')})`,
      'ms',
    );
    row(
      '6 refresh',
      'CPU per entity, all processes (bench/registry/PostgreSQL): warm',
      `${fmt(RF.warm.allCpuMs / RF.entities)} (${[
        RF.warm.cpuMs,
        RF.warm.registryCpuMs,
        RF.warm.postgresCpuMs,
      ]
        .map(x => fmt(x / RF.entities))
        .join('/')})`,
      'ms',
    );
    row(
      '6 refresh',
      'warm vs cold by CPU of all processes (load-independent)',
      RF.cold.allCpuMs / RF.warm.allCpuMs,
      'x',
    );
    row(
      '6 refresh',
      'heap after GC: cold -> warm -> warm again',
      [RF.cold, RF.warm, RF.warm2]
        .map(p => fmt(p.heapUsedAfter / MiB))
        .join(' -> '),
      'MiB',
    );
    row(
      '6 refresh',
      'heap growth per entity between the warm passes',
      (RF.warm2.heapUsedAfter - RF.warm.heapUsedAfter) / RF.entities,
      'bytes',
    );
    row(
      '6b replicas',
      `one replica: cold refresh of ${N} entities`,
      RS.one.ms,
      'ms',
    );
    row(
      '6b replicas',
      `two replicas (own registry each): evaluations ${RS.two.evaluated.join(
        ' + ',
      )}`,
      RS.two.ms,
      'ms',
    );
    row(
      '6b replicas',
      'duplicate evaluations (two replicas)',
      RS.two.duplicates,
      '',
      '0',
      RS.two.duplicates === 0,
    );
    row(
      '6b replicas',
      'wall, two replicas / one',
      RS.wallRatio,
      'x',
      '<= 0.6',
      RS.wallRatio <= 0.6,
    );
    for (const r of [RS.one, RS.two]) {
      const c = r.cpu;
      row(
        '6b replicas',
        `  ${r.replicas} replica(s): CPU s bench/registries/PostgreSQL`,
        `${(c.benchProcessMs / 1000).toFixed(1)}/${(
          c.registriesMs / 1000
        ).toFixed(1)}/${(c.postgresMs / 1000).toFixed(1)}`,
        's',
      );
      row(
        '6b replicas',
        `  ${r.replicas} replica(s): cores kept busy (CPU / wall, of 2)`,
        r.coresBusy,
        '',
      );
    }
    row(
      '7 verify',
      `engine, fresh (nothing cached), ${VT.images} images / ${VT.docs} docs: CPU`,
      VT.engineCpuMs,
      'ms',
    );
    row(
      '7 verify',
      'floor: bare JSON.parse + crypto.verify loop: CPU',
      VT.floorCpuMs,
      'ms',
    );
    row(
      '7 verify',
      'throughput vs floor (floor CPU ms / engine CPU ms)',
      VT.ratio,
      'x',
      '>= 0.8',
      VT.ratio >= 0.8,
    );
    row(
      '7 verify',
      `  wall: engine ${fmt(VT.engineMs)} ms, floor ${fmt(VT.floorMs)} ms`,
      VT.ratioWall,
      'x',
    );
    row(
      '7 verify',
      `  same in a fresh process: engine ${fmt(VTF.engineCpuMs)}, floor ${fmt(
        VTF.floorCpuMs,
      )} ms CPU`,
      VTF.ratio,
      'x',
    );
    row('7 verify', 'engine, verification cache warm: CPU', VT.warmCpuMs, 'ms');
    row(
      '7 verify',
      `  decide + JSON.stringify(result), as the store does: ${fmt(
        VT.engineSerialisedCpuMs,
      )} ms CPU; floor / that`,
      VT.ratioSerialised,
      'x',
    );
    const apiRow = (name, r, target) => {
      row(
        '8 api',
        `${name}: p99 (p50 ${fmt(r.p50)} ms, ${fmt(r.rps)} req/s)`,
        r.p99,
        'ms',
        target ? `<= ${target}` : '',
        target ? r.p99 <= target && r.errors === 0 : undefined,
      );
      if (r.errors)
        row('8 api', `  ${name}: errors (${r.firstError})`, r.errors, '');
    };
    row(
      '8 api',
      `${API_N} entities, PostgreSQL, ${API.clients} clients, service token`,
      API.n,
      '',
    );
    apiRow('floor: bare node:http, same page size', API.floor);
    apiRow('backend liveness route (root middleware only)', API.framework);
    apiRow('status', API.status, 25);
    apiRow('list first page', API.listFirst, 50);
    apiRow('list cursor pages', API.listCursor, 50);
    apiRow('list search q=', API.search, 50);
    apiRow('list filters', API.filter, 50);
    // CPU per request: meaningful on a loaded machine, where latencies are queueing.
    for (const [name, r] of [
      ['floor', API.floor],
      ['liveness', API.framework],
      ['status', API.status],
      ['list first page', API.listFirst],
      ['list cursor', API.listCursor],
      ['list search', API.search],
      ['list filters', API.filter],
    ]) {
      const c = r.cpuMsPerRequest;
      row(
        '8 api cpu',
        `${name}: ms CPU/request backend/PostgreSQL/client`,
        `${c.backend.toFixed(3)}/${c.postgres.toFixed(3)}/${c.client.toFixed(
          3,
        )}`,
        'ms',
      );
    }
    row(
      '8 api cpu',
      'status: backend CPU/request x floor / x liveness',
      `${fmt(
        API.status.cpuMsPerRequest.backend / API.floor.cpuMsPerRequest.backend,
      )} / ${fmt(
        API.status.cpuMsPerRequest.backend /
          API.framework.cpuMsPerRequest.backend,
      )}`,
      'x',
    );
    row(
      '8 api cpu',
      `status: lower bound of mean latency at ${API.clients} clients (clients x backend CPU/request)`,
      API.clients * API.status.cpuMsPerRequest.backend,
      'ms',
    );
    const apiMem = API.memory;
    const heapMiB = m => m.heapUsed / MiB;
    row(
      '8 api memory',
      `backend after start + seeding ${API_N}: RSS / heap (after GC)`,
      `${fmt(apiMem.afterStart.rss / MiB)} / ${fmt(
        heapMiB(apiMem.afterStart),
      )}`,
      'MiB',
    );
    row(
      '8 api memory',
      'backend peak RSS (kernel high-water mark)',
      apiMem.filter.maxRss / MiB,
      'MiB',
    );
    row(
      '8 api memory',
      `heap after GC: warm-up -> after all phases (${
        Object.keys(apiMem).length - 2
      } phases)`,
      `${fmt(heapMiB(apiMem.afterWarmUp))} -> ${fmt(heapMiB(apiMem.filter))}`,
      'MiB',
    );
    row(
      '8 api memory',
      'heap growth per request after warm-up (steady state)',
      (apiMem.filter.heapUsed - apiMem.afterWarmUp.heapUsed) /
        [
          'floor',
          'framework',
          'status',
          'listFirst',
          'listCursor',
          'search',
          'filter',
        ]
          .map(k => API[k].requests)
          .reduce((a, b) => a + b, 0),
      'bytes',
    );
    row(
      '8 api',
      'list first page p99 / floor p99',
      API.listFirst.p99 / API.floor.p99,
      'x',
    );
    row('8 api', 'status p99 / floor p99', API.status.p99 / API.floor.p99, 'x');
    row(
      '8 api',
      'without a token',
      API.unauthenticatedStatus,
      '',
      '401',
      API.unauthenticatedStatus === 401,
    );

    Object.assign(out, {
      refresh: { ...RF, warmStatementsPerEntity: warmPerEntity, speedUp },
      replicas: RS,
      verification: { ...VT, freshProcess: VTF },
      api: API,
      loads,
      floorPerImage,
      sample: SAMPLE,
      layout: {
        totalMs: L.total,
        perImageMs: perL,
        decideMs: L.decide,
        cpuMs: L.cpu,
        p50: percentile(L.per, 50),
        p95: percentile(L.per, 95),
        small: { n: nSmall, ...LS },
      },
      registry: {
        requests: R.requests,
        requestsPerImage: R.requests.total / N,
        totalMs: R.total,
        perImageMs: perR,
        decideMs: R.decide,
        cpuMs: R.cpu,
        p50: percentile(R.per, 50),
        p95: percentile(R.per, 95),
        concurrencyPerRegistry: conc,
      },
      incremental: {
        layoutPerImageMs: LI.total / N,
        registryPerImageMs: RI.total / N,
      },
      evidence: { p50: evP50, p95: percentile(EV.times, 95), bigMs: EV.bigMs },
      memory: {
        fresh: {
          baseRssMiB: mb(M.baseRss),
          peakRssMiB: mb(M.peakRss),
          heapUsedAfterMiB: mb(M.heapUsedAfter),
          ms: M.ms,
        },
        baseRssMiB: mb(baseRss),
        peakRssMiB: mb(peakRss),
        maxRssMiB: mb(maxRss),
        heapUsedMiB: mb(mem.heapUsed),
        phases: Object.fromEntries(
          Object.entries(rss.peaks).map(([k, v]) => [k, mb(v)]),
        ),
      },
      hostile: H.map(h => ({ ...h, growthMiB: mb(h.growth) })),
      publishMs: { layout: lay.ms, registry: reg.ms },
      targets: T,
    });
  } finally {
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------- print
  const w = [13, 52, 18, 6, 18];
  const line = c =>
    `${c[0].padEnd(w[0])} ${c[1].padEnd(w[1])} ${c[2].padStart(
      w[2],
    )} ${c[3].padEnd(w[3])} ${c[4].padEnd(w[4])} ${c[5]}`;
  const lines = [line(['section', 'metric', 'value', 'unit', 'target', ''])];
  lines.push('-'.repeat(w.reduce((a, b) => a + b + 1, 0) + 4));
  for (const r of rows) {
    lines.push(
      line([
        r.section,
        r.metric,
        fmt(r.value),
        r.unit,
        String(r.target),
        r.ok === undefined ? '' : r.ok ? 'ok' : 'MISSED',
      ]),
    );
  }
  process.stdout.write(
    `\nResidency bench, ${out.date}, N=${N}, load average at start ${out.loadavg
      .map(x => x.toFixed(2))
      .join(' ')}\n`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stdout.write(
    `\nload average (1/5/15 min) at the start of each section: ${Object.entries(
      loads,
    )
      .map(([k, v]) => `${k}: ${v.join(' ')}`)
      .join('; ')}\n`,
  );
  const missed = rows.filter(r => r.ok === false);
  process.stdout.write(
    `\n${
      missed.length === 0
        ? 'all targets met'
        : `${missed.length} target(s) MISSED`
    } (wall ${((now() - started) / 1000).toFixed(
      1,
    )} s; timings are noisy on a shared 2-core machine)\n`,
  );
  if (process.env.BENCH_JSON)
    writeFileSync(
      process.env.BENCH_JSON,
      JSON.stringify({ ...out, rows }, null, 2),
    );
  return missed.length === 0 ? 0 : 1;
}

main().then(
  code => {
    process.exitCode = code;
  },
  err => {
    process.stderr.write(`bench: ${err?.stack ?? err}\n`);
    process.exitCode = 2;
  },
);
