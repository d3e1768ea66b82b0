/*
 * Backend sections of the benchmark (issue 14), each beside a floor measured in the
 * same run:
 *
 * 6. Refresh through the real ResidencyRefresher + EntityEvaluator +
 *    DatabaseResidencyStore on PostgreSQL against the real docker-registry: a cold
 *    pass (nothing stored) and a warm pass (nothing changed), wall time, every
 *    PostgreSQL statement counted at the driver (pg Client#query, so BEGIN/COMMIT
 *    count too), registry fetches, and verification cache hits.
 * 7. Verification throughput: the engine deciding the registry run's material with a
 *    fresh engine (no cached verification) against a bare loop over the same
 *    material (JSON.parse of every signed document + crypto.verify with a key
 *    parsed once), and the engine with its verification cache warm.
 * 8. The HTTP API through the real backend (api-child.js) with a static service
 *    token, on PostgreSQL, 50 clients: status, list first page, cursor pages,
 *    search, filters; p50/p99/errors, against a bare node:http server in the same
 *    process answering a page of the same size.
 */
'use strict';

const crypto = require('node:crypto');
const http = require('node:http');
const { spawn } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { engine, source, TENANT, now, percentile } = require('./lib');

const PG = process.env.BENCH_PG ?? 'postgresql://postgres@127.0.0.1:5432';

// ------------------------------------------------------------ statement counting
/** Counts every statement knex sends to PostgreSQL (BEGIN/COMMIT included). */
function countPgStatements() {
  const pg = require(require.resolve('pg', {
    paths: [require.resolve('knex')],
  }));
  const counter = { n: 0, on: false };
  if (!pg.Client.prototype.__benchCounted) {
    const original = pg.Client.prototype.query;
    pg.Client.prototype.query = function query(...args) {
      if (countPgStatements.counter?.on) countPgStatements.counter.n++;
      return original.apply(this, args);
    };
    pg.Client.prototype.__benchCounted = true;
  }
  countPgStatements.counter = counter;
  return counter;
}

async function createDatabase(name) {
  const knex = require('knex')({ client: 'pg', connection: PG });
  await knex.raw(`drop database if exists ${name} with (force)`);
  await knex.raw(`create database ${name}`);
  await knex.destroy();
}

async function dropDatabase(name) {
  const knex = require('knex')({ client: 'pg', connection: PG });
  await knex.raw(`drop database if exists ${name} with (force)`);
  await knex.destroy();
}

// ------------------------------------------------------------ 6. refresh
const logger = {
  info() {},
  warn() {},
  error() {},
  debug() {},
  child() {
    return logger;
  },
};

function entityOf(i, image) {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name: `svc-${i}`,
      namespace: 'default',
      annotations: {
        'residency.dev/images': image,
        'residency.dev/tenant': TENANT,
      },
    },
    spec: {},
  };
}

/** Starts a CPU profile of this process; the returned function writes it to `file`. */
async function profileThisProcess(file) {
  if (!file) return async () => {};
  const inspector = require('node:inspector');
  const session = new inspector.Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) =>
      session.post(method, params ?? {}, (err, r) =>
        err ? reject(err) : resolve(r),
      ),
    );
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 250 });
  await post('Profiler.start');
  return async () => {
    const { profile } = await post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

/**
 * Cold and warm refresh passes of one entity per image. `options.warmPasses` (default
 * 2) warm passes; `options.backendSrc` loads the backend from another source tree (a
 * `git archive` copy of older code, to compare two versions in the same period).
 */
async function refreshPasses(settings, refs, options = {}) {
  const src = options.backendSrc ?? '../plugins/residency-backend/src';
  const {
    DatabaseResidencyStore,
  } = require(`${src}/database/DatabaseResidencyStore`);
  const { EntityEvaluator } = require(`${src}/refresh/EntityEvaluator`);
  const { ResidencyRefresher } = require(`${src}/refresh/ResidencyRefresher`);
  const {
    verificationCacheStats,
  } = require('../plugins/residency-node/src/verify/cache');

  const dbName = `residency_bench_refresh_${process.pid}`;
  await createDatabase(dbName);
  const knex = require('knex')({
    client: 'pg',
    connection: `${PG}/${dbName}`,
    pool: { min: 0, max: 10 },
  });
  const counter = countPgStatements();
  const pgAdmin = require('knex')({ client: 'pg', connection: PG });
  const registryPids = [registryPid(refs[0].split('/')[0])].filter(Boolean);
  const entities = refs.map((r, i) => entityOf(i, r));
  const catalog = {
    async *streamEntities(request) {
      const size = request?.pageSize ?? 25;
      for (let i = 0; i < entities.length; i += size) {
        yield entities.slice(i, i + size);
      }
    },
  };
  const auth = {
    async getOwnServiceCredentials() {
      return {
        $$type: '@backstage/BackstageCredentials',
        principal: { type: 'service', subject: 'plugin:residency' },
      };
    },
  };
  const real = source.createArtifactSource({
    registries: settings.registries,
    limits: { concurrencyPerRegistry: settings.limits.concurrencyPerRegistry },
  });
  const fetches = { resolves: 0, discovers: 0 };
  const published = { n: 0 };
  const counted = {
    resolve: (ref, signal) => {
      fetches.resolves++;
      return real.resolve(ref, signal);
    },
    discover: (image, signal) => {
      fetches.discovers++;
      return real.discover(image, signal);
    },
  };
  try {
    const store = await DatabaseResidencyStore.create({
      database: { getClient: async () => knex },
    });
    const e = engine.DefaultResidencyEngine.create({
      settings,
      source: counted,
    });
    // What the plugin does after each recorded check (plugin.ts): the entity's
    // state with its exceptions (real tracker, real tables) and the signal to open
    // tabs (the signals service counts; with the events backend each is a database
    // write). No `residency.vsa` here, as in the default portal configuration.
    const { ExceptionStore } = require(`${src}/exceptions/ExceptionStore`);
    const {
      EntityStateTracker,
    } = require(`${src}/exceptions/EntityStateTracker`);
    const { ResidencySignals } = require(`${src}/signals/ResidencySignals`);
    const tracker = new EntityStateTracker({
      store,
      exceptions: new ExceptionStore(knex),
      logger,
    });
    const signals = new ResidencySignals({
      signals: {
        publish: async () => {
          published.n++;
        },
      },
      logger,
    });
    let onRecorded;
    try {
      onRecorded = require(`${src}/refresh/afterRecorded`).afterRecorded({
        tracker,
        signals,
      });
    } catch (err) {
      if (err?.code !== 'MODULE_NOT_FOUND') throw err;
      // older code (BENCH_REFRESH_OLD): its plugin.ts did this after every check
      onRecorded = async status => {
        await tracker.onRecorded(status);
        await signals.entityChanged(status.entityRef, 'checked');
      };
    }
    const evaluator = new EntityEvaluator({
      engine: e,
      store,
      revalidateAfterSeconds: 6 * 3600,
      onRecorded,
    });
    const refresher = ResidencyRefresher.create({
      catalog,
      auth,
      store,
      evaluator,
      logger,
      schedule: { frequency: { minutes: 10 }, timeout: { minutes: 30 } },
      batchSize: 25,
      leaseSeconds: 300,
      entityConcurrency: 4,
    });
    const pass = async cycleId => {
      // BENCH_REFRESH_PROF=<dir>: a CPU profile of each pass.
      const stopProfile = await profileThisProcess(
        process.env.BENCH_REFRESH_PROF &&
          join(process.env.BENCH_REFRESH_PROF, `${cycleId}.cpuprofile`),
      );
      try {
        return await timedPass(cycleId);
      } finally {
        await stopProfile();
      }
    };
    const timedPass = async cycleId => {
      fetches.resolves = 0;
      fetches.discovers = 0;
      published.n = 0;
      const cache0 = { ...verificationCacheStats };
      counter.n = 0;
      counter.on = true;
      // CPU of the other processes doing the pass's work: the registry and the
      // PostgreSQL backends of this database (sampled, as connections come and go).
      const pgPids = async () =>
        (
          await pgAdmin.raw(
            'select pid from pg_stat_activity where datname = ?',
            [dbName],
          )
        ).rows.map(x => x.pid);
      const pg0 = procCpuMs(await pgPids());
      const pgSeen = new Map();
      const sampler = setInterval(async () => {
        for (const [pid, v] of procCpuMs(await pgPids())) pgSeen.set(pid, v);
      }, 500);
      // WAL written by the whole PostgreSQL cluster during the pass (other users of
      // the server count too: an upper bound of this pass's own).
      const walLsn = async () =>
        (await pgAdmin.raw('select pg_current_wal_lsn() as lsn')).rows[0].lsn;
      const wal0 = await walLsn();
      const reg0 = procCpuMs(registryPids);
      const cpu0 = process.cpuUsage();
      const t0 = now();
      const summary = await refresher.runOnce(undefined, { cycleId });
      const ms = now() - t0;
      const cpu = process.cpuUsage(cpu0);
      clearInterval(sampler);
      const walBytes = Number(
        (
          await pgAdmin.raw(
            'select pg_wal_lsn_diff(pg_current_wal_lsn(), ?) as d',
            [wal0],
          )
        ).rows[0].d,
      );
      for (const [pid, v] of procCpuMs(await pgPids())) pgSeen.set(pid, v);
      let registryCpuMs = 0;
      for (const [pid, v] of procCpuMs(registryPids))
        registryCpuMs += v - (reg0.get(pid) ?? 0);
      let postgresCpuMs = 0;
      for (const [pid, v] of pgSeen) postgresCpuMs += v - (pg0.get(pid) ?? 0);
      counter.on = false;
      if (summary.evaluated !== refs.length || summary.failed !== 0) {
        throw new Error(
          `refresh ${cycleId}: ${JSON.stringify(summary)} for ${refs.length}`,
        );
      }
      global.gc?.();
      const mem = process.memoryUsage();
      return {
        ms,
        // after the pass, after a full GC: flat across warm passes = no growth per entity
        heapUsedAfter: mem.heapUsed,
        rssAfter: mem.rss,
        cpuMs: (cpu.user + cpu.system) / 1000,
        registryCpuMs,
        postgresCpuMs,
        // all processes: this one, the registry and PostgreSQL
        allCpuMs:
          (cpu.user + cpu.system) / 1000 + registryCpuMs + postgresCpuMs,
        statements: counter.n,
        perEntity: counter.n / refs.length,
        resolves: fetches.resolves,
        discovers: fetches.discovers,
        signals: published.n,
        walBytes,
        verifyCacheHits: verificationCacheStats.hits - cache0.hits,
        verifyCacheMisses: verificationCacheStats.misses - cache0.misses,
      };
    };
    const cold = await pass('bench-cold');
    const decisions = await knex('residency_entity_status')
      .select('decision')
      .count({ n: '*' })
      .groupBy('decision');
    if (
      decisions.length !== 1 ||
      decisions[0].decision !== 'compliant' ||
      Number(decisions[0].n) !== refs.length
    ) {
      throw new Error(`refresh: statuses ${JSON.stringify(decisions)}`);
    }
    const warm = await pass('bench-warm');
    const warm2 = await pass('bench-warm-2');
    const warms = [warm, warm2];
    for (let i = 3; i <= (options.warmPasses ?? 2); i++) {
      warms.push(await pass(`bench-warm-${i}`));
    }
    const evidence = await knex('residency_evidence').count({ n: '*' });
    if (Number(evidence[0].n) !== refs.length) {
      throw new Error(
        `refresh: ${evidence[0].n} evidence records, expected one per entity`,
      );
    }
    // The statements of the warm pass that are per entity: a pass over entities
    // whose claims are all done already (nothing evaluated) is the per-pass part.
    counter.n = 0;
    counter.on = true;
    await refresher.runOnce(undefined, {
      cycleId: `bench-warm-${warms.length}`,
    });
    counter.on = false;
    const perPass = counter.n;
    return { entities: refs.length, cold, warm, warm2, warms, perPass };
  } finally {
    await real.close?.();
    await knex.destroy();
    await pgAdmin.destroy();
    await dropDatabase(dbName);
  }
}

// ------------------------------------------------------------ 6b. two replicas
/** The data directory of a registry started by startTestRegistry (from its config). */
function registryDataDir(host) {
  const { readdirSync, readFileSync } = require('node:fs');
  const tmp = require('node:os').tmpdir();
  for (const d of readdirSync(tmp).filter(x =>
    x.startsWith('residency-registry-'),
  )) {
    try {
      const config = readFileSync(join(tmp, d, 'config.yml'), 'utf8');
      if (config.includes(`addr: ${host}\n`)) return join(tmp, d, 'data');
    } catch {
      // another registry's directory, going away
    }
  }
  throw new Error(`no data directory for the registry on ${host}`);
}

/**
 * A second docker-registry process serving the same storage as the one on `host`:
 * the registry of the second replica (same images, same digests, its own CPU).
 */
async function startSecondRegistry(host, dir) {
  const { writeFileSync: write, openSync, closeSync } = require('node:fs');
  const net = require('node:net');
  const port = await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = srv.address().port;
      srv.close(() => resolve(p));
    });
  });
  const config = join(dir, 'registry-b.yml');
  write(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${JSON.stringify(registryDataDir(host))}`,
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const logFd = openSync(join(dir, 'registry-b.log'), 'a');
  const child = spawn('docker-registry', ['serve', config], {
    stdio: ['ignore', 'ignore', logFd],
  });
  closeSync(logFd);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error('second docker-registry did not start');
    await new Promise(r => setTimeout(r, 50));
  }
  return {
    url,
    pid: child.pid,
    stop: () =>
      new Promise(r => {
        child.once('exit', r);
        child.kill('SIGTERM');
      }),
  };
}

/** The pid of the docker-registry process listening on `host` (from its cmdline). */
function registryPid(host) {
  const { readdirSync, readFileSync } = require('node:fs');
  const config = join(registryDataDir(host), '..', 'config.yml');
  for (const pid of readdirSync('/proc').filter(x => /^\d+$/.test(x))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmd.includes('serve') && cmd.includes(config)) return Number(pid);
    } catch {
      // gone
    }
  }
  return undefined;
}

/**
 * Cold refresh of every entity by one replica, then by two replicas at once (fresh
 * database, fresh engines and verification caches each time), each replica with
 * its own registry process over the same storage. Counts evaluations per replica
 * (duplicates = evaluations beyond one per entity) and the CPU time of this
 * process (both replicas), the registries and PostgreSQL, to show the limit.
 */
async function replicaScaling(makeSettings, refs, host, dir) {
  const {
    DatabaseResidencyStore,
  } = require('../plugins/residency-backend/src/database/DatabaseResidencyStore');
  const {
    EntityEvaluator,
  } = require('../plugins/residency-backend/src/refresh/EntityEvaluator');
  const {
    ResidencyRefresher,
  } = require('../plugins/residency-backend/src/refresh/ResidencyRefresher');
  const second = await startSecondRegistry(host, dir);
  const registryPids = [registryPid(host), second.pid].filter(Boolean);
  const entities = refs.map((r, i) => entityOf(i, r));
  const catalog = {
    async *streamEntities(request) {
      const size = request?.pageSize ?? 25;
      for (let i = 0; i < entities.length; i += size) {
        yield entities.slice(i, i + size);
      }
    },
  };
  const auth = {
    async getOwnServiceCredentials() {
      return {
        $$type: '@backstage/BackstageCredentials',
        principal: { type: 'service', subject: 'plugin:residency' },
      };
    },
  };
  const pgAdmin = require('knex')({ client: 'pg', connection: PG });
  const run = async (endpoints, label) => {
    const dbName = `residency_bench_replicas_${process.pid}_${label}`;
    await createDatabase(dbName);
    const settings = makeSettings();
    const replicas = [];
    try {
      for (const [k, endpoint] of endpoints.entries()) {
        const knex = require('knex')({
          client: 'pg',
          connection: `${PG}/${dbName}`,
          pool: { min: 0, max: 10 },
        });
        const store = await DatabaseResidencyStore.create({
          database: { getClient: async () => knex },
        });
        const real = source.createArtifactSource({
          registries: settings.registries.map(r => ({
            ...r,
            ...(endpoint ? { endpoint } : {}),
          })),
          limits: {
            concurrencyPerRegistry: settings.limits.concurrencyPerRegistry,
          },
        });
        const e = engine.DefaultResidencyEngine.create({
          settings,
          source: real,
        });
        const evaluator = new EntityEvaluator({
          engine: e,
          store,
          revalidateAfterSeconds: 6 * 3600,
        });
        const refresher = ResidencyRefresher.create({
          catalog,
          auth,
          store,
          evaluator,
          logger,
          schedule: { frequency: { minutes: 10 }, timeout: { minutes: 30 } },
          batchSize: 25,
          leaseSeconds: 300,
          entityConcurrency: 4,
          instanceId: `replica-${k}`,
        });
        replicas.push({ knex, real, refresher });
      }
      const pgPids = async () =>
        (
          await pgAdmin.raw(
            'select pid from pg_stat_activity where datname = ?',
            [dbName],
          )
        ).rows.map(x => x.pid);
      const before = {
        self: process.cpuUsage(),
        registries: procCpuMs(registryPids),
        pg: procCpuMs(await pgPids()),
      };
      const pgSeen = new Map();
      const sampler = setInterval(async () => {
        for (const [pid, ms] of procCpuMs(await pgPids())) pgSeen.set(pid, ms);
      }, 500);
      const t0 = now();
      const summaries = await Promise.all(
        replicas.map(r => r.refresher.runOnce(undefined, { cycleId: label })),
      );
      const ms = now() - t0;
      clearInterval(sampler);
      for (const [pid, cpu] of procCpuMs(await pgPids())) pgSeen.set(pid, cpu);
      const self = process.cpuUsage(before.self);
      const regAfter = procCpuMs(registryPids);
      let registriesMs = 0;
      for (const [pid, cpu] of regAfter)
        registriesMs += cpu - (before.registries.get(pid) ?? 0);
      let pgMs = 0;
      for (const [pid, cpu] of pgSeen) pgMs += cpu - (before.pg.get(pid) ?? 0);
      const evaluated = summaries.map(x => x.evaluated);
      const failed = summaries.reduce((a, x) => a + x.failed, 0);
      const statuses = await replicas[0]
        .knex('residency_entity_status')
        .count({ n: '*' });
      const evidence = await replicas[0]
        .knex('residency_evidence')
        .count({ n: '*' });
      if (Number(statuses[0].n) !== refs.length || failed !== 0) {
        throw new Error(
          `replicas ${label}: ${statuses[0].n} statuses, ${failed} failed`,
        );
      }
      const cpu = {
        benchProcessMs: (self.user + self.system) / 1000,
        registriesMs,
        postgresMs: pgMs,
      };
      const cpuTotal = cpu.benchProcessMs + cpu.registriesMs + cpu.postgresMs;
      return {
        replicas: endpoints.length,
        ms,
        evaluated,
        duplicates: evaluated.reduce((a, b) => a + b, 0) - refs.length,
        evidenceRecords: Number(evidence[0].n),
        cpu,
        // Share of the machine's 2 cores this work kept busy during the pass.
        coresBusy: cpuTotal / ms,
        loadavg: require('node:os').loadavg(),
      };
    } finally {
      for (const r of replicas) {
        await r.real.close?.();
        await r.knex.destroy();
      }
      await dropDatabase(dbName);
    }
  };
  try {
    const one = await run([undefined], 'one');
    const two = await run([undefined, second.url], 'two');
    return { one, two, wallRatio: two.ms / one.ms };
  } finally {
    await pgAdmin.destroy();
    await second.stop();
  }
}

// ------------------------------------------------------------ 7. verification
/** DSSE pre-authentication encoding. */
function pae(type, payload) {
  return Buffer.concat([
    Buffer.from(
      `DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.length} `,
      'utf8',
    ),
    payload,
  ]);
}

/**
 * Wall and CPU time (ms) of `f`: CPU time of this thread, so that time spent
 * descheduled on the shared machine does not count (the work is synchronous).
 */
function measure(f) {
  // Each round starts without the garbage of earlier work (node --expose-gc).
  global.gc?.();
  const c0 = process.threadCpuUsage();
  const t0 = now();
  const value = f();
  const ms = now() - t0;
  const c = process.threadCpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000, value };
}

/**
 * Engine decisions over `material` vs a bare parse + verify loop over the same.
 * Both are synchronous, so they are compared by this thread's CPU time (robust
 * against the load of the shared machine); wall times are kept beside it.
 */
function verificationThroughput(settings, material, refs, publicKeyPem) {
  const inputs = material.map(m => ({ material: m }));
  // The decision of all images by a fresh context of engine e (made outside the timing).
  const decisionBy = e => {
    const ctx = e.context(TENANT, new Date());
    return () =>
      engine.decideEntity({
        entityRef: 'component:default/verify',
        tenant: TENANT,
        images: refs,
        inputs,
        ctx,
      });
  };
  const decideOnce = e => {
    const m = measure(decisionBy(e));
    if (m.value.decision !== 'compliant')
      throw new Error(`verification: ${m.value.decision}`);
    return m;
  };
  // The same decision and then its result serialised, as the store does for every
  // evaluation (the status row's \`detail\`): the reports' checks are built by then
  // whether the engine writes them during the decision or when they are first read.
  const decideSerialised = e => {
    const decide = decisionBy(e);
    return measure(() => JSON.stringify(decide()));
  };
  const key = crypto.createPublicKey(publicKeyPem);
  const docs = material.reduce(
    (a, m) => a + m.simpleSignatures.length + m.envelopes.length,
    0,
  );
  const bare = () =>
    measure(() => {
      let ok = 0;
      for (const m of material) {
        for (const s of m.simpleSignatures) {
          const payload = Buffer.from(s.payload, 'base64');
          JSON.parse(payload.toString('utf8'));
          if (
            crypto.verify(
              'sha256',
              payload,
              key,
              Buffer.from(s.signature, 'base64'),
            )
          )
            ok++;
        }
        for (const en of m.envelopes) {
          const env = JSON.parse(en.envelope);
          const payload = Buffer.from(env.payload, 'base64');
          if (
            crypto.verify(
              'sha256',
              pae(env.payloadType, payload),
              key,
              Buffer.from(env.signatures[0].sig, 'base64'),
            )
          )
            ok++;
          JSON.parse(payload.toString('utf8'));
        }
      }
      if (ok !== docs) throw new Error(`bare loop: ${ok}/${docs} verified`);
    });
  // Interleaved rounds, best of each: the load of the other tenants of the machine
  // moves both alike.
  const rounds = Math.max(1, Number(process.env.BENCH_VT_ROUNDS) || 7);
  const cold = [];
  const floor = [];
  const warm = [];
  const serialised = [];
  bare();
  decideOnce(engine.DefaultResidencyEngine.create({ settings }));
  decideSerialised(engine.DefaultResidencyEngine.create({ settings }));
  for (let k = 0; k < rounds; k++) {
    floor.push(bare());
    // A fresh engine: a new trust snapshot, so nothing is cached.
    const e = engine.DefaultResidencyEngine.create({ settings });
    cold.push(decideOnce(e));
    warm.push(decideOnce(e));
    serialised.push(
      decideSerialised(engine.DefaultResidencyEngine.create({ settings })),
    );
  }
  const best = (a, f) => Math.min(...a.map(x => x[f]));
  return {
    images: material.length,
    docs,
    engineCpuMs: best(cold, 'cpuMs'),
    floorCpuMs: best(floor, 'cpuMs'),
    warmCpuMs: best(warm, 'cpuMs'),
    ratio: best(floor, 'cpuMs') / best(cold, 'cpuMs'),
    engineSerialisedCpuMs: best(serialised, 'cpuMs'),
    ratioSerialised: best(floor, 'cpuMs') / best(serialised, 'cpuMs'),
    engineMs: best(cold, 'ms'),
    floorMs: best(floor, 'ms'),
    warmMs: best(warm, 'ms'),
    ratioWall: best(floor, 'ms') / best(cold, 'ms'),
    rounds: {
      cold: cold.map(({ ms, cpuMs }) => ({ ms, cpuMs })),
      floor: floor.map(({ ms, cpuMs }) => ({ ms, cpuMs })),
      warm: warm.map(({ ms, cpuMs }) => ({ ms, cpuMs })),
      serialised: serialised.map(({ ms, cpuMs }) => ({ ms, cpuMs })),
    },
  };
}

// ------------------------------------------------------------ 8. API
function startApiChild(dir, n, prefix, token) {
  const input = join(dir, 'api.json');
  writeFileSync(input, JSON.stringify({ n, pg: PG, prefix, token }));
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', join(__dirname, 'api-child.js'), input],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LOG_LEVEL: 'warn' },
      },
    );
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`api-child did not start: ${stderr.slice(-2000)}`));
    }, 240_000);
    let ready = false;
    child.stdout.on('data', d => {
      if (ready) return;
      stdout = (stdout + d).slice(-100_000);
      const m = /BENCH-READY (\{.*\})\n/.exec(stdout);
      if (m) {
        ready = true;
        clearTimeout(timer);
        resolve({ child, ...JSON.parse(m[1]) });
      }
    });
    child.stderr.on('data', d => (stderr = (stderr + d).slice(-8000)));
    child.on('close', code => {
      clearTimeout(timer);
      reject(new Error(`api-child exited ${code}: ${stderr.slice(-2000)}`));
    });
  });
}

function get(agent, port, path, token) {
  return new Promise(resolve => {
    const t0 = now();
    const req = http.get(
      {
        agent,
        host: '127.0.0.1',
        port,
        path,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      },
      res => {
        const chunks = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () =>
          resolve({
            ms: now() - t0,
            status: res.statusCode,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', () => resolve({ ms: now() - t0, status: 0 }));
      },
    );
    req.on('error', () => resolve({ ms: now() - t0, status: 0 }));
  });
}

/** `clients` loops issuing `next(client)` requests for `seconds`. */
async function load({ port, token, clients, seconds, next, check }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const lat = [];
  let errors = 0;
  let firstError;
  const end = now() + seconds * 1000;
  const t0 = now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const state = {};
      while (now() < end) {
        const path = next(c, state);
        const r = await get(agent, port, path, token);
        lat.push(r.ms);
        const ok = r.status === 200 && (!check || check(r, c, state));
        if (!ok) {
          errors++;
          firstError ??= `${path}: ${r.status} ${String(r.body).slice(0, 200)}`;
        }
      }
    }),
  );
  const wall = now() - t0;
  agent.destroy();
  return {
    requests: lat.length,
    rps: lat.length / (wall / 1000),
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    errors,
    ...(firstError ? { firstError } : {}),
  };
}

/**
 * Self time per function (top 25) of a .cpuprofile, as a share of the busy samples
 * (idle excluded: the process waits on PostgreSQL and on the clients).
 */
function topOfProfile(file) {
  const { readFileSync } = require('node:fs');
  const self = new Map();
  let total = 0;
  let idle = 0;
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map(nd => [nd.id, nd]));
  for (const id of profile.samples) {
    const frame = byId.get(id).callFrame;
    if (frame.functionName === '(idle)') {
      idle++;
      continue;
    }
    const key = `${frame.functionName || '(anonymous)'} ${frame.url
      .split('/')
      .slice(-3)
      .join('/')}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + 1);
    total++;
  }
  return {
    idlePercent: Number(((100 * idle) / (idle + total)).toFixed(1)),
    busy: [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 25)
      .map(([fn, n]) => ({
        fn,
        percent: Number(((100 * n) / total).toFixed(1)),
      })),
  };
}

/** CPU ms (user + system) of processes, from /proc/<pid>/stat (Linux). */
function procCpuMs(pids) {
  const { readFileSync } = require('node:fs');
  const out = new Map();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields 14 and 15 of stat (utime, stime), in clock ticks of 10 ms
      out.set(pid, (Number(f[11]) + Number(f[12])) * 10);
    } catch {
      // the connection's process ended
    }
  }
  return out;
}

/**
 * CPU spent per process group between two snapshots: the backend process, the
 * PostgreSQL processes serving its database, and this (the clients') process.
 */
async function cpuSnapshot(api, pgAdmin, database) {
  const [usage, pids] = await Promise.all([
    control(api, '/__bench/usage'),
    pgAdmin
      .raw('select pid from pg_stat_activity where datname = ?', [database])
      .then(r => r.rows.map(x => x.pid)),
  ]);
  const c = process.cpuUsage();
  return {
    backend: usage.cpuMs,
    postgres: procCpuMs(pids),
    client: (c.user + c.system) / 1000,
  };
}

function cpuPerRequest(a, b, requests) {
  let pg = 0;
  for (const [pid, ms] of b.postgres) pg += ms - (a.postgres.get(pid) ?? 0);
  const per = x => Number((x / requests).toFixed(3));
  return {
    backend: per(b.backend - a.backend),
    postgres: per(pg),
    client: per(b.client - a.client),
    total: per(b.backend - a.backend + pg + b.client - a.client),
  };
}

/** A control call of api-child.js on its floor port. */
function control(api, path) {
  return get(new http.Agent(), api.floorPort, path).then(r => {
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.body}`);
    return JSON.parse(r.body);
  });
}

async function apiBench(dir, n, { clients = 50, seconds = 6 } = {}) {
  const prefix = `residency_bench_api_${process.pid}_`;
  const token = crypto.randomBytes(24).toString('base64url');
  await dropDatabase(`${prefix}residency`);
  const t0 = now();
  const api = await startApiChild(dir, n, prefix, token);
  const startMs = now() - t0;
  const base = '/api/residency';
  const rand = k => Math.floor(Math.random() * k);
  const refAt = i => `svc-${String(i).padStart(6, '0')}`;
  const out = { n, clients, seconds, startMs };
  const database = `${prefix}residency`;
  const pgAdmin = require('knex')({ client: 'pg', connection: PG });
  const prof = process.env.BENCH_API_PROF;
  const memory = { afterStart: await control(api, '/__bench/usage?gc=1') };
  /** One measured phase: latencies, CPU per request of each process, optional profile. */
  const phase = async (name, options) => {
    if (prof) await control(api, '/__bench/prof/start');
    const before = await cpuSnapshot(api, pgAdmin, database);
    const r = await load({ clients, seconds, ...options });
    const after = await cpuSnapshot(api, pgAdmin, database);
    r.cpuMsPerRequest = cpuPerRequest(before, after, r.requests);
    if (prof) {
      const file = join(prof, `${name}.cpuprofile`);
      await control(api, `/__bench/prof/stop?file=${encodeURIComponent(file)}`);
      r.profile = topOfProfile(file);
    }
    memory[name] = await control(api, '/__bench/usage?gc=1');
    return r;
  };
  try {
    // Warm-up: connections, JIT, PostgreSQL caches.
    await load({
      port: api.port,
      token,
      clients,
      seconds: 2,
      next: () => `${base}/entities?limit=25`,
    });
    memory.afterWarmUp = await control(api, '/__bench/usage?gc=1');
    out.floor = await phase('floor', {
      port: api.floorPort,
      next: () => '/',
    });
    // The backend's own liveness route: the same root HTTP middleware (helmet,
    // cors, compression, request log, rate limit) without the plugin, its auth and
    // its database; what the plugin adds per request is the difference to it.
    out.framework = await phase('framework', {
      port: api.port,
      next: () => '/.backstage/health/v1/liveness',
    });
    out.status = await phase('status', {
      port: api.port,
      token,
      next: () => `${base}/entities/component/default/${refAt(rand(n))}/status`,
      check: r => JSON.parse(r.body).decision !== undefined,
    });
    out.listFirst = await phase('listFirst', {
      port: api.port,
      token,
      next: () => `${base}/entities?limit=25`,
      check: r => {
        const b = JSON.parse(r.body);
        return b.items.length === 25 && b.totalCount === n;
      },
    });
    out.listCursor = await phase('listCursor', {
      port: api.port,
      token,
      next: (c, s) =>
        `${base}/entities?limit=25${
          s.cursor ? `&cursor=${encodeURIComponent(s.cursor)}` : ''
        }`,
      check: (r, c, s) => {
        const b = JSON.parse(r.body);
        s.cursor = b.nextCursor;
        return b.items.length > 0 && b.totalCount === n;
      },
    });
    out.search = await phase('search', {
      port: api.port,
      token,
      next: (c, s) => {
        s.i = (s.i ?? 0) + 1;
        // Alternately a selective search (one service) and a broad one (1 in 7 titles).
        return s.i % 2
          ? `${base}/entities?limit=25&q=${refAt(rand(n))}`
          : `${base}/entities?limit=25&q=ledger`;
      },
      check: r => JSON.parse(r.body).items.length > 0,
    });
    out.filter = await phase('filter', {
      port: api.port,
      token,
      next: (c, s) => {
        s.i = (s.i ?? 0) + 1;
        return s.i % 2
          ? `${base}/entities?limit=25&status=non_compliant`
          : `${base}/entities?limit=25&tenant=acme-us`;
      },
      check: r => JSON.parse(r.body).items.length === 25,
    });
    // Without a token: refused (the auth is real).
    const anon = await get(
      new http.Agent(),
      api.port,
      `${base}/entities?limit=1`,
    );
    out.unauthenticatedStatus = anon.status;
    out.memory = memory;
    if (anon.status !== 401)
      throw new Error(`API without a token answered ${anon.status}`);
  } finally {
    // SIGKILL: the backend's graceful stop would reconnect (and recreate) its
    // database while it shuts down; nothing of the child needs to survive.
    const closed = new Promise(r => api.child.once('exit', r));
    api.child.kill('SIGKILL');
    const killer = setTimeout(() => api.child.kill('SIGKILL'), 30_000);
    await closed;
    clearTimeout(killer);
    await pgAdmin.destroy();
    await dropDatabase(`${prefix}residency`);
  }
  return out;
}

// ------------------------------------------------------------ query plans
/**
 * `node bench/backend.js explain`: the plans PostgreSQL picks for the API's reads at
 * BENCH_API_N rows (the same seed as section 8): the SQL is what the store sends
 * (captured from knex), run under `explain (analyze, buffers)`.
 */
async function explainPlans(n) {
  process.env.BENCH_API_N = String(n);
  const { seed } = require('./api-child');
  const {
    DatabaseResidencyStore,
  } = require('../plugins/residency-backend/src/database/DatabaseResidencyStore');
  const dbName = `residency_bench_explain_${process.pid}`;
  await createDatabase(dbName);
  const knex = require('knex')({
    client: 'pg',
    connection: `${PG}/${dbName}`,
  });
  try {
    const store = await DatabaseResidencyStore.create({
      database: { getClient: async () => knex },
    });
    await seed(knex);
    const captured = [];
    knex.on('query', q => captured.push({ sql: q.sql, bindings: q.bindings }));
    let first;
    const cases = {
      status: () =>
        store.getStatus({ entityRef: 'component:default/svc-001234' }),
      'list first page (page + count)': async () => {
        first = await store.listStatuses({ limit: 25 });
      },
      'list cursor page': () =>
        store.listStatuses({ limit: 25, cursor: first.nextCursor }),
      'search q=ledger (page + count)': () =>
        store.listStatuses({ limit: 25, q: 'ledger' }),
      'search q=svc-004321 (page + count)': () =>
        store.listStatuses({ limit: 25, q: 'svc-004321' }),
      'filter status=non_compliant': () =>
        store.listStatuses({ limit: 25, decision: 'non_compliant' }),
      'filter tenant=acme-us': () =>
        store.listStatuses({ limit: 25, tenant: 'acme-us' }),
    };
    const out = {};
    for (const [name, run] of Object.entries(cases)) {
      captured.length = 0;
      await run();
      out[name] = [];
      for (const q of [...captured]) {
        // knex reports the PostgreSQL text ($1, $2, ... in order); raw wants `?`.
        const plan = await knex.raw(
          `explain (analyze, buffers, format json) ${q.sql.replace(
            /\$\d+/g,
            '?',
          )}`,
          q.bindings,
        );
        const top = plan.rows[0]['QUERY PLAN'][0];
        const nodes = [];
        const walk = (node, depth) => {
          nodes.push(
            `${'  '.repeat(depth)}${node['Node Type']}${
              node['Index Name'] ? ` using ${node['Index Name']}` : ''
            }${
              node['Relation Name'] ? ` on ${node['Relation Name']}` : ''
            } (rows ${node['Actual Rows']}, ${node['Actual Total Time']} ms)`,
          );
          for (const c of node.Plans ?? []) walk(c, depth + 1);
        };
        walk(top.Plan, 0);
        out[name].push({
          sql: q.sql,
          executionMs: top['Execution Time'],
          planningMs: top['Planning Time'],
          plan: nodes,
        });
      }
    }
    return { n, plans: out };
  } finally {
    await knex.destroy();
    await dropDatabase(dbName);
  }
}

module.exports = {
  refreshPasses,
  replicaScaling,
  verificationThroughput,
  apiBench,
};

if (require.main === module && process.argv[2] === 'explain') {
  explainPlans(Math.max(100, Number(process.env.BENCH_API_N) || 50_000))
    .then(r => {
      for (const [name, qs] of Object.entries(r.plans)) {
        process.stdout.write(`\n## ${name} (${r.n} rows)\n`);
        for (const q of qs) {
          process.stdout.write(
            `${q.sql}\n  planning ${q.planningMs} ms, execution ${
              q.executionMs
            } ms\n${q.plan.map(l => `  ${l}`).join('\n')}\n`,
          );
        }
      }
      if (process.env.BENCH_JSON)
        require('node:fs').writeFileSync(
          process.env.BENCH_JSON,
          JSON.stringify(r, null, 2),
        );
    })
    .catch(e => {
      process.stderr.write(`bench explain: ${e?.stack ?? e}\n`);
      process.exitCode = 2;
    });
}

// `node bench/backend.js api`: section 8 alone (BENCH_API_N, BENCH_API_SECONDS),
// for the 50,000-entity scale run; prints the JSON.
if (require.main === module && process.argv[2] === 'api') {
  const os = require('node:os');
  const { mkdtempSync, rmSync } = require('node:fs');
  const dir = mkdtempSync(join(os.tmpdir(), 'residency-bench-api-'));
  const loadBefore = os.loadavg();
  apiBench(dir, Math.max(100, Number(process.env.BENCH_API_N) || 10_000), {
    clients: 50,
    seconds: Math.max(2, Number(process.env.BENCH_API_SECONDS) || 6),
  })
    .then(r => {
      const out = {
        date: new Date().toISOString(),
        loadavgBefore: loadBefore,
        loadavgAfter: os.loadavg(),
        ...r,
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      if (process.env.BENCH_JSON)
        require('node:fs').writeFileSync(
          process.env.BENCH_JSON,
          JSON.stringify(out, null, 2),
        );
    })
    .catch(e => {
      process.stderr.write(`bench api: ${e?.stack ?? e}\n`);
      process.exitCode = 2;
    })
    .finally(() => rmSync(dir, { recursive: true, force: true }));
}
