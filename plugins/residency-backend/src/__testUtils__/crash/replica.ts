/*
 * One backend replica for the crash test (crash.test.ts): a real Backstage
 * backend (createBackend, real scheduler with its janitor, real PostgreSQL) with
 * the residency plugin. Only the catalog (a fixed list) and the engine (a fake
 * that takes ENGINE_DELAY_MS per entity) are stand-ins, so the test measures
 * the scheduler and claim takeover, not registry speed.
 * Bundled with esbuild and run with NODE_ENV=production by the test.
 * With GATE_FILE set, the catalog answers only once that file exists, so the
 * test can start replicas first and let their refresh begin when it chooses;
 * with START_FILE set, the process loads its modules (the slow part of a start)
 * but starts the backend only once that file exists.
 */
import { existsSync } from 'node:fs';
import { createBackend } from '@backstage/backend-defaults';
import {
  createBackendModule,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { residencyPlugin } from '../../plugin';
import { residencyEngineExtensionPoint } from '../../extensions';
import { FakeEngine } from '../fixtures';
import { makeEntity } from '../harness';

const count = Number(process.env.ENTITY_COUNT ?? 40);
const entities: Entity[] = Array.from({ length: count }, (_, n) =>
  makeEntity(`svc-${n}`, {
    images: `registry.eu/svc-${n}:1`,
    tenant: 'eu-public',
  }),
);

const backend = createBackend();
backend.add(
  createServiceFactory({
    service: catalogServiceRef,
    deps: {},
    factory: () =>
      ({
        async getEntityByRef(ref: string) {
          return entities.find(
            e => `component:default/${e.metadata.name}` === ref,
          );
        },
        async *streamEntities(req: { pageSize?: number } | undefined) {
          const gate = process.env.GATE_FILE;
          while (gate && !existsSync(gate)) {
            await new Promise(r => setTimeout(r, 100));
          }
          const size = req?.pageSize ?? 25;
          for (let i = 0; i < entities.length; i += size) {
            yield entities.slice(i, i + size);
          }
        },
      } as any),
  }),
);
backend.add(residencyPlugin);
backend.add(
  createBackendModule({
    pluginId: 'residency',
    moduleId: 'crash-engine',
    register(env) {
      env.registerInit({
        deps: { engine: residencyEngineExtensionPoint },
        async init({ engine }) {
          const fake = new FakeEngine();
          fake.delayMs = Number(process.env.ENGINE_DELAY_MS ?? 500);
          engine.setEngine(fake);
        },
      });
    },
  }),
);
/** With START_FILE set, loads everything but starts only once that file exists. */
async function whenAllowedToStart() {
  const start = process.env.START_FILE;
  while (start && !existsSync(start)) {
    await new Promise(r => setTimeout(r, 100));
  }
}

whenAllowedToStart()
  .then(() => backend.start())
  .then(
    () => process.stdout.write('REPLICA_READY\n'),
    error => {
      // A backend that failed to start keeps running otherwise; the test would
      // wait for its refresh in vain.
      process.stderr.write(`REPLICA_FAILED ${error?.stack ?? error}\n`);
      process.exit(1);
    },
  );
