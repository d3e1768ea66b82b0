/*
 * Interop corpus, keyless classic cosign `.sig` (issue 11 item 2): certificates,
 * Rekor entries and trusted roots made by @sigstore/mock, laid out as cosign v1/v2
 * keyless `sign` writes them (`dev.sigstore.cosign/certificate`, `/chain`, `/bundle`
 * annotations), pushed to the real docker-registry, decided by the engine. Trust comes
 * from the configured root and the tenant's identities, which give the region.
 */
import { mkdtempSync, rmSync } from 'node:fs';
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
} from '../source/__testUtils__/registry';
import {
  cosignPayload,
  IN_TOTO,
  MEDIA_DSSE,
  MEDIA_MANIFEST,
  MEDIA_SIMPLESIGNING,
  pae,
  statement,
} from './__testUtils__/producers';
import { mockSigstore, type MockSigstore } from './__testUtils__/keyless';

jest.setTimeout(60_000);

const SUBJECT =
  'https://github.com/acme/api/.github/workflows/release.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';

let registry: TestRegistry;
let dir: string;
let eu: MockSigstore;
let other: MockSigstore;
/** A deployment without CT log (GitHub's private instance shape, but with a log). */
let noCt: MockSigstore;
/** GitHub's private instance shape: Fulcio without CT, a TSA, no Rekor. */
let tsaOnly: MockSigstore;
/**
 * The same shape, whose clocks stand nine days ahead: a re-scan signed later than one
 * by `tsaOnly` (the mock's TSA certificates start now, so the past cannot be mocked;
 * the checks below run ten days ahead instead).
 */
let tsaLater: MockSigstore;
const DAY = 86400;
const T0 = Math.floor(Date.now() / 1000) * 1000;
const TEN_DAYS_ON = new Date(T0 + 10 * DAY * 1000);

beforeAll(async () => {
  registry = await startTestRegistry();
  dir = mkdtempSync(join(tmpdir(), 'residency-interop-keyless-'));
  eu = await mockSigstore(dir, 'eu');
  other = await mockSigstore(dir, 'other');
  noCt = await mockSigstore(dir, 'noct', { ctlog: false });
  tsaOnly = await mockSigstore(dir, 'tsaonly', {
    ctlog: false,
    tlog: false,
    tsa: true,
  });
  tsaLater = await mockSigstore(dir, 'tsalater', {
    ctlog: false,
    tlog: false,
    tsa: true,
    clock: new Date(T0 + 9 * DAY * 1000),
  });
});
afterAll(async () => {
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Identity {
  subject?: string;
  subjectRegExp?: string;
  issuer: string;
  region: string;
}

async function decide(
  reference: string,
  roots: MockSigstore[],
  identities: Identity[],
  require: string[] = ['signature'],
  tenantPatch: Record<string, unknown> = {},
  now?: Date,
): Promise<EntityResult> {
  const cfg = residencyConfig({
    registries: [{ host: registry.host, region: EU_REGION, insecure: true }],
    trustedRoots: roots.map((r, i) => ({
      name: `root-${i}`,
      path: r.rootFile,
    })),
  });
  (cfg.tenants as any)['acme-eu'].identities = identities;
  (cfg.tenants as any)['acme-eu'].require = require;
  Object.assign((cfg.tenants as any)['acme-eu'], tenantPatch);
  const e = DefaultResidencyEngine.create({
    settings: loadResidencySettings(configReaderFromObject({ residency: cfg })),
    ...(now ? { now: () => now } : {}),
  });
  try {
    const { result } = await e.evaluateEntity({
      entityRef: 'component:default/keyless',
      images: [reference],
      tenant: 'acme-eu',
    });
    return result;
  } finally {
    await e.close();
  }
}

let n = 0;
/** Pushes an image and a keyless `.sig` for it signed through `by`. */
async function keylessImage(
  by: MockSigstore,
  opts: {
    subject?: string;
    digest?: string;
    tamper?: boolean;
    log?: boolean;
    timestampOver?: Buffer;
  } = {},
) {
  n += 1;
  const repo = 'interop/keyless';
  const tag = `k${n}`;
  const img = await pushImage(registry.url, repo, tag, {
    layer: `keyless ${n} ${Math.random()}`,
  });
  const payload = cosignPayload(
    `${registry.host}/${repo}`,
    opts.digest ?? img.digest,
  );
  const s = await by.sign(payload, opts.subject ?? SUBJECT, ISSUER, {
    log: opts.log,
    timestampOver: opts.timestampOver,
  });
  const layerBytes = opts.tamper
    ? Buffer.from(
        payload.toString().replace('"optional":null', '"optional":{"a":1}'),
      )
    : payload;
  const config = await pushBlob(registry.url, repo, '{}');
  const layer = await pushBlob(registry.url, repo, layerBytes);
  await pushManifest(
    registry.url,
    repo,
    `${img.digest.replace(':', '-')}.sig`,
    {
      schemaVersion: 2,
      mediaType: MEDIA_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        ...config,
      },
      layers: [
        {
          mediaType: MEDIA_SIMPLESIGNING,
          ...layer,
          annotations: {
            'dev.cosignproject.cosign/signature': s.signature,
            'dev.sigstore.cosign/certificate': s.certificate,
            'dev.sigstore.cosign/chain': s.certificate,
            ...(s.rekorBundle
              ? { 'dev.sigstore.cosign/bundle': s.rekorBundle }
              : {}),
            ...(s.rfc3161Timestamp
              ? { 'dev.sigstore.cosign/rfc3161timestamp': s.rfc3161Timestamp }
              : {}),
          },
        },
      ],
    },
  );
  return `${registry.host}/${repo}:${tag}`;
}

const euIdentity: Identity = {
  subject: SUBJECT,
  issuer: ISSUER,
  region: EU_REGION,
};
const codes = (r: EntityResult) => r.images[0].reasons.map(x => x.code);

describe('keyless cosign .sig (certificate + Rekor SET annotations)', () => {
  it('verifies against the configured root; the identity gives the region', async () => {
    const r = await decide(await keylessImage(eu), [eu], [euIdentity]);
    expect(codes(r)).toEqual([]);
    expect(r.decision).toBe('compliant');
    expect(r.images[0].signatures[0]).toMatchObject({
      format: 'simplesigning',
      verified: true,
      identity: { subject: SUBJECT, issuer: ISSUER },
    });
  });

  it('subject as a whole-string regexp', async () => {
    const r = await decide(
      await keylessImage(eu),
      [eu],
      [
        {
          subjectRegExp: 'https://github\\.com/acme/.*',
          issuer: ISSUER,
          region: EU_REGION,
        },
      ],
    );
    expect(codes(r)).toEqual([]);
  });

  it('an identity in another region is a violation (key_outside_boundary)', async () => {
    const r = await decide(
      await keylessImage(eu),
      [eu],
      [{ ...euIdentity, region: 'us-east-1' }],
    );
    expect(codes(r)).toEqual(['key_outside_boundary']);
  });

  it('wrong identity: not a configured identity of the tenant', async () => {
    const r = await decide(
      await keylessImage(eu, { subject: 'https://github.com/evil/x' }),
      [eu],
      [euIdentity],
    );
    expect(r.decision).toBe('non_compliant');
    expect(codes(r)).toEqual(['key_untrusted']);
  });

  it('wrong root: a certificate from an unconfigured CA', async () => {
    const r = await decide(await keylessImage(other), [eu], [euIdentity]);
    expect(r.decision).toBe('non_compliant');
    expect(codes(r)).toEqual(['signature_invalid']);
    expect(r.images[0].reasons[0].message).not.toMatch(/undefined|TypeError/);
  });

  it('wrong digest: a keyless signature of another image', async () => {
    const r = await decide(
      await keylessImage(eu, { digest: `sha256:${'1'.repeat(64)}` }),
      [eu],
      [euIdentity],
    );
    expect(codes(r)).toEqual(['digest_mismatch']);
  });

  it('tampered payload', async () => {
    const r = await decide(
      await keylessImage(eu, { tamper: true }),
      [eu],
      [euIdentity],
    );
    expect(r.decision).toBe('non_compliant');
    expect(codes(r)).toEqual(['signature_invalid']);
  });

  it('no signing time (no Rekor bundle annotation): refused', async () => {
    const r = await decide(
      await keylessImage(eu, { log: false }),
      [eu],
      [euIdentity],
    );
    expect(codes(r)).toEqual(['signature_invalid']);
  });

  it('thresholds per root: a root without CT logs verifies beside a root that has them', async () => {
    const ref = await keylessImage(noCt);
    const r = await decide(ref, [eu, noCt], [euIdentity]);
    expect(codes(r)).toEqual([]);
    expect(r.decision).toBe('compliant');
  });

  it('RFC 3161 timestamp instead of Rekor (TSA-only root, beside a root with logs): verifies', async () => {
    const ref = await keylessImage(tsaOnly);
    const alone = await decide(ref, [tsaOnly], [euIdentity]);
    expect(codes(alone)).toEqual([]);
    const beside = await decide(ref, [eu, tsaOnly], [euIdentity]);
    expect(codes(beside)).toEqual([]);
    expect(beside.decision).toBe('compliant');
  });

  it('RFC 3161 timestamp over another signature: no signing time, refused', async () => {
    const ref = await keylessImage(tsaOnly, {
      timestampOver: Buffer.from('another signature'),
    });
    const r = await decide(ref, [tsaOnly], [euIdentity]);
    expect(r.decision).toBe('non_compliant');
    expect(codes(r)).toEqual(['signature_invalid']);
  });

  it('signed times from the future (a misbehaving log and CA a day ahead) are refused', async () => {
    const ahead = new Date(Math.floor(Date.now() / 1000) * 1000 + 86_400_000);
    const future = await mockSigstore(dir, 'future', { clock: ahead });
    const r = await decide(await keylessImage(future), [future], [euIdentity]);
    expect(r.decision).toBe('non_compliant');
    expect(codes(r)).toEqual(['signature_invalid']);
    expect(r.images[0].reasons[0].message).toMatch(
      /after the verification time/,
    );
  });

  it('keyless cosign attest: a DSSE .att layer with certificate and RFC 3161 annotations satisfies provenance', async () => {
    const ref = await keylessImage(tsaOnly);
    const digest = await digestOfTag(ref);
    await pushKeylessAttestation(tsaOnly, ref, statement(digest));
    const r = await decide(
      ref,
      [eu, tsaOnly],
      [euIdentity],
      ['signature', 'provenance'],
    );
    expect(codes(r)).toEqual([]);
    expect(r.images[0].attestations[0]).toMatchObject({
      kind: 'provenance',
      verified: true,
    });
  });

  it('keyless cosign attest, negatives: another image (violation), wrong identity (ignored)', async () => {
    const ref = await keylessImage(tsaOnly);
    await pushKeylessAttestation(
      tsaOnly,
      ref,
      statement(`sha256:${'2'.repeat(64)}`),
    );
    const r = await decide(
      ref,
      [tsaOnly],
      [euIdentity],
      ['signature', 'provenance'],
    );
    expect(codes(r)).toEqual(
      expect.arrayContaining([
        'subject_mismatch',
        'attestation_missing:provenance',
      ]),
    );
    const ref2 = await keylessImage(tsaOnly);
    await pushKeylessAttestation(
      tsaOnly,
      ref2,
      statement(await digestOfTag(ref2)),
      'https://github.com/evil/x',
    );
    const r2 = await decide(
      ref2,
      [tsaOnly],
      [euIdentity],
      ['signature', 'provenance'],
    );
    expect(codes(r2)).toEqual([
      'key_untrusted',
      'attestation_missing:provenance',
    ]);
    expect(r2.images[0].attestations[0].ignored).toBeDefined();
  });
});

describe('verification report and freshness with trustworthy signed times (issue 19)', () => {
  const checksOf = (r: EntityResult, path: string) =>
    r.images[0]
      .report!.checks.filter(c => c.material?.path === path)
      .map(c => `${c.id}:${c.outcome}`);
  const find = (r: EntityResult, id: string, path: string) =>
    r.images[0].report!.checks.find(
      c => c.id === id && c.material?.path === path,
    );

  it('keyless .sig with a Rekor SET: chain, identity, log and timestamp checks name their anchors', async () => {
    const r = await decide(await keylessImage(eu), [eu], [euIdentity]);
    expect(codes(r)).toEqual([]);
    expect(checksOf(r, 'simpleSignatures[0]')).toEqual([
      'material_parsed:pass',
      'subject_digest:pass',
      'signature_verified:pass',
      'certificate_chain:pass',
      'identity:pass',
      'transparency_log:pass',
      'timestamp:pass',
      'key_validity:not_applicable',
      'key_region:pass',
    ]);
    expect(find(r, 'identity', 'simpleSignatures[0]')).toMatchObject({
      expected: `subject ${SUBJECT} from issuer ${ISSUER}`,
      found: `subject ${SUBJECT} from issuer ${ISSUER}`,
    });
    const log = find(r, 'transparency_log', 'simpleSignatures[0]')!;
    expect(log.trustAnchor).toMatchObject({
      trustedRoot: 'root-0',
      identity: { subject: SUBJECT, issuer: ISSUER, region: EU_REGION },
    });
    expect(log.trustAnchor?.logId).toMatch(/^[0-9a-f]{64}$/);
    expect(log.time?.source).toBe('tlog');
  });

  it('wrong identity: the identity check fails with the expected pattern and the actual SAN', async () => {
    const r = await decide(
      await keylessImage(eu, { subject: 'https://github.com/evil/x' }),
      [eu],
      [euIdentity],
    );
    expect(checksOf(r, 'simpleSignatures[0]').slice(3, 6)).toEqual([
      'certificate_chain:pass',
      'identity:fail',
      'transparency_log:skipped',
    ]);
    expect(find(r, 'identity', 'simpleSignatures[0]')).toMatchObject({
      reason: 'key_untrusted',
      expected: `subject ${SUBJECT} from issuer ${ISSUER}`,
      found: `subject https://github.com/evil/x from issuer ${ISSUER}`,
    });
  });

  it('maxAge: a keyless attestation timestamped ten days ago is stale for 7d, fresh for 30d', async () => {
    const ref = await keylessImage(tsaOnly);
    await pushKeylessAttestations(ref, [
      { by: tsaOnly, payload: statement(await digestOfTag(ref)) },
    ]);
    const roots = [tsaOnly, tsaLater];
    const require = ['signature', 'provenance'];
    const stale = await decide(
      ref,
      roots,
      [euIdentity],
      require,
      { maxAge: { provenance: '7d' } },
      TEN_DAYS_ON,
    );
    expect(codes(stale)).toEqual(['attestation_stale:provenance']);
    const why = stale.images[0].reasons[0].details!;
    expect(why.maxAgeSeconds).toBe(7 * 86400);
    expect(why.ageSeconds as number).toBeGreaterThanOrEqual(10 * DAY - 600);
    expect(why.ageSeconds as number).toBeLessThanOrEqual(10 * DAY);
    expect(find(stale, 'attestation_freshness', 'envelopes[0]')).toMatchObject({
      outcome: 'fail',
      reason: 'attestation_stale:provenance',
      expected: 'signed at most 7d before the check',
      time: { source: 'rfc3161' },
    });
    expect(stale.images[0].attestations[0].signedAt).toBe(
      find(stale, 'attestation_freshness', 'envelopes[0]')!.time!.at,
    );

    const fresh = await decide(
      ref,
      roots,
      [euIdentity],
      require,
      { maxAge: { provenance: '30d' } },
      TEN_DAYS_ON,
    );
    expect(codes(fresh)).toEqual([]);
    expect(find(fresh, 'attestation_freshness', 'envelopes[0]')?.outcome).toBe(
      'pass',
    );
  });

  it('a re-scan replaces an old result: the newest by signed time decides, the older is superseded', async () => {
    const ref = await keylessImage(tsaOnly);
    const digest = await digestOfTag(ref);
    await pushKeylessAttestations(ref, [
      { by: tsaOnly, payload: statement(digest) },
      { by: tsaLater, payload: statement(digest) },
    ]);
    const r = await decide(
      ref,
      [tsaOnly, tsaLater],
      [euIdentity],
      ['signature', 'provenance'],
      { maxAge: { provenance: '7d' } },
      TEN_DAYS_ON,
    );
    expect(codes(r)).toEqual([]);
    expect(r.images[0].attestations[0].superseded).toBe('attestations[1]');
    expect(r.images[0].attestations[1].superseded).toBeUndefined();
    expect(find(r, 'attestation_newest', 'envelopes[0]')).toMatchObject({
      outcome: 'skipped',
    });
    expect(find(r, 'attestation_newest', 'envelopes[0]')!.why).toMatch(
      /^superseded by attestations\[1\], signed later/,
    );
    expect(find(r, 'attestation_newest', 'envelopes[1]')?.outcome).toBe('pass');
    expect(find(r, 'attestation_freshness', 'envelopes[1]')?.outcome).toBe(
      'pass',
    );
  });
});

/** cosign keyless `attest` with several attestations in one `.att` manifest (one layer each). */
async function pushKeylessAttestations(
  ref: string,
  items: { by: MockSigstore; payload: Buffer }[],
) {
  const digest = await digestOfTag(ref);
  const repo = ref.slice(ref.indexOf('/') + 1, ref.lastIndexOf(':'));
  const layers = [];
  for (const { by, payload } of items) {
    const s = await by.sign(pae(IN_TOTO, payload), SUBJECT, ISSUER);
    const envelope = JSON.stringify({
      payloadType: IN_TOTO,
      payload: payload.toString('base64'),
      signatures: [{ keyid: '', sig: s.signature }],
    });
    const layer = await pushBlob(registry.url, repo, envelope);
    layers.push({
      mediaType: MEDIA_DSSE,
      ...layer,
      annotations: {
        predicateType: 'https://slsa.dev/provenance/v1',
        'dev.sigstore.cosign/certificate': s.certificate,
        ...(s.rfc3161Timestamp
          ? { 'dev.sigstore.cosign/rfc3161timestamp': s.rfc3161Timestamp }
          : {}),
      },
    });
  }
  const config = await pushBlob(registry.url, repo, '{}');
  await pushManifest(registry.url, repo, `${digest.replace(':', '-')}.att`, {
    schemaVersion: 2,
    mediaType: MEDIA_MANIFEST,
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      ...config,
    },
    layers,
  });
}

/** The digest a `host/repo:tag` reference was pushed as. */
async function digestOfTag(ref: string): Promise<string> {
  const [hostRepo, tag] = [
    ref.slice(0, ref.lastIndexOf(':')),
    ref.slice(ref.lastIndexOf(':') + 1),
  ];
  const repo = hostRepo.slice(hostRepo.indexOf('/') + 1);
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: MEDIA_MANIFEST },
  });
  return res.headers.get('docker-content-digest')!;
}

/** cosign keyless `attest`: the `.att` DSSE layer with certificate and timestamp annotations. */
async function pushKeylessAttestation(
  by: MockSigstore,
  ref: string,
  payload: Buffer,
  subject = SUBJECT,
) {
  const digest = await digestOfTag(ref);
  const repo = ref.slice(ref.indexOf('/') + 1, ref.lastIndexOf(':'));
  const s = await by.sign(pae(IN_TOTO, payload), subject, ISSUER);
  const envelope = JSON.stringify({
    payloadType: IN_TOTO,
    payload: payload.toString('base64'),
    signatures: [{ keyid: '', sig: s.signature }],
  });
  const config = await pushBlob(registry.url, repo, '{}');
  const layer = await pushBlob(registry.url, repo, envelope);
  await pushManifest(registry.url, repo, `${digest.replace(':', '-')}.att`, {
    schemaVersion: 2,
    mediaType: MEDIA_MANIFEST,
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      ...config,
    },
    layers: [
      {
        mediaType: MEDIA_DSSE,
        ...layer,
        annotations: {
          predicateType: 'https://slsa.dev/provenance/v1',
          'dev.sigstore.cosign/certificate': s.certificate,
          'dev.sigstore.cosign/chain': s.certificate,
          ...(s.rfc3161Timestamp
            ? { 'dev.sigstore.cosign/rfc3161timestamp': s.rfc3161Timestamp }
            : {}),
        },
      },
    ],
  });
}
