/*
 * Test world for the verifier: an EU and a US key pinned in configuration, a
 * rogue key that is not, registries in and outside the boundary, one tenant, and
 * helpers that build material exactly as the sources hand it over.
 */
import {
  generateKey,
  imageSubject,
  makeImage,
  makeMessageBundle,
  makeStatement,
  makeStatementBundle,
  ResidencyConfigBuilder,
  signSimpleSigning,
  signStatement,
  simpleSigningPayload,
  slsaProvenanceV02,
  type SigningKey,
  type BuiltImage,
} from '@residency-dev/signing-kit';
import type { ImageMaterial } from '@residency-dev/plugin-residency-common';
import { configReaderFromObject, loadResidencySettings } from '../config';
import type { ResidencySettings } from '../api';
import { DefaultResidencyEngine } from '../engine';
import type { ArtifactSource, Discovery } from '../source/types';
import { SourceError } from '../source/types';
import { parseImageReference } from '../reference';

export const EU_REGION = 'eusc-de-east-1';
export const EU_KEY_ID =
  'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/0c7a0000-1111-2222-3333-444455556666';
export const US_KEY_ID = 'awskms:///arn:aws:kms:us-east-1:111122223333:key/us';
export const EU_REG = 'registry.eu.example.com';
export const US_REG = 'registry.us.example.com';

let cachedKeys:
  | { eu: SigningKey; us: SigningKey; rogue: SigningKey; old: SigningKey }
  | undefined;
export function keys() {
  cachedKeys ??= {
    eu: generateKey('ecdsa-p256'),
    us: generateKey('ecdsa-p256'),
    rogue: generateKey('ecdsa-p256'),
    old: generateKey('ecdsa-p256'),
  };
  return cachedKeys;
}

export function residencyConfig(
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const k = keys();
  return {
    ...ResidencyConfigBuilder.create()
      .boundary('eu-sovereign', [EU_REGION])
      .registry({ host: EU_REG, region: EU_REGION })
      .registry({ host: US_REG, region: 'us-east-1' })
      .key({ id: EU_KEY_ID, publicKey: k.eu.publicKeyPem })
      .key({ id: US_KEY_ID, publicKey: k.us.publicKeyPem })
      .tenant('acme-eu', {
        boundary: 'eu-sovereign',
        require: ['signature'],
        allowedHosts: [
          'git.eu.example.com',
          'builder.eu.example.com',
          'slsa.dev',
          'residency.dev',
          '*.eu.example.com',
        ],
      })
      .build(),
    ...overrides,
  };
}

export function settingsWith(
  overrides: Record<string, unknown> = {},
  tenantPatch?: Record<string, unknown>,
): ResidencySettings {
  const cfg = residencyConfig(overrides);
  if (tenantPatch) {
    const t = (cfg.tenants as Record<string, Record<string, unknown>>)[
      'acme-eu'
    ];
    Object.assign(t, tenantPatch);
  }
  return loadResidencySettings(configReaderFromObject({ residency: cfg }));
}

export interface Fixture {
  image: BuiltImage;
  reference: string;
  material: ImageMaterial;
}

export function newImage(host = EU_REG, repo = 'shop/api'): Fixture {
  const image = makeImage({
    deterministic: false,
    labels: { 'residency.dev/region': 'eu-claimed' },
  });
  const reference = `${host}/${repo}@${image.digest}`;
  return {
    image,
    reference,
    material: {
      reference,
      digest: image.digest,
      manifest: Buffer.from(image.manifest.bytes).toString('base64'),
      manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
      simpleSignatures: [],
      envelopes: [],
      bundles: [],
    },
  };
}

export function addSimpleSignature(
  f: Fixture,
  key: SigningKey,
  opts: { digest?: string; payload?: Uint8Array } = {},
) {
  const payload =
    opts.payload ??
    simpleSigningPayload({
      dockerReference: f.reference.split('@')[0],
      digest: opts.digest ?? f.image.digest,
    });
  const sig = signSimpleSigning(key, payload);
  f.material.simpleSignatures.push({
    payload: Buffer.from(sig.payload).toString('base64'),
    signature: sig.signature,
    source: 'cosign-tag',
  });
}

export function statementFor(
  f: Fixture,
  predicateType: string,
  predicate: unknown,
  opts: {
    digest?: string;
    forge?: { omitType?: boolean; omitSubjects?: boolean };
  } = {},
) {
  return makeStatement({
    subjects: [
      imageSubject(f.reference.split('@')[0], opts.digest ?? f.image.digest),
    ],
    predicateType,
    predicate,
    forge: opts.forge,
  });
}

export function addEnvelope(
  f: Fixture,
  key: SigningKey,
  statement: Record<string, unknown>,
  forge?: Parameters<typeof signStatement>[2],
) {
  const env = signStatement(key, statement, forge);
  f.material.envelopes.push({
    envelope: JSON.stringify(env),
    source: 'cosign-tag',
  });
}

/** Dependency outside every allowed host, used by the external-reference cases. */
export const EXTERNAL_DEPENDENCY = 'git+https://github.com/evil/dep@v1';

/** Adds an EU-signed SLSA v0.2 provenance whose materials name `EXTERNAL_DEPENDENCY`. */
export function addExternalProvenance(f: Fixture) {
  const p = slsaProvenanceV02({
    builderId: 'https://builder.eu.example.com/runner',
    buildType: 'https://slsa.dev/container-based-build/v0.1',
    materials: [{ uri: EXTERNAL_DEPENDENCY, digest: { sha1: 'b'.repeat(40) } }],
  });
  addEnvelope(f, keys().eu, statementFor(f, p.predicateType, p.predicate));
}

export function addRawEnvelope(f: Fixture, envelope: unknown) {
  f.material.envelopes.push({
    envelope:
      typeof envelope === 'string' ? envelope : JSON.stringify(envelope),
    source: 'cosign-tag',
  });
}

export async function addStatementBundle(
  f: Fixture,
  key: SigningKey,
  statement: Record<string, unknown>,
  opts?: Parameters<typeof makeStatementBundle>[2],
) {
  const b = await makeStatementBundle(key, statement, opts);
  f.material.bundles.push({ bundle: JSON.stringify(b), source: 'referrers' });
  return b;
}

export async function addMessageBundle(
  f: Fixture,
  key: SigningKey,
  opts?: Parameters<typeof makeMessageBundle>[2],
) {
  const b = await makeMessageBundle(key, f.image.manifest.bytes, opts);
  f.material.bundles.push({ bundle: JSON.stringify(b), source: 'referrers' });
  return b;
}

/** A source serving fixtures by reference; counts calls so tests can assert "no network". */
export class FakeSource implements ArtifactSource {
  calls = 0;
  readonly images = new Map<
    string,
    { fixture: Fixture; claims?: Record<string, string> }
  >();
  failWith?: SourceError;

  add(f: Fixture) {
    this.images.set(f.reference, { fixture: f });
    return this;
  }

  async resolve(ref: ReturnType<typeof parseImageReference>) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    const hit = this.images.get(ref.original);
    if (!hit) throw new SourceError('not_found', 'no such image');
    const f = hit.fixture;
    return {
      reference: ref,
      digest: f.image.digest,
      manifest: f.image.manifest.bytes,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    };
  }

  async discover(image: {
    reference: ReturnType<typeof parseImageReference>;
  }): Promise<Discovery> {
    this.calls++;
    const f = this.images.get(image.reference.original)!.fixture;
    return {
      signatures: f.material.simpleSignatures.map(s => ({
        source: 'cosign-tag' as const,
        payload: Buffer.from(s.payload, 'base64'),
        signature: s.signature,
        ...(s.rekorBundle ? { rekorBundle: s.rekorBundle } : {}),
      })),
      envelopes: f.material.envelopes.map(e => ({
        source: 'cosign-tag' as const,
        envelope: Buffer.from(e.envelope),
      })),
      bundles: f.material.bundles.map(b => ({
        source: 'referrers' as const,
        bundle: Buffer.from(b.bundle),
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      })),
      claims: { 'residency.dev/region': 'eusc-de-east-1' },
    };
  }
}

export const FIXED_NOW = new Date('2026-06-01T12:00:00Z');

export function engineFor(
  settings: ResidencySettings,
  source: ArtifactSource,
  now = FIXED_NOW,
) {
  return DefaultResidencyEngine.create({ settings, source, now: () => now });
}
