/*
 * The portal as the residency verifier of the organisation, end to end: the real
 * engine refreshes an entity whose image lives in a real docker-registry, signs a VSA,
 * stores and serves it, and publishes it to the registry, where the VSA gate reads it.
 * When the image turns non-compliant, the next refresh publishes FAILED and the gate fails.
 */
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import {
  createArtifactSource,
  verifyVsaForImage,
} from '@residency-dev/plugin-residency-node';
import {
  generateKey,
  publishSignedImage,
  slsaProvenanceV1,
  startTestRegistry,
  type TestRegistry,
} from '@residency-dev/signing-kit';
import { residencyPlugin } from '../plugin';
import {
  makeEntity,
  schedulerFromCoreServices,
} from '../__testUtils__/harness';

jest.setTimeout(60_000);

describe('residencyPlugin with residency.vsa', () => {
  let registry: TestRegistry;
  let dir: string;
  beforeAll(async () => {
    registry = await startTestRegistry();
    dir = mkdtempSync(join(tmpdir(), 'residency-vsa-plugin-'));
  });
  afterAll(async () => {
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refresh issues, serves and publishes PASSED, then FAILED when the image turns non-compliant', async () => {
    const eu = generateKey();
    // A configured key held outside the boundary (us-east-1): what it signs proves
    // out-of-boundary signing, a violation (unconfigured keys are only ignored).
    const rogue = generateKey();
    const portal = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const portalPub = portal.publicKey
      .export({ type: 'spki', format: 'pem' })
      .toString();
    writeFileSync(
      join(dir, 'portal.pem'),
      portal.privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    const p = slsaProvenanceV1();
    const pub = await publishSignedImage({
      target: { registry: registry.host },
      repository: 'acme/pay',
      tag: 'v1',
      key: eu,
      attestations: [
        { predicateType: p.predicateType, predicate: p.predicate },
      ],
    });

    const { server } = await startTestBackend({
      features: [
        residencyPlugin,
        catalogServiceMock.factory({
          entities: [
            makeEntity('payments', {
              images: pub.digestReference,
              tenant: 'acme-eu',
            }),
          ],
        }),
        schedulerFromCoreServices,
        mockServices.scheduler.factory({
          includeInitialDelayedTasksOnStartup: true,
        }),
        mockServices.rootConfig.factory({
          data: {
            residency: {
              boundaries: { 'eu-sovereign': ['eusc-de-east-1'] },
              registries: [
                {
                  host: registry.host,
                  region: 'eusc-de-east-1',
                  insecure: true,
                  credentials: { username: 'ci', password: 'unused' },
                },
              ],
              keys: [
                {
                  id: 'awskms:///arn:aws:kms:us-east-1:111122223333:key/us',
                  publicKey: rogue.publicKeyPem,
                },
                {
                  id: 'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/eu',
                  publicKey: eu.publicKeyPem,
                },
                {
                  id: 'residency-portal-vsa',
                  region: 'eusc-de-east-1',
                  publicKey: portalPub,
                },
              ],
              tenants: {
                'acme-eu': {
                  boundary: 'eu-sovereign',
                  require: ['signature', 'provenance'],
                },
              },
              vsa: {
                verifierId: 'https://portal.example.com',
                publish: true,
                signingKey: {
                  file: join(dir, 'portal.pem'),
                  region: 'eusc-de-east-1',
                },
              },
            },
          },
        }),
      ],
    });
    const source = createArtifactSource({
      registries: [{ host: registry.host, insecure: true }],
    });
    const gate = () =>
      verifyVsaForImage({
        source,
        reference: pub.digestReference,
        key: { publicKeyPem: portalPub },
        boundary: 'eu-sovereign',
      });
    try {
      const status = await request(server)
        .get('/api/residency/entities/component/default/payments/status')
        .set('Authorization', mockCredentials.user.header());
      expect(status.body.decision).toBe('compliant');
      const served = await request(server)
        .get(`/api/residency/evidence/${status.body.evidenceId}/vsa`)
        .set('Authorization', mockCredentials.user.header());
      expect(served.status).toBe(200);
      expect(served.body.items).toEqual([
        expect.objectContaining({
          digest: pub.digest,
          verificationResult: 'PASSED',
        }),
      ]);
      expect((await gate()).code).toBe('vsa_passed');

      // the published VSA (portal key pinned) does not disturb the next decision
      const again = await request(server)
        .post('/api/residency/entities/component/default/payments/refresh')
        .set('Authorization', mockCredentials.user.header());
      expect(again.body.decision).toBe('compliant');

      // an attestation signed out of the boundary appears: non-compliant, FAILED published, the gate fails
      await publishSignedImage({
        target: { registry: registry.host },
        repository: 'acme/pay',
        tag: 'v1',
        image: pub.image,
        signatures: [],
        attestations: [
          {
            predicateType: p.predicateType,
            predicate: p.predicate,
            key: rogue,
          },
        ],
      });
      const failed = await request(server)
        .post('/api/residency/entities/component/default/payments/refresh')
        .set('Authorization', mockCredentials.user.header());
      expect(failed.body.decision).toBe('non_compliant');
      const result = await gate();
      expect(result).toMatchObject({
        ok: false,
        code: 'vsa_failed',
        vsa: { verificationResult: 'FAILED' },
      });
    } finally {
      await source.close();
    }
  });
});
