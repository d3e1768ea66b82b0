/*
 * Publishing VSAs into a real docker-registry (Distribution 2.8: no referrers API, so
 * the tag-schema index is used), next to others' material that must survive, then
 * reading them back through the engine's own sources and the VSA gate.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createArtifactSource } from '../source';
import {
  AUTH_PASSWORD,
  AUTH_USER,
  pushCosignAttestation,
  pushImage,
  pushBundleReferrer,
  pushReferrersTagIndex,
  startAuthRegistry,
  startRegistry,
  type TestRegistry,
} from '../source/__testUtils__/registry';
import { FileVsaSigner, signVsa } from './sign';
import { publishVsa } from './publish';
import { verifyVsaForImage } from './discover';
import {
  IN_TOTO_STATEMENT_V1,
  VSA_PREDICATE_TYPE,
  type VsaStatement,
} from './types';

jest.setTimeout(60_000);

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pub = key.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const signer = FileVsaSigner.fromPem(
  key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  { keyId: 'vsa.pem', region: 'eusc-de-east-1' },
);

function statement(digest: string, result: 'PASSED' | 'FAILED', at: Date) {
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: 'r/app', digest: { sha256: digest.slice(7) } }],
    predicateType: VSA_PREDICATE_TYPE,
    predicate: {
      verifier: { id: 'https://portal.example.com', version: {} },
      timeVerified: at.toISOString(),
      resourceUri: `r/app@${digest}`,
      policy: { uri: 'https://portal.example.com/policies/t', digest: {} },
      inputAttestations: [],
      verificationResult: result,
      verifiedLevels:
        result === 'PASSED' ? ['RESIDENCY_BOUNDARY_EU_SOVEREIGN'] : ['FAILED'],
    },
  } as unknown as VsaStatement;
}

async function readJson(url: string, accept: string, auth = {}) {
  const res = await fetch(url, { headers: { accept, ...auth } });
  return res.json();
}

describe('publishVsa to a real docker-registry', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(() => registry?.stop());

  it('appends to .att and the referrers index without touching others, and the gate reads it', async () => {
    const image = await pushImage(registry.url, 'acme/app', 'v1');
    // someone else's attestation and referrer are already there
    await pushCosignAttestation(registry.url, 'acme/app', image.digest, [
      '{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"","sig":"AAAA"}]}',
    ]);
    const foreign = await pushBundleReferrer(
      registry.url,
      'acme/app',
      image,
      '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}',
    );
    await pushReferrersTagIndex(registry.url, 'acme/app', image.digest, [
      foreign,
    ]);

    const signed = await signVsa(
      statement(image.digest, 'PASSED', new Date()),
      signer,
      ['eusc-de-east-1'],
    );
    const pub1 = {
      subject: {
        digest: image.digest,
        size: image.size,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
      },
      envelope: signed.envelope,
      bundle: JSON.stringify(signed.bundle),
      predicateType: VSA_PREDICATE_TYPE,
    };
    const target = { baseUrl: registry.url, repository: 'acme/app' };
    const out = await publishVsa(target, pub1);
    expect(out.addedToAtt).toBe(true);
    // idempotent: publishing the same VSA again adds nothing
    expect((await publishVsa(target, pub1)).addedToAtt).toBe(false);

    const att = await readJson(
      `${registry.url}/v2/acme/app/manifests/${out.attTag}`,
      'application/vnd.oci.image.manifest.v1+json',
    );
    expect(att.layers).toHaveLength(2);
    const index = await readJson(
      `${registry.url}/v2/acme/app/manifests/${image.digest.replace(':', '-')}`,
      'application/vnd.oci.image.index.v1+json',
    );
    expect(index.manifests.map((m: any) => m.digest)).toEqual([
      foreign.digest,
      out.referrer,
    ]);

    const source = createArtifactSource({
      registries: [{ host: registry.host, insecure: true }],
    });
    try {
      const gate = await verifyVsaForImage({
        source,
        reference: `${registry.host}/acme/app:v1`,
        key: { publicKeyPem: pub },
        boundary: 'eu-sovereign',
      });
      expect(gate).toMatchObject({ ok: true, code: 'vsa_passed' });
      expect(
        gate.candidates
          .filter(c => c.verified)
          .map(c => c.format)
          .sort(),
      ).toEqual(['dsse', 'sigstore-bundle']);

      // a later FAILED VSA, published the same way, turns the gate
      const failed = await signVsa(
        statement(image.digest, 'FAILED', new Date(Date.now() + 1000)),
        signer,
        ['eusc-de-east-1'],
      );
      await publishVsa(target, {
        ...pub1,
        envelope: failed.envelope,
        bundle: JSON.stringify(failed.bundle),
      });
      const after = await verifyVsaForImage({
        source,
        reference: `${registry.host}/acme/app:v1`,
        key: { publicKeyPem: pub },
        now: new Date(Date.now() + 2000),
      });
      expect(after.code).toBe('vsa_failed');
    } finally {
      await source.close();
    }
  });

  it('refuses a .att it cannot read as a manifest instead of replacing it', async () => {
    const image = await pushImage(registry.url, 'acme/odd', 'v1');
    // a Docker schema1-like document without layers under the .att tag
    await fetch(
      `${registry.url}/v2/acme/odd/manifests/${image.digest.replace(
        ':',
        '-',
      )}.att`,
      {
        method: 'PUT',
        headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
        body: JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: [],
        }),
      },
    );
    const signed = await signVsa(
      statement(image.digest, 'PASSED', new Date()),
      signer,
      ['eusc-de-east-1'],
    );
    await expect(
      publishVsa(
        { baseUrl: registry.url, repository: 'acme/odd' },
        {
          subject: {
            digest: image.digest,
            size: image.size,
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
          },
          envelope: signed.envelope,
          bundle: JSON.stringify(signed.bundle),
          predicateType: VSA_PREDICATE_TYPE,
        },
      ),
    ).rejects.toThrow(expect.objectContaining({ code: 'vsa_publish_failed' }));
  });
});

describe('publishVsa with registry credentials', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startAuthRegistry();
  });
  afterAll(() => registry?.stop());

  it('pushes with Basic credentials and fails typed without them', async () => {
    const auth = {
      authorization: `Basic ${Buffer.from(
        `${AUTH_USER}:${AUTH_PASSWORD}`,
      ).toString('base64')}`,
    };
    const image = await pushImage(registry.url, 'acme/app', 'v1', { auth });
    const signed = await signVsa(
      statement(image.digest, 'PASSED', new Date()),
      signer,
      ['eusc-de-east-1'],
    );
    const vsa = {
      subject: {
        digest: image.digest,
        size: image.size,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
      },
      envelope: signed.envelope,
      bundle: JSON.stringify(signed.bundle),
      predicateType: VSA_PREDICATE_TYPE,
    };
    await expect(
      publishVsa({ baseUrl: registry.url, repository: 'acme/app' }, vsa),
    ).rejects.toThrow(expect.objectContaining({ code: 'vsa_publish_failed' }));
    const out = await publishVsa(
      {
        baseUrl: registry.url,
        repository: 'acme/app',
        credentials: { username: AUTH_USER, password: AUTH_PASSWORD },
      },
      vsa,
    );
    const att = await readJson(
      `${registry.url}/v2/acme/app/manifests/${out.attTag}`,
      'application/vnd.oci.image.manifest.v1+json',
      auth,
    );
    expect(att.layers).toHaveLength(1);
  });
});
