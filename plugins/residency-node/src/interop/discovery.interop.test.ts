/*
 * Interop corpus, key-based (issue 11): material our signing kit did not make, made
 * by openssl, @sigstore/sign, @sigstore/oci and skopeo, laid out as cosign v2/v3,
 * go-containerregistry and @sigstore/oci write it, discovered through every path —
 * cosign tag scheme, referrers tag fallback, referrers API, OCI layouts (skopeo
 * copies and `cosign save` layouts) — and decided by the engine against the real
 * docker-registry. Each producer x format x path has a positive and negative cases
 * (wrong key, wrong digest, tampered payload). The README compatibility matrix
 * points at the test names here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startTestRegistry,
  type TestRegistry,
} from '@residency-dev/signing-kit';
import type { EntityResult } from '@residency-dev/plugin-residency-common';
import { DefaultResidencyEngine } from '../engine';
import { EU_REGION, residencyConfig } from '../__testUtils__/world';
import { configReaderFromObject, loadResidencySettings } from '../config';
import {
  pushBlob,
  pushImage,
  pushManifest,
  sha256,
} from '../source/__testUtils__/registry';
import {
  attachWithSigstoreOci,
  cosignPayload,
  IN_TOTO,
  layoutIndex,
  MEDIA_DSSE,
  MEDIA_INDEX,
  MEDIA_MANIFEST,
  MEDIA_SIMPLESIGNING,
  opensslEnvelope,
  opensslKey,
  opensslSign,
  pushCosignAttestationReferrer,
  pushCosignExperimentalSig,
  pushCosignV3Bundle,
  pushFallbackIndex,
  pushUnrelatedReferrer,
  PUSH_AUTH,
  sigstoreDsseBundle,
  sigstoreMessageBundle,
  sigstoreSigner,
  skopeoToLayout,
  statement,
} from './__testUtils__/producers';
import {
  startReferrersProxy,
  type ReferrersProxy,
} from './__testUtils__/referrersProxy';

jest.setTimeout(60_000);

const EU_OPENSSL_ID =
  'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/0c7a0000-aaaa-2222-3333-444455556666';
const EU_SIGSTORE_ID =
  'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/0c7a0000-bbbb-2222-3333-444455556666';
const PROVENANCE = 'https://slsa.dev/provenance/v1';

const euKey = opensslKey();
const rogueKey = opensslKey(); // never configured
const euSigstore = sigstoreSigner();
const rogueSigstore = sigstoreSigner();

let registry: TestRegistry;
let proxy: ReferrersProxy;
/** docker-registry behind a Basic challenge, still without the referrers API. */
let noApi: ReferrersProxy;
let layouts: string;

beforeAll(async () => {
  registry = await startTestRegistry();
  proxy = await startReferrersProxy(registry.url);
  noApi = await startReferrersProxy(registry.url, { referrersApi: false });
  layouts = mkdtempSync(join(tmpdir(), 'residency-interop-layouts-'));
});
afterAll(async () => {
  await proxy?.stop();
  await noApi?.stop();
  await registry?.stop();
  rmSync(layouts, { recursive: true, force: true });
  rmSync(euKey.dir, { recursive: true, force: true });
  rmSync(rogueKey.dir, { recursive: true, force: true });
});

function engine(require: string[], layoutDirs: string[] = []) {
  const cfg = residencyConfig({
    registries: [
      { host: registry.host, region: EU_REGION, insecure: true },
      { host: proxy.host, region: EU_REGION, insecure: true },
      { host: noApi.host, region: EU_REGION, insecure: true },
    ],
    layouts: layoutDirs.map(path => ({ path, region: EU_REGION })),
    keys: [
      { id: EU_OPENSSL_ID, publicKey: euKey.publicKeyPem },
      { id: EU_SIGSTORE_ID, publicKey: euSigstore.publicKeyPem },
    ],
  });
  (cfg.tenants as any)['acme-eu'].require = require;
  return DefaultResidencyEngine.create({
    settings: loadResidencySettings(configReaderFromObject({ residency: cfg })),
  });
}

async function decide(
  reference: string,
  require: string[] = ['signature'],
  layoutDirs: string[] = [],
): Promise<EntityResult> {
  const e = engine(require, layoutDirs);
  try {
    const { result } = await e.evaluateEntity({
      entityRef: 'component:default/interop',
      images: [reference],
      tenant: 'acme-eu',
    });
    return result;
  } finally {
    await e.close();
  }
}

let counter = 0;
/** A fresh image in `repo` on the registry reachable at `url`. */
async function image(url = registry.url, repo = 'interop/app') {
  counter += 1;
  const tag = `v${counter}`;
  const m = await pushImage(url, repo, tag, {
    layer: `interop layer ${counter} ${Math.random()}`,
    auth: PUSH_AUTH,
  });
  return { repo, tag, digest: m.digest, size: m.size, bytes: m.bytes };
}

/** cosign `.sig` as cosign v1/v2 `sign --key` writes it, signed with openssl. */
async function pushSig(
  url: string,
  repo: string,
  digest: string,
  layers: { payload: Buffer; signature: string }[],
) {
  const config = await pushBlob(url, repo, '{}', PUSH_AUTH);
  const ls = [];
  for (const l of layers) {
    ls.push({
      mediaType: MEDIA_SIMPLESIGNING,
      ...(await pushBlob(url, repo, l.payload, PUSH_AUTH)),
      annotations: { 'dev.cosignproject.cosign/signature': l.signature },
    });
  }
  return pushManifest(
    url,
    repo,
    `${digest.replace(':', '-')}.sig`,
    {
      schemaVersion: 2,
      mediaType: MEDIA_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        ...config,
      },
      layers: ls,
    },
    undefined,
    PUSH_AUTH,
  );
}

/** cosign `.att` as cosign v2 `attest --key` writes it (DSSE layer with predicateType annotation). */
async function pushAtt(url: string, repo: string, digest: string, env: string) {
  const config = await pushBlob(url, repo, '{}', PUSH_AUTH);
  return pushManifest(
    url,
    repo,
    `${digest.replace(':', '-')}.att`,
    {
      schemaVersion: 2,
      mediaType: MEDIA_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        ...config,
      },
      layers: [
        {
          mediaType: MEDIA_DSSE,
          ...(await pushBlob(url, repo, env, PUSH_AUTH)),
          annotations: { predicateType: PROVENANCE },
        },
      ],
    },
    undefined,
    PUSH_AUTH,
  );
}

const codes = (r: EntityResult) => r.images[0].reasons.map(x => x.code);

describe('cosign tag scheme (.sig / .att), openssl signatures, real docker-registry', () => {
  it('openssl simple signing in .sig: compliant', async () => {
    const img = await image();
    const payload = cosignPayload(`${registry.host}/${img.repo}`, img.digest);
    await pushSig(registry.url, img.repo, img.digest, [
      { payload, signature: opensslSign(euKey, payload) },
    ]);
    const r = await decide(`${registry.host}/${img.repo}:${img.tag}`);
    expect(codes(r)).toEqual([]);
    expect(r.decision).toBe('compliant');
    expect(r.images[0].signatures[0]).toMatchObject({
      verified: true,
      source: 'cosign-tag',
      key: { id: EU_OPENSSL_ID },
    });
  });

  it('wrong key: signed only by an unconfigured key is not resident', async () => {
    const img = await image();
    const payload = cosignPayload(`${registry.host}/${img.repo}`, img.digest);
    await pushSig(registry.url, img.repo, img.digest, [
      { payload, signature: opensslSign(rogueKey, payload) },
    ]);
    const r = await decide(`${registry.host}/${img.repo}:${img.tag}`);
    expect(r.decision).toBe('non_compliant');
    expect(codes(r)).toEqual(['signature_invalid']);
  });

  it('wrong digest: a valid signature of another image is not resident', async () => {
    const img = await image();
    const other = await image();
    const payload = cosignPayload(`${registry.host}/${img.repo}`, other.digest);
    await pushSig(registry.url, img.repo, img.digest, [
      { payload, signature: opensslSign(euKey, payload) },
    ]);
    const r = await decide(`${registry.host}/${img.repo}:${img.tag}`);
    expect(r.decision).toBe('non_compliant');
    expect(codes(r)).toEqual(['digest_mismatch']);
  });

  it('tampered payload: is not resident', async () => {
    const img = await image();
    const payload = cosignPayload(`${registry.host}/${img.repo}`, img.digest);
    const signature = opensslSign(euKey, payload);
    const tampered = Buffer.from(
      payload.toString().replace('"optional":null', '"optional":{"x":"y"}'),
    );
    await pushSig(registry.url, img.repo, img.digest, [
      { payload: tampered, signature },
    ]);
    const r = await decide(`${registry.host}/${img.repo}:${img.tag}`);
    expect(r.decision).toBe('non_compliant');
    expect(codes(r)).toEqual(['signature_invalid']);
  });

  it('a bogus extra signature beside a valid one is ignored (push-only attacker cannot flip)', async () => {
    const img = await image();
    const payload = cosignPayload(`${registry.host}/${img.repo}`, img.digest);
    await pushSig(registry.url, img.repo, img.digest, [
      { payload, signature: opensslSign(euKey, payload) },
      { payload, signature: opensslSign(rogueKey, payload) },
    ]);
    const r = await decide(`${registry.host}/${img.repo}:${img.tag}`);
    expect(r.decision).toBe('compliant');
    expect(r.images[0].signatures[1].ignored).toBe(
      'ignored: not signed by a configured key',
    );
  });

  it('openssl DSSE in .att satisfies provenance; a tampered envelope does not', async () => {
    const img = await image();
    const payload = cosignPayload(`${registry.host}/${img.repo}`, img.digest);
    await pushSig(registry.url, img.repo, img.digest, [
      { payload, signature: opensslSign(euKey, payload) },
    ]);
    await pushAtt(
      registry.url,
      img.repo,
      img.digest,
      opensslEnvelope(euKey, statement(img.digest)),
    );
    const ok = await decide(`${registry.host}/${img.repo}:${img.tag}`, [
      'signature',
      'provenance',
    ]);
    expect(codes(ok)).toEqual([]);
    expect(ok.images[0].attestations[0]).toMatchObject({
      kind: 'provenance',
      verified: true,
    });

    const env = JSON.parse(opensslEnvelope(euKey, statement(img.digest)));
    env.payload = statement(img.digest, PROVENANCE, { forged: true }).toString(
      'base64',
    );
    await pushAtt(registry.url, img.repo, img.digest, JSON.stringify(env));
    const bad = await decide(`${registry.host}/${img.repo}:${img.tag}`, [
      'signature',
      'provenance',
    ]);
    expect(bad.decision).toBe('non_compliant');
    expect(codes(bad)).toContain('attestation_missing:provenance');
  });
});

describe('referrers tag fallback (sha256-<hex> index) on docker-registry', () => {
  it('cosign v3 bundles whose index entries say application/vnd.oci.empty.v1+json are found and verify', async () => {
    const img = await image();
    const dsse = await pushCosignV3Bundle(
      registry.url,
      img.repo,
      img,
      await sigstoreDsseBundle(euSigstore, statement(img.digest)),
      { predicateType: PROVENANCE },
    );
    const message = await pushCosignV3Bundle(
      registry.url,
      img.repo,
      img,
      await sigstoreMessageBundle(euSigstore, img.bytes),
    );
    expect(dsse.artifactType).toBe('application/vnd.oci.empty.v1+json');
    await pushFallbackIndex(registry.url, img.repo, img.digest, [
      dsse,
      message,
    ]);
    const r = await decide(`${registry.host}/${img.repo}:${img.tag}`, [
      'signature',
      'provenance',
    ]);
    expect(codes(r)).toEqual([]);
    expect(r.decision).toBe('compliant');
    expect(r.images[0].signatures[0]).toMatchObject({
      format: 'sigstore-bundle',
      source: 'referrers',
      key: { id: EU_SIGSTORE_ID },
    });
  });

  it('cosign v3 bundle: entries without artifactType or with the bundle type verify too', async () => {
    const img = await image();
    const bundle = await sigstoreMessageBundle(euSigstore, img.bytes);
    const none = await pushCosignV3Bundle(registry.url, img.repo, img, bundle, {
      indexArtifactType: null,
    });
    await pushFallbackIndex(registry.url, img.repo, img.digest, [none]);
    expect(
      (await decide(`${registry.host}/${img.repo}:${img.tag}`)).decision,
    ).toBe('compliant');
  });

  it('cosign v3 bundle, negatives: wrong key, wrong digest, tampered payload', async () => {
    const img = await image();
    const other = await image();
    const wrongKey = await pushCosignV3Bundle(
      registry.url,
      img.repo,
      img,
      await sigstoreMessageBundle(rogueSigstore, img.bytes),
    );
    const wrongDigest = await pushCosignV3Bundle(
      registry.url,
      img.repo,
      img,
      await sigstoreMessageBundle(euSigstore, other.bytes),
    );
    const tamperedDoc = JSON.parse(
      await sigstoreDsseBundle(euSigstore, statement(img.digest)),
    );
    tamperedDoc.dsseEnvelope.payload = statement(img.digest, PROVENANCE, {
      forged: true,
    }).toString('base64');
    const tampered = await pushCosignV3Bundle(
      registry.url,
      img.repo,
      img,
      JSON.stringify(tamperedDoc),
      { predicateType: PROVENANCE },
    );
    await pushFallbackIndex(registry.url, img.repo, img.digest, [
      wrongKey,
      wrongDigest,
      tampered,
    ]);
    const r = await decide(`${registry.host}/${img.repo}:${img.tag}`, [
      'signature',
      'provenance',
    ]);
    expect(r.decision).toBe('non_compliant');
    expect(r.images[0].signatures.every(s => !s.verified)).toBe(true);
    expect(r.images[0].signatures).toHaveLength(2);
    // a DSSE bundle that does not verify cannot say what it is: an unverified attestation
    expect(r.images[0].attestations).toHaveLength(1);
    expect(r.images[0].attestations[0].verified).toBe(false);
    expect(codes(r)).toEqual(
      expect.arrayContaining([
        'key_untrusted',
        'digest_mismatch',
        'attestation_missing:provenance',
      ]),
    );
  });

  it('cosign experimental OCI 1.1 sign (simple signing referrer) and attest (DSSE referrer)', async () => {
    const img = await image();
    const payload = cosignPayload(`${registry.host}/${img.repo}`, img.digest);
    const sig = await pushCosignExperimentalSig(
      registry.url,
      img.repo,
      img,
      payload,
      opensslSign(euKey, payload),
    );
    const att = await pushCosignAttestationReferrer(
      registry.url,
      img.repo,
      img,
      opensslEnvelope(euKey, statement(img.digest)),
      PROVENANCE,
    );
    const unrelated = await pushUnrelatedReferrer(registry.url, img.repo, img);
    await pushFallbackIndex(registry.url, img.repo, img.digest, [
      sig,
      att,
      unrelated,
    ]);
    const r = await decide(`${registry.host}/${img.repo}:${img.tag}`, [
      'signature',
      'provenance',
    ]);
    expect(codes(r)).toEqual([]);
    expect(r.images[0].signatures).toHaveLength(1);
    expect(r.images[0].signatures[0]).toMatchObject({
      format: 'simplesigning',
      source: 'referrers',
      verified: true,
    });
    expect(r.images[0].attestations[0]).toMatchObject({
      kind: 'provenance',
      source: 'referrers',
      verified: true,
    });
  });

  it('cosign experimental OCI 1.1 sign, negative: wrong key', async () => {
    const img = await image();
    const payload = cosignPayload(`${registry.host}/${img.repo}`, img.digest);
    const sig = await pushCosignExperimentalSig(
      registry.url,
      img.repo,
      img,
      payload,
      opensslSign(rogueKey, payload),
    );
    await pushFallbackIndex(registry.url, img.repo, img.digest, [sig]);
    const r = await decide(`${registry.host}/${img.repo}:${img.tag}`);
    expect(r.decision).toBe('non_compliant');
    expect(codes(r)).toEqual(['signature_invalid']);
  });

  it('@sigstore/oci attaching to a registry without the API writes its own fallback index: verifies', async () => {
    const img = await image(noApi.url);
    await attachWithSigstoreOci(
      noApi.host,
      img.repo,
      img.digest,
      await sigstoreMessageBundle(euSigstore, img.bytes),
    );
    const r = await decide(`${noApi.host}/${img.repo}:${img.tag}`);
    expect(codes(r)).toEqual([]);
    expect(r.images[0].signatures[0].source).toBe('referrers');
  });

  it('only unrelated referrers: nothing found, signature_missing (never an error)', async () => {
    const img = await image();
    const unrelated = await pushUnrelatedReferrer(registry.url, img.repo, img);
    await pushFallbackIndex(registry.url, img.repo, img.digest, [unrelated]);
    const r = await decide(`${registry.host}/${img.repo}:${img.tag}`);
    expect(codes(r)).toEqual(['signature_missing']);
  });
});

describe('referrers API (loopback proxy adding the API to docker-registry)', () => {
  it('@sigstore/oci attaches a @sigstore/sign DSSE bundle: provenance and signature verify', async () => {
    const img = await image(proxy.url);
    await attachWithSigstoreOci(
      proxy.host,
      img.repo,
      img.digest,
      await sigstoreDsseBundle(euSigstore, statement(img.digest)),
    );
    await attachWithSigstoreOci(
      proxy.host,
      img.repo,
      img.digest,
      await sigstoreMessageBundle(euSigstore, img.bytes),
    );
    const r = await decide(`${proxy.host}/${img.repo}:${img.tag}`, [
      'signature',
      'provenance',
    ]);
    expect(codes(r)).toEqual([]);
    expect(r.decision).toBe('compliant');
  });

  it('@sigstore/oci, negative: a bundle by an unconfigured key', async () => {
    const img = await image(proxy.url);
    await attachWithSigstoreOci(
      proxy.host,
      img.repo,
      img.digest,
      await sigstoreMessageBundle(rogueSigstore, img.bytes),
    );
    const r = await decide(`${proxy.host}/${img.repo}:${img.tag}`);
    expect(r.decision).toBe('non_compliant');
    expect(codes(r)).toEqual(['key_untrusted']);
  });

  it('cosign v3 referrer pushed to a registry with the API (no fallback index): verifies', async () => {
    const img = await image(proxy.url);
    await pushCosignV3Bundle(
      proxy.url,
      img.repo,
      img,
      await sigstoreMessageBundle(euSigstore, img.bytes),
    );
    const r = await decide(`${proxy.host}/${img.repo}:${img.tag}`);
    expect(codes(r)).toEqual([]);
  });
});

describe('OCI layouts', () => {
  it('skopeo copies of the image, .sig, .att and the fallback index into a layout: compliant', async () => {
    const img = await image();
    const payload = cosignPayload(`${registry.host}/${img.repo}`, img.digest);
    await pushSig(registry.url, img.repo, img.digest, [
      { payload, signature: opensslSign(euKey, payload) },
    ]);
    await pushAtt(
      registry.url,
      img.repo,
      img.digest,
      opensslEnvelope(euKey, statement(img.digest)),
    );
    const dir = join(layouts, `skopeo-${counter}`);
    const base = img.digest.replace(':', '-');
    skopeoToLayout(registry.host, img.repo, img.tag, dir);
    skopeoToLayout(registry.host, img.repo, `${base}.sig`, dir);
    skopeoToLayout(registry.host, img.repo, `${base}.att`, dir);
    const r = await decide(
      `oci:${dir}:${img.tag}`,
      ['signature', 'provenance'],
      [dir],
    );
    expect(codes(r)).toEqual([]);
    expect(r.images[0].digest).toBe(img.digest);
    expect(r.images[0].signatures[0].source).toBe('layout');
  });

  it('skopeo copies of the image and its cosign v3 referrer manifests into a layout: compliant', async () => {
    const img = await image();
    const ref = await pushCosignV3Bundle(
      registry.url,
      img.repo,
      img,
      await sigstoreDsseBundle(euSigstore, statement(img.digest)),
      { predicateType: PROVENANCE },
    );
    const sig = await pushCosignV3Bundle(
      registry.url,
      img.repo,
      img,
      await sigstoreMessageBundle(euSigstore, img.bytes),
    );
    const dir = join(layouts, `skopeo-referrers-${counter}`);
    skopeoToLayout(registry.host, img.repo, img.tag, dir);
    // skopeo copies one manifest per reference: the referrer manifests are copied by
    // digest, so the layout lists them with their subject (found through the layout's
    // subject map, as a layout has no referrers API)
    skopeoToLayout(registry.host, img.repo, ref.digest, dir, 'referrer-1');
    skopeoToLayout(registry.host, img.repo, sig.digest, dir, 'referrer-2');
    const r = await decide(
      `oci:${dir}:${img.tag}`,
      ['signature', 'provenance'],
      [dir],
    );
    expect(codes(r)).toEqual([]);
    expect(r.images[0].signatures[0]).toMatchObject({
      format: 'sigstore-bundle',
      source: 'layout',
      verified: true,
    });
  });

  it('skopeo layout, negative: a .sig by an unconfigured key', async () => {
    const img = await image();
    const payload = cosignPayload(`${registry.host}/${img.repo}`, img.digest);
    await pushSig(registry.url, img.repo, img.digest, [
      { payload, signature: opensslSign(rogueKey, payload) },
    ]);
    const dir = join(layouts, `skopeo-neg-${counter}`);
    skopeoToLayout(registry.host, img.repo, img.tag, dir);
    skopeoToLayout(
      registry.host,
      img.repo,
      `${img.digest.replace(':', '-')}.sig`,
      dir,
    );
    const r = await decide(`oci:${dir}:${img.tag}`, ['signature'], [dir]);
    expect(codes(r)).toEqual(['signature_invalid']);
  });

  /**
   * `cosign save` (pkg/oci/layout WriteSignedImage): index entries annotated
   * `kind: dev.cosignproject.cosign/image|sigs|atts`, no tag names. Built here from
   * a skopeo copy by rewriting index.json's annotations as cosign writes them.
   */
  function cosignSaveLayout(
    dir: string,
    imageDigest: string,
    sigDigest: string,
    attDigest?: string,
  ) {
    const idx = layoutIndex(dir);
    const kinds: Record<string, string> = {
      [imageDigest]: 'dev.cosignproject.cosign/image',
      [sigDigest]: 'dev.cosignproject.cosign/sigs',
      ...(attDigest ? { [attDigest]: 'dev.cosignproject.cosign/atts' } : {}),
    };
    const kind = (d: string): string | undefined => kinds[d];
    const manifests = idx.manifests
      .filter(m => kind(m.digest))
      .map(m => {
        const { annotations: _drop, ...rest } = m;
        return { ...rest, annotations: { kind: kind(m.digest)! } };
      });
    writeFileSync(
      join(dir, 'index.json'),
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_INDEX, manifests }),
    );
  }

  async function savedLayout(signer: typeof euKey) {
    const img = await image();
    const payload = cosignPayload(`${registry.host}/${img.repo}`, img.digest);
    const sig = await pushSig(registry.url, img.repo, img.digest, [
      { payload, signature: opensslSign(signer, payload) },
    ]);
    const att = await pushAtt(
      registry.url,
      img.repo,
      img.digest,
      opensslEnvelope(signer, statement(img.digest)),
    );
    const dir = join(layouts, `cosign-save-${counter}`);
    const base = img.digest.replace(':', '-');
    skopeoToLayout(registry.host, img.repo, img.tag, dir);
    skopeoToLayout(registry.host, img.repo, `${base}.sig`, dir);
    skopeoToLayout(registry.host, img.repo, `${base}.att`, dir);
    cosignSaveLayout(dir, img.digest, sig.digest, att.digest);
    return { img, dir };
  }

  it('cosign save layout: found by kind annotations, by digest and as the layout default', async () => {
    const { img, dir } = await savedLayout(euKey);
    const byDigest = await decide(
      `oci:${dir}@${img.digest}`,
      ['signature', 'provenance'],
      [dir],
    );
    expect(codes(byDigest)).toEqual([]);
    const byDefault = await decide(`oci:${dir}`, ['signature'], [dir]);
    expect(codes(byDefault)).toEqual([]);
    expect(byDefault.images[0].digest).toBe(img.digest);
  });

  it('cosign save layout, negatives: wrong key; sigs entry never attaches to another digest', async () => {
    const { dir } = await savedLayout(rogueKey);
    expect(codes(await decide(`oci:${dir}`, ['signature'], [dir]))).toEqual([
      'signature_invalid',
    ]);
    // a second image in the layout: nothing is guessed, the sigs are not found
    const good = await savedLayout(euKey);
    const second = await image();
    skopeoToLayout(registry.host, second.repo, second.tag, good.dir);
    const idx = layoutIndex(good.dir);
    for (const m of idx.manifests) {
      if (m.digest === second.digest)
        m.annotations = { kind: 'dev.cosignproject.cosign/image' };
    }
    writeFileSync(join(good.dir, 'index.json'), JSON.stringify(idx));
    const r = await decide(
      `oci:${good.dir}@${good.img.digest}`,
      ['signature'],
      [good.dir],
    );
    expect(codes(r)).toEqual(['signature_missing']);
  });
});

// keep the helpers honest: the in-toto type used above is the one cosign signs
test('producers: statement and PAE use the in-toto payload type', () => {
  expect(IN_TOTO).toBe('application/vnd.in-toto+json');
  expect(sha256('{}')).toMatch(/^sha256:/);
});
