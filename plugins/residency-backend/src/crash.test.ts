/*
 * Crash test (issue 13, proof): two real backend replicas run on PostgreSQL;
 * one is killed with SIGKILL in the middle of a full refresh, and the time from
 * the kill until a full refresh cycle has completed is measured. The
 * bound is the documented one: the lease (the dead replica's claims expire)
 * plus one slice interval (min(frequency, lease, 60 s); the next slice takes
 * them over) plus the rest of the pass. Runs whenever
 * BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING is set (as in CI). The
 * measured time is printed and recorded in docs/reliability.md.
 *
 * Its first version waited 240 s in vain: the replica's config had a delta
 * schedule without `timeout`, the backend failed to start but its process
 * stayed up, and the test waited for a refresh that never came. The replica
 * now exits on a failed start, and the test prints its log on any failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';

const PG = process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING;
const describeOnPg = PG ? describe : describe.skip;

jest.setTimeout(150_000);

const LEASE_SECONDS = 15;
/** min(frequency 30 min, lease, 60 s): see ResidencyRefresher.fullTaskSchedule. */
const SLICE_SECONDS = 15;
const ENTITIES = 40;
const ENGINE_DELAY_MS = 500;
const CONCURRENCY = 2;

const T0 = Date.now();
const seconds = () => ((Date.now() - T0) / 1000).toFixed(1);

/** Every replica's output, printed when a wait times out. */
const logs: string[] = [];

async function bundleReplica(): Promise<string> {
  // esbuild is the bundler of the Backstage CLI; workspace packages are bundled
  // from source, everything else is required from node_modules at run time.
  // eslint-disable-next-line @backstage/no-undeclared-imports -- esbuild comes with @backstage/cli
  const esbuild = require('esbuild');
  const outDir = resolve(__dirname, '..', 'node_modules', '.cache', 'crash');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'replica.cjs');
  await esbuild.build({
    entryPoints: [join(__dirname, '__testUtils__', 'crash', 'replica.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    outfile,
    logLevel: 'error',
    plugins: [
      {
        name: 'externals',
        setup(build: any) {
          build.onResolve({ filter: /^[^./]/ }, (args: any) => {
            if (args.path.startsWith('@residency-dev/')) return undefined;
            // External, but by the path it resolves to from the importing
            // file: a dependency installed only under a workspace package's
            // own node_modules is not visible from the bundle's directory.
            try {
              const path = require.resolve(args.path, {
                paths: [args.resolveDir],
              });
              return { path, external: true };
            } catch {
              return { external: true };
            }
          });
        },
      },
    ],
  });
  return outfile;
}

function startReplica(options: {
  bundle: string;
  config: string;
  cwd: string;
  gate: string;
  start?: string;
  name: string;
}): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [options.bundle, '--config', options.config],
    {
      // A directory of its own: from the repository, the backend's config
      // secret scan compiles the config schemas of every workspace package
      // (~20 s per start on a loaded machine).
      cwd: options.cwd,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        GATE_FILE: options.gate,
        ...(options.start ? { START_FILE: options.start } : {}),
        // Reuses compiled code between starts (a cold start takes ~25 s on a
        // loaded 2-core machine, most of it loading modules).
        NODE_COMPILE_CACHE: join(
          __dirname,
          '..',
          'node_modules',
          '.cache',
          'crash',
          'compile',
        ),
        ENTITY_COUNT: String(ENTITIES),
        ENGINE_DELAY_MS: String(ENGINE_DELAY_MS),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolvePromise, reject) => {
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      logs.push(`[${seconds()} s] ${options.name}: ${text}`);
      if (text.includes('REPLICA_READY')) resolvePromise(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', code =>
      reject(new Error(`replica exited with ${code}: ${logs.join('')}`)),
    );
  });
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}:\n${logs.join('')}`);
    }
    await new Promise(r => setTimeout(r, 250));
  }
}

describeOnPg('crash during a full refresh (kill -9, PostgreSQL)', () => {
  const database = `residency_crash_${process.pid}_${Date.now()}`;
  let admin: Knex;
  let db: Knex;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    admin = knexFactory({ client: 'pg', connection: PG });
    await admin.raw(`create database ${database}`);
    db = knexFactory({
      client: 'pg',
      connection: `${PG}/${database}`,
      pool: { min: 0, max: 2 },
    });
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await db?.destroy();
    await admin?.raw(`drop database if exists ${database} with (force)`);
    await admin?.destroy();
  });

  it('the next full refresh completes within the lease plus one slice interval plus the rest of the pass', async () => {
    const bundle = await bundleReplica();
    const dir = mkdtempSync(join(tmpdir(), 'residency-crash-'));
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'residency-crash-replica', private: true }),
    );
    const config = join(dir, 'app-config.yaml');
    writeFileSync(
      config,
      JSON.stringify({
        backend: {
          baseUrl: 'http://127.0.0.1:7007',
          listen: { host: '127.0.0.1', port: 0 },
          database: {
            client: 'pg',
            connection: `${PG}/${database}`,
            pluginDivisionMode: 'schema',
          },
        },
        residency: {
          schedule: {
            frequency: { minutes: 30 },
            timeout: { minutes: 30 },
            initialDelay: { seconds: 1 },
          },
          deltaSchedule: {
            frequency: { minutes: 30 },
            timeout: { minutes: 5 },
            initialDelay: { minutes: 30 },
          },
          limits: {
            leaseSeconds: LEASE_SECONDS,
            entityConcurrency: CONCURRENCY,
            refreshBatchSize: 10,
          },
        },
      }),
    );
    const claims = () =>
      db
        .withSchema('residency')
        .from('residency_refresh_claims')
        .where({ lane: 'full' });
    // The end-of-cycle claim is not an entity.
    const entityClaims = () =>
      claims().where('entity_ref', 'like', 'component:%');

    // Both replicas are up before either refreshes (their catalogs wait for
    // a gate file each), as in a deployment with two replicas.
    const gateA = join(dir, 'gate-a');
    const gateB = join(dir, 'gate-b');
    // B loads its modules beside A but starts only after A: two first starts
    // on an empty database race in the scheduler's table migrations
    // (duplicate key on create table).
    const startB = join(dir, 'start-b');
    const bStarted = startReplica({
      bundle,
      config,
      cwd: dir,
      gate: gateB,
      start: startB,
      name: 'B',
    });
    bStarted.catch(() => {});
    const a = await startReplica({
      bundle,
      config,
      cwd: dir,
      gate: gateA,
      name: 'A',
    });
    writeFileSync(startB, '');
    const b = await bStarted;
    children.push(a, b);
    writeFileSync(gateA, '');
    // Mid-pass: some entities done, not all.
    await waitFor(
      'replica A to be mid-pass',
      async () => {
        const rows = await entityClaims().catch(() => []);
        const done = rows.filter((r: any) => r.done).length;
        return done >= 6 && done < ENTITIES ? done : undefined;
      },
      60_000,
    );
    a.kill('SIGKILL');
    const killedAt = Date.now();
    const atKill = await entityClaims();
    const doneAtKill = atKill.filter((r: any) => r.done).length;
    const heldAtKill = atKill.filter((r: any) => !r.done).length;
    logs.push(`[${seconds()} s] test: A killed\n`);
    // B's refresh starts now; the entities A held wait for their lease.
    writeFileSync(gateB, '');
    const cycle = await waitFor(
      'a full cycle to complete after the crash',
      async () => {
        const rows = await entityClaims();
        const byCycle = new Map<string, number>();
        for (const r of rows as any[]) {
          if (r.done)
            byCycle.set(r.cycle_id, (byCycle.get(r.cycle_id) ?? 0) + 1);
        }
        for (const [id, n] of byCycle) if (n === ENTITIES) return id;
        return undefined;
      },
      100_000,
    );
    const recoverySeconds = (Date.now() - killedAt) / 1000;
    const passSeconds = (ENTITIES * ENGINE_DELAY_MS) / CONCURRENCY / 1000;
    // eslint-disable-next-line no-console
    console.log(
      `crash test: killed with ${doneAtKill}/${ENTITIES} done and ${heldAtKill} claimed; cycle ${cycle} complete ${recoverySeconds.toFixed(
        1,
      )} s after kill -9 (lease ${LEASE_SECONDS} s, slice ${SLICE_SECONDS} s, pass ~${passSeconds} s)`,
    );
    // A margin of 10 s for a loaded machine.
    const bound = LEASE_SECONDS + SLICE_SECONDS + passSeconds + 10;
    if (recoverySeconds > bound) {
      // eslint-disable-next-line no-console
      console.log(logs.join(''));
    }
    expect(doneAtKill).toBeLessThan(ENTITIES);
    // The dead replica held claims, so the takeover waited for their lease.
    expect(heldAtKill).toBeGreaterThan(0);
    expect(recoverySeconds).toBeLessThanOrEqual(bound);
  });
});
