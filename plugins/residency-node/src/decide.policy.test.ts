/*
 * Signature policy (issue 11 item 4): one signature verified with a trusted
 * in-boundary key satisfies `signature`; material that no configured key signed is
 * shown as ignored and never changes the decision (a push-only attacker must not be
 * able to flip a compliant image); a configured out-of-boundary key stays a
 * violation; `minSignatures` counts distinct keys by public-key fingerprint.
 */
import { generateKey } from '@residency-dev/signing-kit';
import type { EntityResult } from '@residency-dev/plugin-residency-common';
import {
  addSimpleSignature,
  addMessageBundle,
  addRawEnvelope,
  engineFor,
  EU_KEY_ID,
  FakeSource,
  keys,
  newImage,
  residencyConfig,
  settingsWith,
  type Fixture,
} from './__testUtils__/world';
import type { ResidencySettings } from './api';

async function evaluate(
  f: Fixture,
  settings: ResidencySettings = settingsWith(),
): Promise<EntityResult> {
  const source = new FakeSource();
  source.add(f);
  const { result } = await engineFor(settings, source).evaluateEntity({
    entityRef: 'component:default/shop',
    images: [f.reference],
    tenant: 'acme-eu',
  });
  return result;
}

const IGNORED = 'ignored: not signed by a configured key';
const second = generateKey('ecdsa-p256');
const SECOND_EU_KEY_ID =
  'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/0c7a0000-1111-2222-3333-777777777777';

function withSecondEuKey(tenantPatch?: Record<string, unknown>) {
  const base = residencyConfig();
  return settingsWith(
    {
      keys: [
        ...(base.keys as object[]),
        { id: SECOND_EU_KEY_ID, publicKey: second.publicKeyPem },
      ],
    },
    tenantPatch,
  );
}

describe('signature policy', () => {
  it('a valid in-boundary signature plus a signature by an unconfigured key stays compliant (ignored)', async () => {
    const f = newImage();
    addSimpleSignature(f, keys().eu);
    addSimpleSignature(f, keys().rogue);
    const result = await evaluate(f);
    expect(result.decision).toBe('compliant');
    const [good, bogus] = result.images[0].signatures;
    expect(good.verified).toBe(true);
    expect(good.ignored).toBeUndefined();
    expect(bogus.verified).toBe(false);
    expect(bogus.ignored).toBe(IGNORED);
    expect(result.images[0].reasons).toEqual([]);
  });

  it('garbage pushed beside a valid signature (bundle, envelope, tampered payload) is ignored', async () => {
    const f = newImage();
    addSimpleSignature(f, keys().eu);
    addSimpleSignature(f, keys().eu);
    f.material.simpleSignatures[1].payload =
      Buffer.from('{"x":1}').toString('base64');
    await addMessageBundle(f, keys().rogue);
    addRawEnvelope(f, { payloadType: 'x', payload: '', signatures: [] });
    const result = await evaluate(f);
    expect(result.decision).toBe('compliant');
    const img = result.images[0];
    expect(img.signatures.filter(s => s.ignored)).toHaveLength(2);
    expect(img.attestations[0].ignored).toBe(IGNORED);
  });

  it('only ignored signatures: the requirement is unmet and the reasons say why', async () => {
    const f = newImage();
    addSimpleSignature(f, keys().rogue);
    const result = await evaluate(f);
    expect(result.decision).toBe('non_compliant');
    expect(result.images[0].reasons.map(r => r.code)).toEqual([
      'signature_invalid',
    ]);
    expect(result.images[0].signatures[0].ignored).toBe(IGNORED);
  });

  it('a configured out-of-boundary key beside a valid EU signature stays a violation', async () => {
    const f = newImage();
    addSimpleSignature(f, keys().eu);
    addSimpleSignature(f, keys().us);
    const result = await evaluate(f);
    expect(result.decision).toBe('non_compliant');
    expect(result.images[0].reasons.map(r => r.code)).toEqual([
      'key_outside_boundary',
    ]);
    expect(result.images[0].signatures[1].ignored).toBeUndefined();
  });

  it('minSignatures 2: the same key twice is one signer', async () => {
    const f = newImage();
    addSimpleSignature(f, keys().eu);
    addSimpleSignature(f, keys().eu);
    const result = await evaluate(f, withSecondEuKey({ minSignatures: 2 }));
    expect(result.decision).toBe('non_compliant');
    const r = result.images[0].reasons[0];
    expect(r.code).toBe('signature_invalid');
    expect(r.details).toEqual({ required: 2, distinctSigners: 1 });
  });

  it('minSignatures 2: two distinct in-boundary keys are enough', async () => {
    const f = newImage();
    addSimpleSignature(f, keys().eu);
    addSimpleSignature(f, second);
    const result = await evaluate(f, withSecondEuKey({ minSignatures: 2 }));
    expect(result.decision).toBe('compliant');
    expect(result.images[0].signatures.map(s => s.key?.id)).toEqual([
      EU_KEY_ID,
      SECOND_EU_KEY_ID,
    ]);
  });

  it('minSignatures must be an integer from 1 to 16', () => {
    expect(() => withSecondEuKey({ minSignatures: 0 })).toThrow(
      /minSignatures/,
    );
    expect(() => withSecondEuKey({ minSignatures: 1.5 })).toThrow(
      /minSignatures/,
    );
  });
});
