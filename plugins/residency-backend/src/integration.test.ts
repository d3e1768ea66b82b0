/*
 * The backend end to end with the real engine against a real registry (CNCF
 * Distribution on loopback): a signed image and an unsigned one, the scheduled
 * pass, the API, an evidence bundle that re-verifies offline, and a registry that
 * goes away (last good evidence kept, shown stale).
 */
import { execFileSync } from 'node:child_process';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  generateKey,
  publishSignedImage,
  startTestRegistry,
  type TestRegistry,
} from '@residency-dev/signing-kit';
import { verifyEvidenceBundle } from '@residency-dev/plugin-residency-node';
import request from 'supertest';
import { residencyPlugin } from './plugin';
import { makeEntity, schedulerFromCoreServices } from './__testUtils__/harness';

jest.setTimeout(60_000);

const EU_REGION = 'eusc-de-east-1';
const EU_KEY_ID =
  'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/0c7a0000-1111-2222-3333-444455556666';

function hasRegistryBinary() {
  try {
    execFileSync('which', ['docker-registry'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

(hasRegistryBinary() ? describe : describe.skip)(
  'residency backend against a real registry',
  () => {
    let registry: TestRegistry;
    beforeAll(async () => {
      registry = await startTestRegistry();
    }, 30_000);
    afterAll(async () => {
      await registry?.stop();
    });

    it('keeps statuses current, serves verifiable evidence and goes stale when the registry fails', async () => {
      const key = generateKey('ecdsa-p256');
      const signed = await publishSignedImage({
        target: { registry: registry.url },
        repository: 'shop/payments',
        tag: 'v1',
        image: { deterministic: false },
        key,
      });
      const unsigned = await publishSignedImage({
        target: { registry: registry.url },
        repository: 'shop/unsigned',
        tag: 'v1',
        image: { deterministic: false },
        signatures: [],
      });
      const ref = (published: string) => published.replace(/^https?:\/\//, '');
      const residency = {
        boundaries: { 'eu-sovereign': [EU_REGION] },
        registries: [
          { host: registry.host, region: EU_REGION, insecure: true },
        ],
        keys: [{ id: EU_KEY_ID, publicKey: key.publicKeyPem }],
        tenants: {
          'acme-eu': { boundary: 'eu-sovereign', require: ['signature'] },
        },
      };

      const { server } = await startTestBackend({
        features: [
          residencyPlugin,
          catalogServiceMock.factory({
            entities: [
              makeEntity('payments', {
                images: ref(signed.reference),
                tenant: 'acme-eu',
              }),
              makeEntity('unsigned', {
                images: ref(unsigned.reference),
                tenant: 'acme-eu',
              }),
            ],
          }),
          schedulerFromCoreServices,
          mockServices.scheduler.factory({
            includeInitialDelayedTasksOnStartup: true,
          }),
          mockServices.rootConfig.factory({ data: { residency } }),
        ],
      });
      const get = (path: string) =>
        request(server)
          .get(`/api/residency${path}`)
          .set('Authorization', mockCredentials.user.header());

      const payments = await get('/entities/component/default/payments/status');
      expect(payments.status).toBe(200);
      expect(payments.body).toMatchObject({
        decision: 'compliant',
        stale: false,
        images: [{ digest: signed.digest, decision: 'compliant' }],
      });
      expect(payments.body.images[0].signatures[0].key).toMatchObject({
        id: EU_KEY_ID,
        region: EU_REGION,
      });
      const rogue = await get('/entities/component/default/unsigned/status');
      expect(rogue.body.decision).toBe('non_compliant');
      expect(rogue.body.images[0].reasons.map((r: any) => r.code)).toContain(
        'signature_missing',
      );

      // The bundle an auditor downloads re-verifies offline with the engine's verifier.
      const bundle = await get(`/evidence/${payments.body.evidenceId}`);
      expect(bundle.status).toBe(200);
      const verification = verifyEvidenceBundle(bundle.body);
      expect(verification.problems).toEqual([]);
      expect(verification).toMatchObject({ ok: true, decision: 'compliant' });

      // The registry goes away: the refresh cannot decide, the last good evidence stays.
      await registry.stop();
      const refreshed = await request(server)
        .post('/api/residency/entities/component/default/payments/refresh')
        .set('Authorization', mockCredentials.user.header());
      expect(refreshed.status).toBe(200);
      expect(refreshed.body).toMatchObject({
        decision: 'compliant',
        stale: true,
        evidenceId: payments.body.evidenceId,
        lastAttempt: { decision: 'unknown' },
      });
      // The reason is kept with the attempt, naming the image it concerns.
      expect(refreshed.body.lastAttempt.reasons).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            code: 'registry_unreachable',
            details: expect.objectContaining({
              image: ref(signed.reference),
            }),
          }),
        ]),
      );
      const history = await get(
        '/entities/component/default/payments/evidence',
      );
      expect(history.body.items).toHaveLength(1);
      const chain = await get(
        '/entities/component/default/payments/evidence/verify',
      );
      expect(chain.body).toEqual({
        entityRef: 'component:default/payments',
        ok: true,
        length: 1,
      });
    });
  },
);
