/*
 * Global setup of the end-to-end run. Starts and seeds real services, then returns
 * the teardown that stops every one of them (also when setup fails half way):
 *
 * 1. a docker-registry on a free loopback port (signing kit), seeded in cosign's
 *    formats with fresh keys: a resident service (signature by an in-boundary key,
 *    SLSA provenance, CycloneDX SBOM), a non-resident one (key outside the boundary,
 *    SBOM missing, declared region outside), an unsigned one (attestations only; a
 *    test signs it later), one with an unknown tenant, and an unsigned one owned by
 *    Dana (developer) that flow 11 waives by exception, and another of hers that
 *    flow 12 waives for a minute;
 * 2. fresh PostgreSQL databases for this run (prefix residency_e2e_<stamp>_);
 * 3. the production build of packages/app (rebuilt only when sources are newer);
 * 4. two backend replicas on the same database, both serving the built app:
 *    "main", whose guest holds every role, and "no-evidence", whose guest is
 *    user:default/dana-dev (a developer who owns none of the seeded services but
 *    audit-export).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import {
  cycloneDxSbom,
  generateKey,
  privateKeyPem,
  publishSignedImage,
  ResidencyConfigBuilder,
  slsaProvenanceV1,
  startTestRegistry,
  type SigningKey,
  type TestRegistry,
} from '@residency-dev/signing-kit';
import {
  api,
  guestToken,
  REPO_ROOT,
  RUN_ROOT,
  type RunKey,
  type RunService,
  type RunState,
} from './run';

/** This run's directory (e2e/.run/<ms>) and its record of started processes. */
let RUN_DIR = '';
let PIDS_FILE = '';
const log = (msg: string) => console.log(`[e2e setup] ${msg}`);
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

// ------------------------------------------------------------------ processes

/** Kills a detached process group: SIGTERM, then SIGKILL after a grace period. */
async function killGroup(child: ChildProcess, graceMs = 8000) {
  if (!child.pid || child.exitCode !== null || child.signalCode !== null)
    return;
  const gone = new Promise<void>(r => child.once('exit', () => r()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  await Promise.race([gone, sleep(graceMs)]);
  if (child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await Promise.race([gone, sleep(2000)]);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs whose runner died without its teardown (SIGKILL): stop the backends they
 * recorded (only if the pid still runs a backend with that run's config) and remove
 * their directories. Runs whose runner is alive (a colleague's run in the same tree)
 * are left alone.
 */
function cleanDeadRuns() {
  if (!existsSync(RUN_ROOT)) return;
  for (const name of readdirSync(RUN_ROOT)) {
    const dir = join(RUN_ROOT, name);
    if (!/^\d{13}$/.test(name)) {
      if (name !== 'latest') rmSync(dir, { recursive: true, force: true });
      continue;
    }
    let record: {
      runner?: number;
      backends?: number[];
      registries?: { pid: number; dir: string }[];
    } = {};
    try {
      record = JSON.parse(readFileSync(join(dir, 'pids.json'), 'utf8'));
    } catch {
      // finished run (teardown removed the record) or not started yet
    }
    if (record.runner && alive(record.runner)) continue;
    if (!record.runner && Date.now() - Number(name) < 10 * 60_000) continue;
    for (const pid of record.backends ?? []) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (cmd.includes(dir)) {
        log(`stopping leftover backend ${pid} of run ${name}`);
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    for (const reg of record.registries ?? []) {
      let cmd: string[] = [];
      try {
        cmd = readFileSync(`/proc/${reg.pid}/cmdline`, 'utf8').split('\0');
      } catch {
        // exited (e.g. SIGPIPE once its parent died)
      }
      if (
        /docker-registry$/.test(cmd[0] ?? '') &&
        cmd[2] === join(reg.dir, 'config.yml')
      ) {
        log(`stopping leftover docker-registry ${reg.pid} of run ${name}`);
        try {
          process.kill(reg.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      if (
        dirname(reg.dir) === tmpdir() &&
        /^residency-registry-\w+$/.test(basename(reg.dir))
      ) {
        rmSync(reg.dir, { recursive: true, force: true });
      }
    }
    try {
      dropDatabases(`residency_e2e_${name}_`);
    } catch {
      // PostgreSQL down: dropStaleDatabases retries on a later run
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** This process's docker-registry children (from /proc) with their storage directory. */
function registryChildren(): { pid: number; dir: string }[] {
  const out: { pid: number; dir: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
      if (!m || m[1] !== 'docker-registry' || Number(m[2]) !== process.pid)
        continue;
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      out.push({ pid: Number(entry), dir: dirname(cmd[2] ?? '') });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

// ------------------------------------------------------------------ PostgreSQL

const PG = { host: '127.0.0.1', port: '5432', user: 'postgres' };

function psql(sql: string): string {
  return execFileSync(
    'psql',
    [
      '-h',
      PG.host,
      '-p',
      PG.port,
      '-U',
      PG.user,
      '-d',
      'postgres',
      '-XAtq',
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      sql,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

/** Drops every database whose name starts with the prefix (closing their connections). */
function dropDatabases(prefix: string) {
  const names = psql(
    `SELECT datname FROM pg_database WHERE datname LIKE '${prefix.replace(
      /_/g,
      '\\_',
    )}%'`,
  )
    .split('\n')
    .map(s => s.trim())
    .filter(Boolean);
  for (const name of names) {
    psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
  return names;
}

/** Databases of e2e runs that died more than two hours ago without their teardown. */
function dropStaleDatabases() {
  const cutoff = Date.now() - 2 * 3600_000;
  const names = psql(
    `SELECT datname FROM pg_database WHERE datname LIKE 'residency\\_e2e\\_%'`,
  )
    .split('\n')
    .map(s => s.trim())
    .filter(Boolean);
  const stale = new Set<string>();
  for (const name of names) {
    const m = /^residency_e2e_(\d{13})_/.exec(name);
    if (m && Number(m[1]) < cutoff) stale.add(`residency_e2e_${m[1]}_`);
  }
  for (const prefix of stale) {
    log(`dropping stale databases ${prefix}*`);
    dropDatabases(prefix);
  }
}

// ------------------------------------------------------------------ app build

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name === 'dist' || name === 'dist-types')
      continue;
    newest = Math.max(newest, newestMtime(join(path, name)));
  }
  return newest;
}

function run(
  cmd: string,
  args: string[],
  cwd: string,
  logFile: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const fd = openSync(logFile, 'a');
    const child = spawn(cmd, args, {
      cwd,
      stdio: ['ignore', fd, fd],
      env: process.env,
    });
    child.on('error', reject);
    child.on('exit', code =>
      code === 0
        ? resolve()
        : reject(
            new Error(
              `${cmd} ${args.join(' ')} exited ${code}; see ${logFile}`,
            ),
          ),
    );
  });
}

/** Builds packages/app (production bundle) when dist is missing or older than its sources. */
async function ensureAppBuilt() {
  const appDir = join(REPO_ROOT, 'packages', 'app');
  const builtAt = newestMtime(join(appDir, 'dist', 'index.html'));
  const sources = [
    join(appDir, 'src'),
    join(appDir, 'public'),
    join(appDir, 'package.json'),
    join(REPO_ROOT, 'plugins', 'residency', 'src'),
    join(REPO_ROOT, 'plugins', 'residency', 'package.json'),
    join(REPO_ROOT, 'plugins', 'residency-common', 'src'),
  ];
  const newest = Math.max(...sources.map(newestMtime));
  if (builtAt > newest && process.env.E2E_REBUILD !== '1') {
    log('packages/app/dist is up to date');
    return;
  }
  log('building packages/app (production bundle)...');
  const started = Date.now();
  const cli = join(
    REPO_ROOT,
    'node_modules',
    '@backstage',
    'cli',
    'bin',
    'backstage-cli',
  );
  // flock: another engineer's run may build the same dist at the same moment.
  await run(
    'flock',
    [
      '/tmp/residency-app-build.lock',
      process.execPath,
      cli,
      'package',
      'build',
    ],
    appDir,
    join(RUN_DIR, 'app-build.log'),
  );
  log(`built packages/app in ${Math.round((Date.now() - started) / 1000)} s`);
}

// ------------------------------------------------------------------ seeding

function writeKey(
  name: string,
  key: SigningKey,
  id: string,
  region: string,
): RunKey {
  const dir = join(RUN_DIR, 'keys');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const publicKeyFile = join(dir, `${name}.pub.pem`);
  const privateKeyFile = join(dir, `${name}.key.pem`);
  writeFileSync(publicKeyFile, key.publicKeyPem);
  writeFileSync(privateKeyFile, privateKeyPem(key), { mode: 0o600 });
  return { id, region, publicKeyFile, privateKeyFile };
}

const TENANT = 'acme-sovereign';
const REGION = 'eusc-de-east-1';

async function seed(registry: TestRegistry) {
  const euKey = generateKey('ecdsa-p256');
  const usKey = generateKey('ecdsa-p256');
  const keys = {
    eu: writeKey(
      'eu',
      euKey,
      `awskms:///arn:aws-eusc:kms:${REGION}:111122223333:alias/e2e-release`,
      REGION,
    ),
    us: writeKey(
      'us',
      usKey,
      'awskms:///arn:aws:kms:us-east-1:111122223333:alias/e2e-us-build',
      'us-east-1',
    ),
    // The portal's own VSA signing key (a PEM file in the boundary's region), pinned in
    // residency.keys as well, as the README's VSA section says.
    vsa: writeKey(
      'portal-vsa',
      generateKey('ecdsa-p256'),
      'residency-portal-vsa',
      REGION,
    ),
  };
  const target = { registry: registry.host };
  const svc = (
    name: string,
    title: string,
    tenant: string,
    region: string,
  ): RunService => ({
    name,
    title,
    repository: `acme/${name}`,
    tag: '1.0.0',
    image: `${registry.host}/acme/${name}:1.0.0`,
    tenant,
    region,
  });
  const services = {
    resident: svc('payments-api', 'Payments API', TENANT, REGION),
    nonResident: svc('ledger-sync', 'Ledger Sync', TENANT, 'us-east-1'),
    unsigned: svc('billing-worker', 'Billing Worker', TENANT, REGION),
    unknownTenant: svc('orders-web', 'Orders Web', 'acme-moon', REGION),
    // Owned by Dana (developer), who requests an exception for it (flow 11).
    byException: {
      ...svc('audit-export', 'Audit Export', TENANT, REGION),
      owner: 'user:default/dana-dev',
    },
    // Owned by Dana too; flow 12 waives it briefly and sees the exception expire.
    expiring: {
      ...svc('consent-log', 'Consent Log', TENANT, REGION),
      owner: 'user:default/dana-dev',
    },
  };
  const provenance = slsaProvenanceV1();
  const sbom = cycloneDxSbom();

  // Resident: signature by the in-boundary key, SLSA provenance and SBOM.
  await publishSignedImage({
    target,
    repository: services.resident.repository,
    tag: services.resident.tag,
    key: euKey,
    attestations: [provenance, sbom],
  });
  // Not resident: signed and attested by a key in us-east-1, no SBOM, declared in us-east-1.
  await publishSignedImage({
    target,
    repository: services.nonResident.repository,
    tag: services.nonResident.tag,
    key: usKey,
    attestations: [
      slsaProvenanceV1({
        builderId: 'https://ci.us.example.com/builders/us-east-1',
      }),
    ],
  });
  // Unsigned: attestations by the in-boundary key, no signature yet (flow 5 adds it).
  await publishSignedImage({
    target,
    repository: services.unsigned.repository,
    tag: services.unsigned.tag,
    key: euKey,
    signatures: [],
    attestations: [provenance, sbom],
  });
  // Waived by an exception in flow 11: attestations by the in-boundary key, no signature.
  await publishSignedImage({
    target,
    repository: services.byException.repository,
    tag: services.byException.tag,
    key: euKey,
    signatures: [],
    attestations: [provenance, sbom],
  });
  // Waived for a minute in flow 12: attestations by the in-boundary key, no signature.
  await publishSignedImage({
    target,
    repository: services.expiring.repository,
    tag: services.expiring.tag,
    key: euKey,
    signatures: [],
    attestations: [provenance, sbom],
  });
  // Unknown tenant: everything in order except the tenant.
  await publishSignedImage({
    target,
    repository: services.unknownTenant.repository,
    tag: services.unknownTenant.tag,
    key: euKey,
    attestations: [provenance, sbom],
  });
  return { keys, services };
}

// ------------------------------------------------------------------ config

/** Name of the seeded component without residency annotations. */
const PLAIN_SERVICE = 'plain-service';

function entitiesYaml(services: Record<string, RunService>): string {
  const docs = [
    `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-payments
  description: Owns the end-to-end test services (none of the demo users is a member).
spec:
  type: team
  children: []`,
  ];
  // A service that has not onboarded: no residency annotations (flow 7).
  docs.push(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${PLAIN_SERVICE}
  title: Plain service
spec:
  type: service
  lifecycle: production
  owner: group:default/team-payments`);
  for (const s of Object.values(services)) {
    docs.push(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${s.name}
  title: ${s.title}
  annotations:
    residency.dev/images: ${JSON.stringify(s.image)}
    residency.dev/tenant: ${s.tenant}
    residency.dev/region: ${s.region}
spec:
  type: service
  lifecycle: production
  owner: ${s.owner ?? 'group:default/team-payments'}`);
  }
  return `${docs.join('\n---\n')}\n`;
}

/** The demo users of examples/org.yaml, one per role (developer, auditor, platform owner, DPO). */
const DEMO_USERS = [
  'user:default/dana-dev',
  'user:default/ali-auditor',
  'user:default/pat-platform',
  'user:default/dora-dpo',
];

function appConfig(opts: {
  port: number;
  prefix: string;
  registryHost: string;
  keys: { eu: RunKey; us: RunKey; vsa: RunKey };
  guest: { user: string; ownership: string[] };
  /** The portal's address people use (the main replica), for links in alerts. */
  portalUrl: string;
}): string {
  const url = `http://127.0.0.1:${opts.port}`;
  const config = {
    app: {
      title: 'Residency',
      baseUrl: url,
      // as in app-config.yaml: the residency summary card first on the overview
      extensions: ['entity-card:residency/summary'],
    },
    organization: { name: 'Residency e2e' },
    backend: {
      baseUrl: url,
      listen: { port: opts.port, host: '127.0.0.1' },
      csp: { 'connect-src': ["'self'", 'http:', 'https:'] },
      cors: {
        origin: url,
        methods: ['GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'DELETE'],
        credentials: true,
      },
      database: {
        client: 'pg',
        connection: {
          host: PG.host,
          port: Number(PG.port),
          user: PG.user,
          password: '',
        },
        // One database per plugin, all under this run's prefix; dropped in teardown.
        prefix: opts.prefix,
      },
    },
    auth: {
      providers: {
        guest: {
          userEntityRef: opts.guest.user,
          ownershipEntityRefs: opts.guest.ownership,
          dangerouslyAllowOutsideDevelopment: true,
        },
        // one demo user per role, as in app-config.yaml
        demo: {
          users: DEMO_USERS,
          dangerouslyAllowOutsideDevelopment: true,
        },
      },
    },
    catalog: {
      rules: [
        {
          allow: [
            'Component',
            'System',
            'API',
            'Resource',
            'Location',
            'Group',
            'User',
          ],
        },
      ],
      locations: [
        { type: 'file', target: join(RUN_DIR, 'entities.yaml') },
        {
          type: 'file',
          target: join(REPO_ROOT, 'examples', 'org.yaml'),
          rules: [{ allow: ['User', 'Group'] }],
        },
      ],
    },
    permission: { enabled: true },
    // as in app-config.yaml: signals travel between the two replicas on the event bus
    events: { useEventBus: 'always' },
    residency: ResidencyConfigBuilder.create()
      .boundary('eu-sovereign', [REGION])
      .registry({ host: opts.registryHost, region: REGION, insecure: true })
      .key({
        id: opts.keys.eu.id,
        publicKeyFile: opts.keys.eu.publicKeyFile,
        validFrom: '2026-01-01T00:00:00Z',
        validUntil: '2036-01-01T00:00:00Z',
      })
      .key({
        id: opts.keys.us.id,
        publicKeyFile: opts.keys.us.publicKeyFile,
        validFrom: '2026-01-01T00:00:00Z',
        validUntil: '2036-01-01T00:00:00Z',
      })
      .key({
        id: opts.keys.vsa.id,
        region: opts.keys.vsa.region,
        publicKeyFile: opts.keys.vsa.publicKeyFile,
      })
      .tenant(TENANT, {
        boundary: 'eu-sovereign',
        require: ['signature', 'provenance', 'sbom'],
      })
      .backend({
        schedule: {
          frequency: { minutes: 10 },
          timeout: { minutes: 5 },
          initialDelay: { seconds: 2 },
        },
        deltaSchedule: {
          frequency: { seconds: 10 },
          timeout: { minutes: 2 },
          initialDelay: { seconds: 3 },
        },
        // Realistic: a verified digest is trusted for a while; Refresh must verify now anyway.
        revalidateAfter: { minutes: 30 },
        // Flow 12 sees an exception expire: the pass that expires exceptions runs
        // every 5 s instead of every minute.
        exceptions: {
          schedule: {
            frequency: { seconds: 5 },
            timeout: { minutes: 1 },
            initialDelay: { seconds: 5 },
          },
        },
        // Alerts link to the Residency tab of the portal and also go to the DPO group.
        alerts: {
          baseUrl: opts.portalUrl,
          recipients: { [TENANT]: ['group:default/dpo'] },
        },
        // Signed SLSA VSAs of every decided image (served, not published: flows 2 and 5
        // read the registry as seeded).
        vsa: {
          verifierId: url,
          evidenceBaseUrl: `${url}/api/residency/evidence`,
          signingKey: {
            file: opts.keys.vsa.privateKeyFile,
            region: opts.keys.vsa.region,
          },
        },
      })
      .build(),
  };
  // JSON is YAML.
  return `# Written by e2e/support/globalSetup.ts for one run; do not edit.\n${JSON.stringify(
    config,
    null,
    2,
  )}\n`;
}

// ------------------------------------------------------------------ backends

interface Backend {
  name: string;
  url: string;
  child: ChildProcess;
  logFile: string;
}

function startBackend(name: string, configFile: string, port: number): Backend {
  const backendDir = join(REPO_ROOT, 'packages', 'backend');
  const logFile = join(RUN_DIR, `backend-${name}.log`);
  const fd = openSync(logFile, 'w');
  // What `backstage-cli package start` runs, without its file watcher (others edit
  // the tree while tests run; a restart mid-test would be a false failure).
  const child = spawn(
    process.execPath,
    [
      '--enable-source-maps',
      '--require',
      require.resolve('@backstage/cli-node/config/nodeTransform.cjs', {
        paths: [REPO_ROOT],
      }),
      'src/index.ts',
      '--config',
      configFile,
    ],
    {
      cwd: backendDir,
      detached: true,
      stdio: ['ignore', fd, fd],
      env: {
        ...process.env,
        NODE_ENV: 'production',
        ESBK_TSCONFIG_PATH: join(REPO_ROOT, 'tsconfig.json'),
      },
    },
  );
  return { name, url: `http://127.0.0.1:${port}`, child, logFile };
}

/** The first plugin startup error in a backend log, if any. */
function startupFailure(logFile: string): string | undefined {
  const text = readFileSync(logFile, 'utf8');
  const line = text
    .split('\n')
    .find(l => l.includes('threw an error during startup'));
  if (!line) return undefined;
  try {
    return String(JSON.parse(line).message);
  } catch {
    return line.slice(0, 500);
  }
}

async function waitForBackend(b: Backend, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (b.child.exitCode !== null || b.child.signalCode !== null) {
      throw new Error(
        `backend "${b.name}" exited (${
          b.child.exitCode ?? b.child.signalCode
        }); see ${b.logFile}`,
      );
    }
    const failure = startupFailure(b.logFile);
    if (failure) {
      throw new Error(
        `backend "${b.name}" failed to start: ${failure} (see ${b.logFile})`,
      );
    }
    try {
      const res = await fetch(`${b.url}/api/catalog/entities?limit=1`);
      await res.arrayBuffer();
      if (res.status === 401) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(
        `backend "${b.name}" not ready in time; see ${b.logFile}`,
      );
    await sleep(500);
  }
}

async function waitForCatalog(
  url: string,
  names: string[],
  timeoutMs = 90_000,
) {
  const deadline = Date.now() + timeoutMs;
  const token = await guestToken(url);
  for (;;) {
    const { status, body } = await api(
      url,
      '/api/catalog/entities?filter=kind=component&fields=metadata.name',
      { token },
    );
    const found =
      status === 200 && Array.isArray(body)
        ? body.map((e: any) => e.metadata?.name)
        : [];
    if (names.every(n => found.includes(n))) return token;
    if (Date.now() > deadline)
      throw new Error(
        `catalog did not list ${names.join(', ')} in time (has: ${found.join(
          ', ',
        )})`,
      );
    await sleep(1000);
  }
}

// ------------------------------------------------------------------ setup

export default async function globalSetup(): Promise<() => Promise<void>> {
  const started = Date.now();
  cleanDeadRuns();
  const stamp = Date.now();
  RUN_DIR = join(RUN_ROOT, String(stamp));
  PIDS_FILE = join(RUN_DIR, 'pids.json');
  mkdirSync(RUN_DIR, { recursive: true });
  process.env.E2E_RUN_DIR = RUN_DIR; // inherited by the test workers
  try {
    rmSync(join(RUN_ROOT, 'latest'), { force: true });
    symlinkSync(String(stamp), join(RUN_ROOT, 'latest'));
  } catch {
    // a concurrent run took the name: only a convenience
  }

  const backends: Backend[] = [];
  let registry: TestRegistry | undefined;
  const prefix = `residency_e2e_${stamp}_`;
  let databasesUsed = false;

  const registryPids: { pid: number; dir: string }[] = [];
  const recordPids = () =>
    writeFileSync(
      PIDS_FILE,
      JSON.stringify({
        runner: process.pid,
        backends: backends.map(b => b.child.pid),
        registries: registryPids,
      }),
    );
  const teardown = async () => {
    const t = Date.now();
    await Promise.all(backends.map(b => killGroup(b.child)));
    await registry?.stop();
    if (databasesUsed) {
      try {
        const dropped = dropDatabases(prefix);
        log(`dropped ${dropped.length} databases ${prefix}*`);
      } catch (e) {
        console.error(
          `[e2e teardown] could not drop databases ${prefix}*: ${
            (e as Error).message
          }`,
        );
      }
    }
    rmSync(join(RUN_DIR, 'keys'), { recursive: true, force: true });
    rmSync(PIDS_FILE, { force: true });
    log(`teardown done in ${Date.now() - t} ms`);
  };
  // Ctrl-C or a crash of the runner: never leave backends behind.
  const onExit = () => {
    for (const b of backends) {
      try {
        if (b.child.pid && b.child.exitCode === null)
          process.kill(-b.child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };
  process.once('exit', onExit);

  try {
    const [, seeded] = await Promise.all([
      ensureAppBuilt(),
      (async () => {
        registry = await startTestRegistry();
        registryPids.push(...registryChildren());
        recordPids();
        log(`docker-registry on ${registry.host}`);
        const s = await seed(registry);
        log(
          `seeded ${
            Object.keys(s.services).length
          } images with cosign signatures and attestations`,
        );
        return s;
      })(),
    ]);
    const { keys, services } = seeded;
    writeFileSync(join(RUN_DIR, 'entities.yaml'), entitiesYaml(services));

    dropStaleDatabases();
    databasesUsed = true;

    const [mainPort, danaPort] = [await freePort(), await freePort()];
    const common = {
      prefix,
      registryHost: registry!.host,
      keys,
      // one address in alerts, whichever replica sends them
      portalUrl: `http://127.0.0.1:${mainPort}`,
    };
    const mainConfig = join(RUN_DIR, 'app-config.e2e.yaml');
    writeFileSync(
      mainConfig,
      appConfig({
        ...common,
        port: mainPort,
        guest: {
          user: 'user:default/guest',
          ownership: [
            'user:default/guest',
            'group:default/developers',
            'group:default/auditors',
            'group:default/platform-owners',
          ],
        },
      }),
    );
    const danaConfig = join(RUN_DIR, 'app-config.e2e-no-evidence.yaml');
    writeFileSync(
      danaConfig,
      appConfig({
        ...common,
        port: danaPort,
        guest: {
          user: 'user:default/dana-dev',
          ownership: ['user:default/dana-dev'],
        },
      }),
    );

    // The first replica runs the migrations alone; the second joins the same databases.
    const main = startBackend('main', mainConfig, mainPort);
    backends.push(main);
    recordPids();
    await waitForBackend(main);
    log(
      `backend "main" ready on ${main.url} after ${Math.round(
        (Date.now() - started) / 1000,
      )} s`,
    );
    const dana = startBackend('no-evidence', danaConfig, danaPort);
    backends.push(dana);
    recordPids();

    const names = Object.values(services).map(s => s.name);
    const token = await waitForCatalog(main.url, names);
    log('catalog lists the seeded services');

    // Seed statuses through the backend API (the scheduler would get there too).
    const probe = await api(main.url, '/api/residency/entities?limit=1');
    const residencyApi = probe.status !== 404;
    if (residencyApi) {
      for (const s of Object.values(services)) {
        const r = await api(
          main.url,
          `/api/residency/entities/component/default/${s.name}/refresh`,
          {
            token,
            method: 'POST',
          },
        );
        log(
          `refresh ${s.name}: ${r.status} ${
            r.body?.decision ?? JSON.stringify(r.body).slice(0, 200)
          }`,
        );
      }
    } else {
      log('no /api/residency on the backend yet: residency flows will fail');
    }
    await waitForBackend(dana);
    log(`backend "no-evidence" ready on ${dana.url}`);

    const state: RunState = {
      registry: { host: registry!.host, url: registry!.url },
      mainUrl: main.url,
      noEvidenceUrl: dana.url,
      databasePrefix: prefix,
      residencyApi,
      keys,
      services,
    };
    writeFileSync(join(RUN_DIR, 'state.json'), JSON.stringify(state, null, 2));
    log(`ready in ${Math.round((Date.now() - started) / 1000)} s`);
  } catch (e) {
    console.error(`[e2e setup] failed: ${(e as Error).message}`);
    await teardown();
    throw e;
  }
  return async () => {
    await teardown();
    process.removeListener('exit', onExit);
  };
}
