/*
 * The backend fault suite (issue 13, proof): the real refresher, the real store
 * (SQLite and PostgreSQL) and the real engine, against a real docker-registry
 * reached through two origins of the signing kit's fault-injecting proxy: one
 * registry that misbehaves and another that stays healthy. For each fault, one
 * refresh cycle after a good one must show: the reason code in the status the
 * API serves (`lastAttempt.reasons`), the last good evidence kept and marked
 * stale, the other registry's entity verified in the same cycle, and nothing
 * judged compliant on the faulty registry. docs/reliability.md lists the cases.
 */
import { execFileSync } from 'node:child_process';
import { ConfigReader } from '@backstage/config';
import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import {
  createArtifactSource,
  DefaultResidencyEngine,
  loadResidencySettings,
  type ClosableArtifactSource,
} from '@residency-dev/plugin-residency-node';
import {
  generateKey,
  publishSignedImage,
  startFaultProxy,
  startTestRegistry,
  type FaultProxy,
  type FaultRule,
  type TestRegistry,
} from '@residency-dev/signing-kit';
import { DatabaseResidencyStore } from '../database/DatabaseResidencyStore';
import { makeEntity, visibilityCatalog } from '../__testUtils__/harness';
import { EntityEvaluator } from './EntityEvaluator';
import { ResidencyRefresher } from './ResidencyRefresher';

jest.setTimeout(60_000);

const EU_REGION = 'eusc-de-east-1';
const EU_KEY_ID =
  'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/0c7a0000-1111-2222-3333-444455556666';
const MANIFEST = /\/manifests\/v1$/;
const BLOB = /\/blobs\/sha256:/;
const FAULTY_REF = 'component:default/on-faulty';
const HEALTHY_REF = 'component:default/on-healthy';

function hasRegistryBinary() {
  try {
    execFileSync('which', ['docker-registry'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

/** One row per fault: the proxy rules and the reason the status must carry. */
const FAULTS: Array<{
  name: string;
  rules: (other: FaultProxy) => FaultRule[];
  code: string;
}> = [
  {
    name: 'refused connections',
    rules: () => [{ fault: { kind: 'refuse' } }],
    code: 'registry_unreachable',
  },
  {
    name: 'reset mid-body of the image manifest',
    rules: () => [
      { path: MANIFEST, fault: { kind: 'reset-mid-body', afterBytes: 10 } },
    ],
    code: 'registry_unreachable',
  },
  {
    name: 'stall after headers',
    rules: () => [{ path: MANIFEST, fault: { kind: 'stall-headers' } }],
    code: 'registry_unreachable',
  },
  ...[500, 502, 503].map(status => ({
    name: `${status} on the image manifest`,
    rules: (): FaultRule[] => [
      { path: MANIFEST, fault: { kind: 'status', status } },
    ],
    code: 'registry_unreachable',
  })),
  {
    name: '429 with Retry-After in seconds (beyond the cap)',
    rules: () => [
      {
        fault: {
          kind: 'status',
          status: 429,
          headers: { 'retry-after': '3600' },
        },
      },
    ],
    code: 'rate_limited',
  },
  {
    name: '429 with Retry-After as an HTTP date (beyond the cap)',
    rules: () => [
      {
        fault: {
          kind: 'status',
          status: 429,
          headers: {
            'retry-after': new Date(Date.now() + 3_600_000).toUTCString(),
          },
        },
      },
    ],
    code: 'rate_limited',
  },
  {
    name: 'lying Docker-Content-Digest',
    rules: () => [
      {
        path: MANIFEST,
        fault: { kind: 'lying-digest', digest: `sha256:${'0'.repeat(64)}` },
      },
    ],
    code: 'digest_mismatch',
  },
  {
    name: 'redirect of a layer to another host',
    rules: other => [
      {
        path: BLOB,
        fault: { kind: 'redirect', location: `${other.url}/elsewhere` },
      },
    ],
    code: 'registry_unreachable',
  },
  {
    name: 'bearer realm on another host',
    rules: other => [
      {
        path: MANIFEST,
        fault: {
          kind: 'bearer-realm',
          realm: `http://localhost:${other.port}/token`,
        },
      },
    ],
    code: 'registry_auth',
  },
];

(hasRegistryBinary() ? describe : describe.skip)(
  'registry faults through the backend (real refresher, store and engine)',
  () => {
    let registry: TestRegistry;
    let faulty: FaultProxy;
    let healthy: FaultProxy;
    let foreign: FaultProxy;
    let source: ClosableArtifactSource;
    let engine: DefaultResidencyEngine;

    beforeAll(async () => {
      registry = await startTestRegistry();
      // Two registries as the refresher sees them: two origins (host:port).
      faulty = await startFaultProxy({ target: registry.url });
      healthy = await startFaultProxy({ target: registry.url });
      // A third origin, outside the allow-list: redirect and realm target.
      foreign = await startFaultProxy({ target: registry.url });
      const key = generateKey('ecdsa-p256');
      for (const [proxy, repository] of [
        [faulty, 'faults/app'],
        [healthy, 'faults/other'],
      ] as const) {
        await publishSignedImage({
          target: { registry: registry.url },
          repository,
          tag: 'v1',
          dockerReference: `${proxy.host}/${repository}`,
          image: { deterministic: false },
          key,
        });
      }
      const settings = loadResidencySettings(
        new ConfigReader({
          residency: {
            boundaries: { 'eu-sovereign': [EU_REGION] },
            registries: [faulty, healthy].map(p => ({
              host: p.host,
              region: EU_REGION,
              insecure: true,
            })),
            keys: [{ id: EU_KEY_ID, publicKey: key.publicKeyPem }],
            tenants: {
              'acme-eu': { boundary: 'eu-sovereign', require: ['signature'] },
            },
          },
        }),
      );
      source = createArtifactSource({
        // Credentials on the faulty registry: a bearer challenge is answered
        // only where they could be sent, so the foreign realm case is real.
        registries: settings.registries.map(r =>
          r.host === faulty.host
            ? { ...r, credentials: { username: 'ci', password: 'secret' } }
            : r,
        ),
        // Short timeouts and a 2.5 s Retry-After cap keep each case short.
        fetchOptions: {
          connectTimeoutMs: 500,
          headersTimeoutMs: 500,
          bodyIdleTimeoutMs: 500,
          totalTimeoutMs: 4_000,
          imageTimeoutMs: 8_000,
          maxAttempts: 2,
          baseDelayMs: 20,
          maxDelayMs: 50,
          retryAfterCapMs: 2_500,
        },
      });
      engine = DefaultResidencyEngine.create({ settings, source });
    }, 60_000);

    afterAll(async () => {
      await engine?.close();
      await source?.close();
      await faulty?.close();
      await healthy?.close();
      await foreign?.close();
      await registry?.stop();
    });

    describe.each(databases.eachSupportedId())('on %p', databaseId => {
      let store: DatabaseResidencyStore;
      let refresher: ResidencyRefresher;

      beforeAll(async () => {
        const knex = await databases.init(databaseId);
        store = await DatabaseResidencyStore.create({
          database: mockServices.database({ knex }),
        });
        refresher = ResidencyRefresher.create({
          catalog: visibilityCatalog([
            makeEntity('on-faulty', {
              images: `${faulty.host}/faults/app:v1`,
              tenant: 'acme-eu',
            }),
            makeEntity('on-healthy', {
              images: `${healthy.host}/faults/other:v1`,
              tenant: 'acme-eu',
            }),
          ]),
          auth: mockServices.auth(),
          store,
          evaluator: new EntityEvaluator({
            engine,
            store,
            revalidateAfterSeconds: 0,
          }),
          logger: mockServices.logger.mock(),
          schedule: { frequency: { minutes: 10 }, timeout: { minutes: 5 } },
          batchSize: 25,
          leaseSeconds: 300,
          entityConcurrency: 4,
        });
      });

      beforeEach(async () => {
        await faulty.setFaults([]);
        await foreign.setFaults([]);
        foreign.requests.length = 0;
      });

      it.each(FAULTS)('$name -> $code', async ({ rules, code }) => {
        // A good cycle first: both entities compliant on fresh evidence.
        await refresher.runOnce(undefined, {
          cycleId: `good-${code}-${Date.now()}`,
        });
        const good = await store.getStatus({ entityRef: FAULTY_REF });
        expect(good).toMatchObject({ decision: 'compliant', stale: false });

        await faulty.setFaults(rules(foreign));
        const cycleStart = new Date().toISOString();
        const summary = await refresher.runOnce(undefined, {
          cycleId: `fault-${code}-${Date.now()}`,
        });
        await faulty.setFaults([]);
        expect(summary).toMatchObject({ seen: 2, evaluated: 2, failed: 0 });

        // The last good evidence is kept and marked stale; the attempt says why.
        const status = await store.getStatus({ entityRef: FAULTY_REF });
        expect(status).toMatchObject({
          decision: 'compliant',
          stale: true,
          evidenceId: good!.evidenceId,
          lastAttempt: { decision: 'unknown' },
        });
        expect(status!.lastAttempt!.reasons.map(r => r.code)).toContain(code);
        expect(status!.lastAttempt!.checkedAt >= cycleStart).toBe(true);
        // Nothing out of the allow-list was contacted.
        expect(foreign.requests).toHaveLength(0);

        // The other registry's entity was verified in the same cycle.
        const other = await store.getStatus({ entityRef: HEALTHY_REF });
        expect(other).toMatchObject({ decision: 'compliant', stale: false });
        // (The engine's check time: SQLite keeps lastVerifiedAt to the second.)
        expect(other!.checkedAt >= cycleStart).toBe(true);
      });
    });
  },
);
