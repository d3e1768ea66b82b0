/*
 * Child process of the API measurement: the real Backstage backend
 * (`createBackend()` of @backstage/backend-defaults: real HTTP router, real auth with
 * a static service token from `backend.auth.externalAccess`, real httpAuth, real
 * database service on PostgreSQL) with the residency plugin, and the catalog replaced
 * by an in-memory map of the seeded entities (the catalog is another plugin; its cost
 * is not what is measured). `N` status rows are written straight into the plugin's
 * table in the shape `recordEvaluation` writes (a ~2 KB `detail` each), after the
 * plugin migrated its database. The scheduled refreshes are delayed by an hour, so
 * nothing else runs. Beside it, on another port of the same process, a bare
 * `node:http` server answers a fixed page of the same size: the floor.
 *
 * Input (argv[2], JSON): { n, pg, prefix, token }. Prints `BENCH-READY <json>` when
 * ready: { port, floorPort, refs: [a few refs] }, then serves until killed.
 */
'use strict';

const http = require('node:http');
const { readFileSync } = require('node:fs');
require('@backstage/cli-node/config/nodeTransform.cjs');

const { createBackend } = require('@backstage/backend-defaults');
const {
  coreServices,
  createServiceFactory,
} = require('@backstage/backend-plugin-api');
const { ConfigReader } = require('@backstage/config');
const { catalogServiceRef } = require('@backstage/plugin-catalog-node');
const knexFactory = require('knex');

const input =
  require.main === module
    ? JSON.parse(readFileSync(process.argv[2], 'utf8'))
    : { n: Number(process.env.BENCH_API_N) || 10_000 };
const N = input.n;
const refOf = i => `component:default/svc-${String(i).padStart(6, '0')}`;
const DECISIONS = ['compliant', 'compliant', 'compliant', 'non_compliant'];

function entityOf(ref) {
  const name = ref.slice('component:default/'.length);
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, namespace: 'default' },
    spec: {},
  };
}

/** The catalog as a map lookup (only the calls the API makes). */
function catalogStandIn() {
  const known = new Set(Array.from({ length: N }, (_, i) => refOf(i)));
  const norm = r => String(r).toLocaleLowerCase('en-US');
  return {
    async getEntityByRef(ref) {
      const r = typeof ref === 'string' ? norm(ref) : undefined;
      return r && known.has(r) ? entityOf(r) : undefined;
    },
    async getEntitiesByRefs(request) {
      return {
        items: request.entityRefs.map(r =>
          known.has(norm(r)) ? entityOf(norm(r)) : null,
        ),
      };
    },
    async *streamEntities() {
      // The refresh is not measured here (and delayed by an hour).
    },
  };
}

function detailOf(i, ref, decision) {
  const digest = `sha256:${String(i).padStart(64, '0')}`;
  return {
    entityRef: ref,
    tenant: 'acme-eu',
    boundary: { name: 'eu-sovereign', regions: ['eusc-de-east-1'] },
    decision,
    reasons: [],
    images: [
      {
        reference: `registry.eu.example.com/shop/svc-${i}:v1`,
        digest,
        decision,
        reasons:
          decision === 'compliant'
            ? []
            : [
                {
                  code: 'key_outside_boundary',
                  message: 'Signed only by a key outside the boundary.',
                },
              ],
        signatures: [
          {
            verified: true,
            source: 'cosign-tag',
            key: {
              id: 'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/0c7a0000-1111-2222-3333-444455556666',
              region: 'eusc-de-east-1',
            },
          },
        ],
        attestations: ['slsa-provenance', 'cyclonedx'].map(kind => ({
          kind,
          verified: true,
          predicateType: `https://example.com/${kind}/v1`,
          key: { id: 'eu-key', region: 'eusc-de-east-1' },
        })),
        verifiedAt: new Date().toISOString(),
      },
    ],
    policyHash: 'p'.repeat(64),
    trustHash: 't'.repeat(64),
    engineVersion: 'bench',
    checkedAt: new Date().toISOString(),
  };
}

async function seed(knex) {
  // In chunks of 1,000 rows, so the seeding does not set the process's peak RSS.
  for (let start = 0; start < N; start += 1000) {
    await knex('residency_entity_status').insert(
      seedRows(start, Math.min(N, start + 1000)),
    );
  }
  // The steady state autovacuum keeps: statistics, visibility map, GIN pending lists merged.
  await knex.raw('vacuum analyze residency_entity_status');
}

function seedRows(from, to) {
  const rows = [];
  for (let i = from; i < to; i++) {
    const ref = refOf(i);
    const decision = DECISIONS[i % DECISIONS.length];
    const detail = detailOf(i, ref, decision);
    rows.push({
      entity_ref: ref,
      title: `Service ${i} ${i % 7 === 0 ? 'Ledger' : 'Shop'}`,
      tenant: i % 10 === 0 ? 'acme-us' : 'acme-eu',
      declared_region: 'eusc-de-east-1',
      decision,
      stale: false,
      reason_codes: JSON.stringify(
        decision === 'compliant' ? [] : ['key_outside_boundary'],
      ),
      images: JSON.stringify(detail.images.map(x => x.reference)),
      inputs_hash: 'h'.repeat(64),
      evidence_key: 'k'.repeat(64),
      evidence_id: `e${String(i).padStart(63, '0')}`,
      detail: JSON.stringify(detail),
      last_attempt: null,
      checked_at: detail.checkedAt,
      last_verified_at: new Date(),
    });
  }
  return rows;
}

/** This process's CPU time (ms) and memory; with `gc`, after a full collection. */
function usage(gc) {
  if (gc) global.gc?.();
  const cpu = process.cpuUsage();
  const m = process.memoryUsage();
  return {
    cpuMs: (cpu.user + cpu.system) / 1000,
    rss: m.rss,
    heapUsed: m.heapUsed,
    maxRss: process.resourceUsage().maxRSS * 1024,
    gc: Boolean(gc && global.gc),
  };
}

let profiler;
/**
 * The parent's control calls on the floor port (never on the backend's):
 * `/__bench/usage[?gc=1]`, `/__bench/prof/start`, `/__bench/prof/stop?file=<path>`
 * (a CPU profile of one phase, written where the parent says).
 */
async function control(url) {
  const u = new URL(url, 'http://x');
  if (u.pathname === '/__bench/usage') return usage(u.searchParams.has('gc'));
  const post = (method, params) =>
    new Promise((resolve, reject) =>
      profiler.post(method, params ?? {}, (err, r) =>
        err ? reject(err) : resolve(r),
      ),
    );
  if (u.pathname === '/__bench/prof/start') {
    const inspector = require('node:inspector');
    profiler = new inspector.Session();
    profiler.connect();
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 250 });
    await post('Profiler.start');
    return { started: true };
  }
  if (u.pathname === '/__bench/prof/stop') {
    const { profile } = await post('Profiler.stop');
    require('node:fs').writeFileSync(
      u.searchParams.get('file'),
      JSON.stringify(profile),
    );
    profiler.disconnect();
    profiler = undefined;
    return { written: true };
  }
  throw new Error(`unknown control ${u.pathname}`);
}

async function main() {
  const port = 20000 + (process.pid % 20000);
  const config = {
    app: { baseUrl: `http://localhost:${port}` },
    backend: {
      baseUrl: `http://localhost:${port}`,
      listen: { port, host: '127.0.0.1' },
      database: {
        client: 'pg',
        connection: input.pg,
        prefix: input.prefix,
      },
      auth: {
        externalAccess: [
          {
            type: 'static',
            options: { token: input.token, subject: 'bench-client' },
          },
        ],
      },
    },
    permission: { enabled: false },
    residency: {
      boundaries: { 'eu-sovereign': ['eusc-de-east-1'] },
      registries: [
        { host: 'registry.eu.example.com', region: 'eusc-de-east-1' },
      ],
      keys: [],
      tenants: { 'acme-eu': { boundary: 'eu-sovereign', require: [] } },
      schedule: {
        frequency: { hours: 2 },
        timeout: { minutes: 30 },
        initialDelay: { hours: 1 },
      },
      deltaSchedule: {
        frequency: { hours: 2 },
        timeout: { minutes: 5 },
        initialDelay: { hours: 1 },
      },
    },
  };
  const backend = createBackend();
  backend.add(
    createServiceFactory({
      service: coreServices.rootConfig,
      deps: {},
      factory: () => new ConfigReader(config),
    }),
  );
  backend.add(
    createServiceFactory({
      service: catalogServiceRef,
      deps: {},
      factory: () => catalogStandIn(),
    }),
  );
  backend.add(require('@residency-dev/plugin-residency-backend'));
  await backend.start();

  // The plugin migrated its database on start; seed its status table.
  const knex = knexFactory({
    client: 'pg',
    connection: `${input.pg}/${input.prefix}residency`,
  });
  await seed(knex);
  await knex.destroy();

  // The floor: a bare node:http server answering a fixed page of the same size.
  const page = JSON.stringify({
    items: Array.from({ length: 25 }, (_, i) => ({
      entityRef: refOf(i),
      title: `Service ${i} Shop`,
      tenant: 'acme-eu',
      declaredRegion: 'eusc-de-east-1',
      decision: 'compliant',
      stale: false,
      reasonCodes: [],
      images: [`registry.eu.example.com/shop/svc-${i}:v1`],
      checkedAt: new Date().toISOString(),
      lastVerifiedAt: new Date().toISOString(),
    })),
    nextCursor: 'x'.repeat(80),
    totalCount: N,
  });
  const floor = http.createServer((req, res) => {
    if (req.url.startsWith('/__bench/')) {
      control(req.url).then(
        body => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        },
        e => {
          res.writeHead(500);
          res.end(String(e?.stack ?? e));
        },
      );
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(page),
    });
    res.end(page);
  });
  await new Promise(r => floor.listen(0, '127.0.0.1', r));
  process.stdout.write(
    `BENCH-READY ${JSON.stringify({
      port,
      floorPort: floor.address().port,
      refs: [refOf(0), refOf(Math.floor(N / 2)), refOf(N - 1)],
    })}\n`,
  );
}

if (require.main === module) {
  main().catch(e => {
    process.stderr.write(`api-child: ${e?.stack ?? e}\n`);
    process.exit(2);
  });
}

module.exports = { seed };
