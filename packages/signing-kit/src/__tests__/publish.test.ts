/*
 * Publishes to a real docker-registry and to OCI layouts, then reads everything back
 * through independent paths (raw registry API, raw files, skopeo) and verifies it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateKey } from '../keys';
import { publishSignedImage } from '../publish';
import {
  cycloneDxSbom,
  residencyPredicate,
  slsaProvenanceV1,
} from '../predicates';
import {
  fetchBlob,
  fetchManifest,
  startTestRegistry,
  TestRegistry,
} from '../testing/registry';
import {
  verifyBundle,
  verifyEnvelope,
  verifyWithPem,
} from '../__testUtils__/verify';

const run = promisify(execFile);
const sha = (b: Uint8Array) =>
  `sha256:${createHash('sha256').update(b).digest('hex')}`;
const json = (b: Uint8Array) => JSON.parse(Buffer.from(b).toString());

describe('publishSignedImage to a real docker-registry', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry();
  }, 30000);
  afterAll(() => registry?.stop());

  it('writes .sig, .att, referrers and the tag-schema index that read back and verify', async () => {
    const key = generateKey();
    const pub = await publishSignedImage({
      target: { registry: registry.host },
      repository: 'acme/payments',
      tag: '1.0',
      key,
      attestations: [
        slsaProvenanceV1(),
        cycloneDxSbom(),
        residencyPredicate({
          buildRegion: 'eusc-de-east-1',
          storageLocations: [
            {
              uri: `oci://${registry.host}/acme/payments`,
              region: 'eusc-de-east-1',
            },
          ],
          dataLocations: [{ kind: 'database', region: 'eusc-de-east-1' }],
        }),
      ],
      bundles: [{ kind: 'dsse' }, { kind: 'message' }],
    });
    const hex = pub.digest.slice('sha256:'.length);
    expect(pub.reference).toBe(`${registry.host}/acme/payments:1.0`);

    // the tag resolves to the image
    const img = await fetchManifest(registry.host, 'acme/payments', '1.0');
    expect(img?.digest).toBe(pub.digest);

    // .sig: one simple-signing layer, signature in the annotation, payload names the digest
    const sigM = await fetchManifest(
      registry.host,
      'acme/payments',
      `sha256-${hex}.sig`,
    );
    const sig = json(sigM!.bytes);
    expect(sig.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(sig.config.mediaType).toBe(
      'application/vnd.oci.image.config.v1+json',
    );
    expect(sig.layers).toHaveLength(1);
    expect(sig.layers[0].mediaType).toBe(
      'application/vnd.dev.cosign.simplesigning.v1+json',
    );
    const payload = await fetchBlob(
      registry.host,
      'acme/payments',
      sig.layers[0].digest,
    );
    expect(sha(payload!)).toBe(sig.layers[0].digest);
    expect(json(payload!).critical.image['docker-manifest-digest']).toBe(
      pub.digest,
    );
    expect(json(payload!).critical.identity['docker-reference']).toBe(
      `${registry.host}/acme/payments`,
    );
    expect(
      verifyWithPem(
        key.publicKeyPem,
        Buffer.from(payload!),
        sig.layers[0].annotations['dev.cosignproject.cosign/signature'],
      ),
    ).toBe(true);

    // .att: three DSSE layers with predicateType annotations, each verifying over PAE
    const attM = await fetchManifest(
      registry.host,
      'acme/payments',
      `sha256-${hex}.att`,
    );
    const att = json(attM!.bytes);
    expect(att.layers.map((l: any) => l.annotations.predicateType)).toEqual([
      'https://slsa.dev/provenance/v1',
      'https://cyclonedx.org/bom',
      'https://residency.dev/attestation/v1',
    ]);
    for (const l of att.layers) {
      expect(l.mediaType).toBe('application/vnd.dsse.envelope.v1+json');
      const env = json(
        (await fetchBlob(registry.host, 'acme/payments', l.digest))!,
      );
      expect(verifyEnvelope(key.publicKeyPem, env)).toBe(true);
      const st = JSON.parse(Buffer.from(env.payload, 'base64').toString());
      expect(st.subject[0].digest.sha256).toBe(hex);
    }

    // referrers tag-schema fallback: an index listing both bundle referrers
    const idxM = await fetchManifest(
      registry.host,
      'acme/payments',
      `sha256-${hex}`,
    );
    const idx = json(idxM!.bytes);
    expect(idx.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(idx.manifests).toHaveLength(2);
    for (const d of idx.manifests) {
      expect(d.artifactType).toBe(
        'application/vnd.dev.sigstore.bundle.v0.3+json',
      );
      const m = await fetchManifest(registry.host, 'acme/payments', d.digest);
      const ref = json(m!.bytes);
      expect(ref.subject.digest).toBe(pub.digest);
      expect(ref.artifactType).toBe(
        'application/vnd.dev.sigstore.bundle.v0.3+json',
      );
      expect(ref.config.mediaType).toBe('application/vnd.oci.empty.v1+json');
      const bundle = json(
        (await fetchBlob(
          registry.host,
          'acme/payments',
          ref.layers[0].digest,
        ))!,
      );
      expect(() =>
        verifyBundle(
          bundle,
          { [key.fingerprint]: key.publicKeyPem },
          bundle.messageSignature ? Buffer.from(img!.bytes) : undefined,
        ),
      ).not.toThrow();
    }
  });

  it('signing twice appends to the .sig manifest, as cosign does', async () => {
    const k1 = generateKey();
    const k2 = generateKey('ecdsa-p384');
    const first = await publishSignedImage({
      target: { registry: registry.host },
      repository: 'acme/twice',
      tag: 'v',
      key: k1,
    });
    const second = await publishSignedImage({
      target: { registry: registry.host },
      repository: 'acme/twice',
      tag: 'v',
      key: k2,
    });
    expect(second.digest).toBe(first.digest);
    const sig = json(
      (await fetchManifest(registry.host, 'acme/twice', second.signatureTag!))!
        .bytes,
    );
    expect(sig.layers).toHaveLength(2);
    expect(second.signatureManifestDigest).not.toBe(
      first.signatureManifestDigest,
    );
    const keys = [k1, k2];
    for (const [i, l] of sig.layers.entries()) {
      const payload = await fetchBlob(registry.host, 'acme/twice', l.digest);
      expect(
        verifyWithPem(
          keys[i].publicKeyPem,
          Buffer.from(payload!),
          l.annotations['dev.cosignproject.cosign/signature'],
        ),
      ).toBe(true);
    }
  });

  it('forgeries land where the verifier will look for them', async () => {
    const trusted = generateKey();
    const other = await publishSignedImage({
      target: { registry: registry.host },
      repository: 'acme/forge',
      tag: 'a',
      key: trusted,
    });
    const pub = await publishSignedImage({
      target: { registry: registry.host },
      repository: 'acme/forge',
      tag: 'b',
      image: { files: { '/b': 'b' } },
      signatures: [{ key: trusted, forge: { payloadDigest: other.digest } }],
      attestations: [
        {
          ...slsaProvenanceV1(),
          key: trusted,
          forge: { subjectDigest: other.digest },
        },
      ],
    });
    expect(pub.digest).not.toBe(other.digest);
    const hex = pub.digest.slice(7);
    const sig = json(
      (await fetchManifest(registry.host, 'acme/forge', `sha256-${hex}.sig`))!
        .bytes,
    );
    const payload = json(
      (await fetchBlob(registry.host, 'acme/forge', sig.layers[0].digest))!,
    );
    expect(payload.critical.image['docker-manifest-digest']).toBe(other.digest);
    const att = json(
      (await fetchManifest(registry.host, 'acme/forge', `sha256-${hex}.att`))!
        .bytes,
    );
    const env = json(
      (await fetchBlob(registry.host, 'acme/forge', att.layers[0].digest))!,
    );
    expect(verifyEnvelope(trusted.publicKeyPem, env)).toBe(true); // validly signed ...
    expect(
      JSON.parse(Buffer.from(env.payload, 'base64').toString()).subject[0]
        .digest.sha256,
    ).toBe(other.digest.slice(7)); // ... for another subject
  });
});

describe('publishSignedImage to an OCI image layout', () => {
  let dir: string;
  let registry: TestRegistry;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'signing-kit-layout-'));
    registry = await startTestRegistry();
  }, 30000);
  afterAll(async () => {
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes oci-layout, index.json names and content-addressed blobs', async () => {
    const key = generateKey();
    const layout = join(dir, 'eu');
    const pub = await publishSignedImage({
      target: { layout },
      repository: 'registry.eu.example.com/acme/app',
      tag: 'app-1.0',
      key,
      attestations: [slsaProvenanceV1()],
      bundles: [{ kind: 'dsse' }],
    });
    expect(pub.reference).toBe(`oci:${layout}:app-1.0`);
    expect(json(await readFile(join(layout, 'oci-layout')))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    const index = json(await readFile(join(layout, 'index.json')));
    const names = Object.fromEntries(
      index.manifests
        .filter(
          (m: any) => m.annotations?.['org.opencontainers.image.ref.name'],
        )
        .map((m: any) => [
          m.annotations['org.opencontainers.image.ref.name'],
          m.digest,
        ]),
    );
    const hex = pub.digest.slice(7);
    expect(names['app-1.0']).toBe(pub.digest);
    expect(names[`sha256-${hex}.sig`]).toBe(pub.signatureManifestDigest);
    expect(names[`sha256-${hex}.att`]).toBe(pub.attestationManifestDigest);
    expect(names[`sha256-${hex}`]).toBeDefined();
    // the bundle referrer is listed untagged, discoverable by subject
    expect(
      index.manifests.some((m: any) => m.digest === pub.referrers[0].digest),
    ).toBe(true);
    // every listed blob exists and hashes to its name
    for (const m of index.manifests) {
      const bytes = await readFile(
        join(layout, 'blobs', 'sha256', m.digest.slice(7)),
      );
      expect(sha(bytes)).toBe(m.digest);
      expect(bytes.length).toBe(m.size);
    }
    // re-tagging moves the name instead of duplicating it
    await publishSignedImage({
      target: { layout },
      repository: 'x',
      tag: 'app-1.0',
      image: { files: { '/v2': '2' } },
    });
    const again = json(await readFile(join(layout, 'index.json')));
    expect(
      again.manifests.filter(
        (m: any) =>
          m.annotations?.['org.opencontainers.image.ref.name'] === 'app-1.0',
      ),
    ).toHaveLength(1);
  });

  it('skopeo reads the layout and copies image and signature into a registry unchanged', async () => {
    const key = generateKey();
    const layout = join(dir, 'skopeo');
    const pub = await publishSignedImage({
      target: { layout },
      repository: 'acme/svc',
      tag: 'svc-1',
      key,
    });
    await run('skopeo', [
      'copy',
      '--quiet',
      '--preserve-digests',
      '--dest-tls-verify=false',
      `oci:${layout}:svc-1`,
      `docker://${registry.host}/acme/svc:svc-1`,
    ]);
    await run('skopeo', [
      'copy',
      '--quiet',
      '--preserve-digests',
      '--dest-tls-verify=false',
      `oci:${layout}:${pub.signatureTag}`,
      `docker://${registry.host}/acme/svc:${pub.signatureTag}`,
    ]);
    expect(
      (await fetchManifest(registry.host, 'acme/svc', 'svc-1'))?.digest,
    ).toBe(pub.digest);
    expect(
      (await fetchManifest(registry.host, 'acme/svc', pub.signatureTag!))
        ?.digest,
    ).toBe(pub.signatureManifestDigest);
  }, 60000);
});
