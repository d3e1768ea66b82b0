import {
  TestDatabases,
  mockCredentials,
  mockErrorHandler,
  mockServices,
} from '@backstage/backend-test-utils';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import { createHash, generateKeyPairSync } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import type { ChainedEvidence } from '@residency-dev/plugin-residency-common';
import {
  FileVsaSigner,
  chainRecord,
  createArtifactSource,
  verifyVsa,
  verifyVsaForImage,
} from '@residency-dev/plugin-residency-node';
import {
  publishSignedImage,
  startTestRegistry,
} from '@residency-dev/signing-kit';
import { DatabaseResidencyStore } from '../database/DatabaseResidencyStore';
import { createRouter } from '../service/router';
import type { ResidencyService } from '../service/ResidencyService';
import { VsaIssuer } from './VsaIssuer';
import { DatabaseVsaStore, T_VSA } from './VsaStore';

jest.setTimeout(60_000);

const databases = TestDatabases.create({
  ids: ['SQLITE_3', 'POSTGRES_15'],
  disableDocker: true,
});

const EVIDENCE_ID = 'a'.repeat(32);
const DIGEST = `sha256:${createHash('sha256').update('m').digest('hex')}`;
const portal = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const portalPub = portal.publicKey
  .export({ type: 'spki', format: 'pem' })
  .toString();
const signer = FileVsaSigner.fromPem(
  portal.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  { keyId: 'vsa.pem', region: 'eusc-de-east-1' },
);

function evidence(decision: 'compliant' | 'non_compliant'): ChainedEvidence {
  const boundary = { name: 'eu-sovereign', regions: ['eusc-de-east-1'] };
  const c = chainRecord(
    {
      schema: 'https://residency.dev/evidence/v1',
      entityRef: 'component:default/payments',
      images: [`registry.eu/pay@${DIGEST}`],
      result: {
        entityRef: 'component:default/payments',
        tenant: 'acme-eu',
        boundary,
        decision,
        reasons: [],
        images: [
          {
            reference: `registry.eu/pay@${DIGEST}`,
            registry: 'registry.eu',
            repository: 'pay',
            digest: DIGEST,
            decision,
            reasons: [],
            signatures: [],
            attestations: [],
          },
        ],
        policyHash: 'p',
        trustHash: 't',
        engineVersion: 'x',
        checkedAt: '2026-12-01T08:00:00.000Z',
      },
      material: [],
      policy: { tenant: 'acme-eu', boundary, require: ['signature'] },
      trust: { keys: [], registries: [] },
      engineVersion: 'x',
      createdAt: '2026-12-01T08:00:00.000Z',
    },
    null,
  );
  return { ...c, id: EVIDENCE_ID };
}

describe.each(databases.eachSupportedId())('VSAs on %s', databaseId => {
  it('issues, stores and re-issues (confirmed decision) a VSA consumers verify; migrates down and up', async () => {
    const knex = await databases.init(databaseId);
    await DatabaseResidencyStore.migrateUp(knex);
    const vsaStore = new DatabaseVsaStore(knex);
    let current = evidence('compliant');
    const issuer = new VsaIssuer({
      settings: { verifierId: 'https://portal.example.com' },
      signer,
      store: {
        getEvidence: async () => ({
          evidence: current,
          checkpoint: false,
          createdAt: '',
        }),
      },
      vsaStore,
    });
    const status = {
      evidenceId: EVIDENCE_ID,
      entityRef: 'component:default/payments',
    } as any;
    expect(await issuer.onRecorded(status, 'appended')).toBe(1);
    let [stored] = await vsaStore.listForEvidence({ evidenceId: EVIDENCE_ID });
    expect(stored).toMatchObject({
      digest: DIGEST,
      verificationResult: 'PASSED',
      timeVerified: '2026-12-01T08:00:00.000Z',
    });
    const check = (now: string) =>
      verifyVsa({
        digest: DIGEST,
        key: { publicKeyPem: portalPub },
        envelopes: [{ envelope: stored.envelope }],
        bundles: [{ bundle: stored.bundle }],
        now: new Date(now),
      });
    expect(check('2026-12-01T09:00:00Z').code).toBe('vsa_passed');
    expect(check('2026-12-02T09:00:00Z').code).toBe('vsa_expired');

    // the next check confirms the decision: same row, fresh timeVerified
    await issuer.onRecorded(
      { ...status, lastVerifiedAt: '2026-12-02T08:30:00.000Z' },
      'confirmed',
    );
    const rows = await vsaStore.listForEvidence({ evidenceId: EVIDENCE_ID });
    expect(rows).toHaveLength(1);
    [stored] = rows;
    expect(stored.timeVerified).toBe('2026-12-02T08:30:00.000Z');
    expect(check('2026-12-02T09:00:00Z').code).toBe('vsa_passed');

    // a stale check issues nothing; a FAILED decision issues FAILED
    expect(await issuer.onRecorded(status, 'stale')).toBe(0);
    current = evidence('non_compliant');
    await issuer.onRecorded(status, 'appended');
    [stored] = await vsaStore.listForEvidence({ evidenceId: EVIDENCE_ID });
    expect(stored.verificationResult).toBe('FAILED');
    expect(check('2026-12-01T09:00:00Z').code).toBe('vsa_failed');

    await DatabaseResidencyStore.migrateDown(knex);
    expect(await knex.schema.hasTable(T_VSA)).toBe(false);
    await DatabaseResidencyStore.migrateUp(knex);
    expect(await knex.schema.hasTable(T_VSA)).toBe(true);
  });

  it('logs and issues nothing when signing fails (the decision stands)', async () => {
    const knex = await databases.init(databaseId);
    await DatabaseResidencyStore.migrateUp(knex);
    const logger = mockServices.logger.mock();
    const issuer = new VsaIssuer({
      settings: { verifierId: 'https://portal.example.com' },
      signer: FileVsaSigner.fromPem(
        portal.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        { keyId: 'us.pem', region: 'us-east-1' },
      ),
      store: {
        getEvidence: async () => ({
          evidence: evidence('compliant'),
          checkpoint: false,
          createdAt: '',
        }),
      },
      vsaStore: new DatabaseVsaStore(knex),
      logger,
    });
    expect(
      await issuer.onRecorded(
        { evidenceId: EVIDENCE_ID, entityRef: 'component:default/p' } as any,
        'appended',
      ),
    ).toBe(0);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining('outside the boundary'),
    );
  });
});

describe('publishing (residency.vsa.publish)', () => {
  it('pushes the VSA to the image registry when it has credentials; the gate reads it there', async () => {
    const registry = await startTestRegistry();
    try {
      const pub = await publishSignedImage({
        target: { registry: registry.host },
        repository: 'acme/pay',
        tag: 'v1',
        signatures: [],
      });
      const base = evidence('compliant');
      const image = base.record.result.images[0];
      Object.assign(image, {
        reference: pub.reference,
        registry: registry.host,
        repository: 'acme/pay',
        digest: pub.digest,
      });
      base.record.material = [
        {
          reference: pub.reference,
          digest: pub.digest,
          manifest: Buffer.from(pub.image.manifest.bytes).toString('base64'),
          manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
          simpleSignatures: [],
          envelopes: [],
          bundles: [],
        },
      ];
      const logger = mockServices.logger.mock();
      const make = (credentials?: { username: string; password: string }) =>
        new VsaIssuer({
          settings: { verifierId: 'https://portal.example.com', publish: true },
          signer,
          registries: [
            {
              host: registry.host,
              region: 'eusc-de-east-1',
              insecure: true,
              ...(credentials ? { credentials } : {}),
            },
          ],
          store: {
            getEvidence: async () => ({
              evidence: base,
              checkpoint: false,
              createdAt: '',
            }),
          },
          vsaStore: { put: async () => {}, listForEvidence: async () => [] },
          logger,
        });
      const source = createArtifactSource({
        registries: [{ host: registry.host, insecure: true }],
      });
      const gate = () =>
        verifyVsaForImage({
          source,
          reference: pub.reference,
          key: { publicKeyPem: portalPub },
          now: new Date('2026-12-01T09:00:00Z'),
        });
      try {
        await make().issue(EVIDENCE_ID);
        expect(logger.info).toHaveBeenCalledWith(
          expect.stringContaining('not published'),
        );
        expect((await gate()).code).toBe('vsa_missing');
        await make({ username: 'ci', password: 'x' }).issue(EVIDENCE_ID);
        expect((await gate()).code).toBe('vsa_passed');
      } finally {
        await source.close();
      }
    } finally {
      await registry.stop();
    }
  });
});

describe('GET /evidence/:id/vsa', () => {
  const vsa = {
    listForEvidence: jest.fn(async () => [
      {
        evidenceId: EVIDENCE_ID,
        digest: DIGEST,
        entityRef: 'component:default/payments',
        tenant: 'acme-eu',
        verificationResult: 'PASSED' as const,
        timeVerified: '2026-12-01T08:00:00.000Z',
        keyFingerprint: 'f'.repeat(64),
        envelope: '{"payloadType":"application/vnd.in-toto+json"}',
        bundle: '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}',
      },
    ]),
  };
  const getEvidenceBundle = jest.fn();
  let app: express.Express;
  beforeAll(async () => {
    const router = await createRouter({
      httpAuth: mockServices.httpAuth(),
      auditor: mockServices.auditor.mock(),
      logger: mockServices.logger.mock(),
      service: { getEvidenceBundle } as unknown as ResidencyService,
      vsa,
    });
    app = express().use(router).use(mockErrorHandler());
  });

  it('serves the VSAs of a record the caller may download', async () => {
    getEvidenceBundle.mockResolvedValueOnce({});
    const res = await request(app)
      .get(`/evidence/${EVIDENCE_ID}/vsa`)
      .set('authorization', mockCredentials.user.header());
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      expect.objectContaining({
        digest: DIGEST,
        verificationResult: 'PASSED',
        envelope: { payloadType: 'application/vnd.in-toto+json' },
      }),
    ]);
    expect(getEvidenceBundle).toHaveBeenCalledWith(
      expect.objectContaining({ id: EVIDENCE_ID }),
    );
  });

  it('401 without credentials, 403 without the permission, 404 for an invisible record, 400 for a bad id', async () => {
    vsa.listForEvidence.mockClear();
    expect(
      (
        await request(app)
          .get(`/evidence/${EVIDENCE_ID}/vsa`)
          .set('authorization', mockCredentials.none.header())
      ).status,
    ).toBe(401);
    getEvidenceBundle.mockRejectedValueOnce(new NotAllowedError('no'));
    expect(
      (
        await request(app)
          .get(`/evidence/${EVIDENCE_ID}/vsa`)
          .set('authorization', mockCredentials.user.header())
      ).status,
    ).toBe(403);
    getEvidenceBundle.mockRejectedValueOnce(new NotFoundError('no'));
    expect(
      (
        await request(app)
          .get(`/evidence/${EVIDENCE_ID}/vsa`)
          .set('authorization', mockCredentials.user.header())
      ).status,
    ).toBe(404);
    expect(
      (
        await request(app)
          .get('/evidence/..%2f/vsa')
          .set('authorization', mockCredentials.user.header())
      ).status,
    ).toBe(400);
    expect(vsa.listForEvidence).not.toHaveBeenCalled();
  });
});
