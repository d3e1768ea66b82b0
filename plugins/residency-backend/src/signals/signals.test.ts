/*
 * Live updates: a recorded check and every exception event publish a signal on the
 * entity's own channel (through Backstage's signals service), so the Residency tab
 * of that entity reloads. A failing signals service never fails the check.
 */
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import {
  createBackendModule,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import { residencySignalChannel } from '@residency-dev/plugin-residency-common';
import request from 'supertest';
import { residencyEngineExtensionPoint } from '../extensions';
import { residencyPlugin } from '../plugin';
import { DIGEST_A, FakeEngine } from '../__testUtils__/fixtures';
import {
  makeEntity,
  schedulerFromCoreServices,
} from '../__testUtils__/harness';
import { ResidencySignals } from './ResidencySignals';

jest.setTimeout(60_000);

const ENTITY = 'component:default/payments';
const CHANNEL = 'residency:entity-status:component:default/payments';

describe('ResidencySignals', () => {
  it('publishes on the entity channel (lower case), to every subscriber of it', async () => {
    const publish = jest.fn(async () => {});
    const signals = new ResidencySignals({
      signals: { publish },
      logger: mockServices.logger.mock(),
    });
    await signals.entityChanged('Component:Default/Payments', 'exception');
    expect(residencySignalChannel('Component:Default/Payments')).toBe(CHANNEL);
    expect(publish).toHaveBeenCalledWith({
      recipients: { type: 'broadcast' },
      channel: CHANNEL,
      message: { entityRef: 'Component:Default/Payments', event: 'exception' },
    });
  });

  it('logs a failing publish and does not throw', async () => {
    const logger = mockServices.logger.mock();
    const signals = new ResidencySignals({
      signals: {
        publish: async () => {
          throw new Error('events bus down');
        },
      },
      logger,
    });
    await expect(
      signals.entityChanged(ENTITY, 'checked'),
    ).resolves.toBeUndefined();
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining('events bus down'),
    );
  });
});

describe('residencyPlugin signals', () => {
  async function start(publish: jest.Mock) {
    const engine = new FakeEngine();
    engine.decide = () => 'non_compliant';
    const { server } = await startTestBackend({
      features: [
        residencyPlugin,
        createBackendModule({
          pluginId: 'residency',
          moduleId: 'test-engine',
          register(env) {
            env.registerInit({
              deps: { engine: residencyEngineExtensionPoint },
              async init(deps) {
                deps.engine.setEngine(engine);
              },
            });
          },
        }),
        createServiceFactory({
          service: signalsServiceRef,
          deps: {},
          factory: () => ({ publish }),
        }),
        catalogServiceMock.factory({
          entities: [
            makeEntity('payments', {
              images: `registry.eu/pay@${DIGEST_A}`,
              tenant: 'eu-public',
            }),
          ],
        }),
        schedulerFromCoreServices,
        mockServices.scheduler.factory(),
        mockServices.rootConfig.factory({ data: { residency: {} } }),
      ],
    });
    return server;
  }

  it('publishes "checked" when a refresh is recorded and "exception" on a request', async () => {
    const publish = jest.fn(async () => {});
    const server = await start(publish);
    expect(publish).not.toHaveBeenCalled();

    const refreshed = await request(server)
      .post('/api/residency/entities/component/default/payments/refresh')
      .set('Authorization', mockCredentials.user.header());
    expect(refreshed.status).toBe(200);
    expect(publish).toHaveBeenCalledTimes(1);
    expect(publish).toHaveBeenLastCalledWith({
      recipients: { type: 'broadcast' },
      channel: CHANNEL,
      message: { entityRef: ENTITY, event: 'checked' },
    });

    const requested = await request(server)
      .post('/api/residency/entities/component/default/payments/exceptions')
      .set('Authorization', mockCredentials.user.header())
      .send({
        reasonCodes: ['signature_missing'],
        digests: [DIGEST_A],
        justification: 'Signing service outage',
        reference: 'INC-1',
      });
    expect(requested.status).toBe(201);
    expect(publish).toHaveBeenCalledTimes(2);
    expect(publish).toHaveBeenLastCalledWith(
      expect.objectContaining({
        channel: CHANNEL,
        message: { entityRef: ENTITY, event: 'exception' },
      }),
    );

    // Refresh again: the same decision (a confirmation), asked for by a person, so
    // the other open tabs are told (a scheduled confirmation is not: afterRecorded).
    const again = await request(server)
      .post('/api/residency/entities/component/default/payments/refresh')
      .set('Authorization', mockCredentials.user.header());
    expect(again.status).toBe(200);
    expect(again.body.evidenceId).toBe(refreshed.body.evidenceId);
    expect(publish).toHaveBeenCalledTimes(3);
    expect(publish).toHaveBeenLastCalledWith(
      expect.objectContaining({
        message: { entityRef: ENTITY, event: 'checked' },
      }),
    );
  });

  it('records the check when the signals service fails', async () => {
    const publish = jest.fn(async () => {
      throw new Error('events bus down');
    });
    const server = await start(publish);
    const refreshed = await request(server)
      .post('/api/residency/entities/component/default/payments/refresh')
      .set('Authorization', mockCredentials.user.header());
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.decision).toBe('non_compliant');
    expect(publish).toHaveBeenCalledTimes(1);
  });
});
