/*
 * Case 14 with trustworthy time: a private transparency log (our own key in a
 * private trusted_root.json) countersigns a key-based bundle; its integrated time,
 * once the inclusion promise verifies, decides the key's validity window instead
 * of the verification time.
 */
import { createHash, sign, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import {
  addSimpleSignature,
  EU_KEY_ID,
  FakeSource,
  engineFor,
  keys,
  newImage,
  settingsWith,
  type Fixture,
} from '../__testUtils__/world';

const rekor = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rekorDer = rekor.publicKey.export({ type: 'spki', format: 'der' });
const logId = createHash('sha256').update(rekorDer).digest();

function trustedRootFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'residency-root-'));
  const file = join(dir, 'trusted_root.json');
  writeFileSync(
    file,
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [
        {
          baseUrl: 'https://rekor.eu.example.com',
          hashAlgorithm: 'SHA2_256',
          publicKey: {
            rawBytes: rekorDer.toString('base64'),
            keyDetails: 'PKIX_ECDSA_P256_SHA_256',
            validFor: { start: '2020-01-01T00:00:00Z' },
          },
          logId: { keyId: logId.toString('base64') },
        },
      ],
      certificateAuthorities: [],
      ctlogs: [],
      timestampAuthorities: [],
    }),
  );
  return file;
}

/** A v0.1 key-based message-signature bundle with a hashedrekord tlog entry and an inclusion promise. */
function timestampedBundle(
  f: Fixture,
  integratedTime: Date,
  opts: { tamperSet?: boolean } = {},
) {
  const manifest = Buffer.from(f.image.manifest.bytes);
  const sig = sign('sha256', manifest, keys().eu.privateKey);
  const digest = createHash('sha256').update(manifest).digest();
  const body = Buffer.from(
    JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        signature: {
          content: sig.toString('base64'),
          publicKey: {
            content: Buffer.from(keys().eu.publicKeyPem).toString('base64'),
          },
        },
        data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
      },
    }),
  );
  const time = Math.floor(integratedTime.getTime() / 1000);
  const payload = {
    body: body.toString('base64'),
    integratedTime: time,
    logIndex: 42,
    logID: logId.toString('hex'),
  };
  let set = sign(
    'sha256',
    Buffer.from((canonicalize as unknown as (v: unknown) => string)(payload)),
    rekor.privateKey,
  );
  if (opts.tamperSet)
    set = Buffer.from(set.map((b, i) => (i === set.length - 1 ? b ^ 1 : b)));
  const bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      publicKey: { hint: '' },
      tlogEntries: [
        {
          logIndex: '42',
          logId: { keyId: logId.toString('base64') },
          kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
          integratedTime: String(time),
          inclusionPromise: { signedEntryTimestamp: set.toString('base64') },
          canonicalizedBody: body.toString('base64'),
        },
      ],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    messageSignature: {
      messageDigest: {
        algorithm: 'SHA2_256',
        digest: digest.toString('base64'),
      },
      signature: sig.toString('base64'),
    },
  };
  f.material.bundles.push({
    bundle: JSON.stringify(bundle),
    source: 'referrers',
  });
}

const WINDOW = {
  validFrom: '2026-01-01T00:00:00Z',
  validUntil: '2026-03-01T00:00:00Z',
};
const NOW = new Date('2026-06-01T00:00:00Z'); // after the window

async function run(f: Fixture, withRoot: boolean) {
  const settings = settingsWith({
    keys: [{ id: EU_KEY_ID, publicKey: keys().eu.publicKeyPem, ...WINDOW }],
    ...(withRoot
      ? { trustedRoots: [{ name: 'private-rekor', path: trustedRootFile() }] }
      : {}),
  });
  const engine = engineFor(settings, new FakeSource().add(f), NOW);
  const { result } = await engine.evaluateEntity({
    entityRef: 'c:d/x',
    images: [f.reference],
    tenant: 'acme-eu',
  });
  return result;
}

describe('key validity by trustworthy time (case 14)', () => {
  it('a signature logged inside the window verifies although the key has expired since', async () => {
    const f = newImage();
    timestampedBundle(f, new Date('2026-02-01T00:00:00Z'));
    const result = await run(f, true);
    expect(result.images[0].reasons).toEqual([]);
    expect(result.decision).toBe('compliant');
  });

  it('a signature logged after validUntil is key_expired by the trusted timestamp', async () => {
    const f = newImage();
    timestampedBundle(f, new Date('2026-04-01T00:00:00Z'));
    const result = await run(f, true);
    const r = result.images[0].reasons.find(x => x.code === 'key_expired');
    expect(r?.details).toMatchObject({
      timeSource: 'trusted-timestamp',
      time: '2026-04-01T00:00:00.000Z',
    });
  });

  it('a forged inclusion promise is not trustworthy time: the bundle does not verify', async () => {
    const f = newImage();
    timestampedBundle(f, new Date('2026-02-01T00:00:00Z'), { tamperSet: true });
    const result = await run(f, true);
    expect(result.decision).toBe('non_compliant');
    expect(result.images[0].signatures[0].verified).toBe(false);
  });

  it('without a configured trusted root the log time is ignored and the expired key fails closed', async () => {
    const f = newImage();
    timestampedBundle(f, new Date('2026-02-01T00:00:00Z'));
    const result = await run(f, false);
    const r = result.images[0].reasons.find(x => x.code === 'key_expired');
    expect(r?.details).toMatchObject({ timeSource: 'verification-time' });
  });
});

/** cosign's `dev.sigstore.cosign/bundle` annotation for the fixture's simple signature. */
function addRekorAnnotation(
  f: Fixture,
  integratedTime: Date,
  opts: { otherPayload?: boolean } = {},
) {
  const s = f.material.simpleSignatures[0];
  const payload = Buffer.from(s.payload, 'base64');
  const hashed = opts.otherPayload ? Buffer.from('something else') : payload;
  const body = Buffer.from(
    JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        signature: {
          content: s.signature,
          publicKey: {
            content: Buffer.from(keys().eu.publicKeyPem).toString('base64'),
          },
        },
        data: {
          hash: {
            algorithm: 'sha256',
            value: createHash('sha256').update(hashed).digest('hex'),
          },
        },
      },
    }),
  ).toString('base64');
  const Payload = {
    body,
    integratedTime: Math.floor(integratedTime.getTime() / 1000),
    logIndex: 7,
    logID: logId.toString('hex'),
  };
  const set = sign(
    'sha256',
    Buffer.from((canonicalize as unknown as (v: unknown) => string)(Payload)),
    rekor.privateKey,
  );
  s.rekorBundle = JSON.stringify({
    SignedEntryTimestamp: set.toString('base64'),
    Payload,
  });
}

describe('simple signatures with a Rekor bundle annotation (case 14)', () => {
  it('a verified SET inside the window is trustworthy time', async () => {
    const f = newImage();
    addSimpleSignature(f, keys().eu);
    addRekorAnnotation(f, new Date('2026-02-01T00:00:00Z'));
    const result = await run(f, true);
    expect(result.decision).toBe('compliant');
  });

  it('a SET over another payload gives no trustworthy time: the expired key fails closed', async () => {
    const f = newImage();
    addSimpleSignature(f, keys().eu);
    addRekorAnnotation(f, new Date('2026-02-01T00:00:00Z'), {
      otherPayload: true,
    });
    const result = await run(f, true);
    expect(result.images[0].reasons.map(r => r.code)).toEqual(['key_expired']);
  });
});

describe('signed times from the future (issue 12 item 2)', () => {
  it('a SET whose integrated time lies after the verification time is refused (simple signature)', async () => {
    const f = newImage();
    addSimpleSignature(f, keys().eu);
    addRekorAnnotation(f, new Date(NOW.getTime() + 24 * 3600_000));
    const result = await run(f, true);
    expect(result.decision).toBe('non_compliant');
    const r = result.images[0].reasons[0];
    expect(r.code).toBe('signature_invalid');
    expect(r.message).toMatch(/after the verification time/);
  });

  it('a bundle tlog entry from the future is refused', async () => {
    const f = newImage();
    timestampedBundle(f, new Date(NOW.getTime() + 24 * 3600_000));
    const result = await run(f, true);
    expect(result.decision).toBe('non_compliant');
    expect(result.images[0].reasons.map(x => x.code)).toEqual([
      'signature_invalid',
    ]);
  });

  it('within the skew (one minute ahead) is accepted', async () => {
    const f = newImage();
    addSimpleSignature(f, keys().eu);
    addRekorAnnotation(f, new Date(NOW.getTime() + 60_000));
    const result = await run(f, true);
    expect(result.images[0].reasons.map(x => x.code)).not.toContain(
      'signature_invalid',
    );
  });
});
