import { mkdtempSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configReaderFromObject } from '../config';
import { createVsaSigner, loadVsaSettings } from './config';

const boundaries = { 'eu-sovereign': ['eusc-de-east-1'] };
const load = (vsa: unknown, baseDir?: string) =>
  loadVsaSettings(
    configReaderFromObject({ residency: { vsa } }),
    { boundaries },
    { baseDir },
  );

describe('loadVsaSettings', () => {
  it('is undefined without residency.vsa', () => {
    expect(
      loadVsaSettings(configReaderFromObject({ residency: {} }), {
        boundaries,
      }),
    ).toBeUndefined();
  });

  it('loads a file key relative to the config and signs with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsa-cfg-'));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(
      join(dir, 'vsa.pem'),
      privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    const s = load(
      {
        verifierId: 'https://portal.example.com',
        signingKey: { file: 'vsa.pem', region: 'eusc-de-east-1' },
      },
      dir,
    )!;
    expect(s).toMatchObject({
      publish: false,
      signingKey: { kind: 'file', path: join(dir, 'vsa.pem') },
    });
    const signer = createVsaSigner(s);
    expect((await signer.sign(Buffer.from('x'))).length).toBeGreaterThan(60);
  });

  it('derives the region of a KMS key from its ARN', () => {
    const s = load({
      verifierId: 'https://portal.example.com',
      publish: true,
      signingKey: {
        awsKms:
          'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/abc',
      },
    })!;
    expect(s.signingKey).toMatchObject({
      kind: 'awsKms',
      region: 'eusc-de-east-1',
    });
    expect(s.publish).toBe(true);
  });

  it.each([
    [
      { signingKey: { file: 'k.pem', region: 'eusc-de-east-1' } },
      'vsa_config_invalid',
    ],
    [
      {
        verifierId: 'portal',
        signingKey: { file: 'k.pem', region: 'eusc-de-east-1' },
      },
      'vsa_config_invalid',
    ],
    [
      { verifierId: 'https://p', signingKey: { file: 'k.pem' } },
      'vsa_config_invalid',
    ],
    [
      {
        verifierId: 'https://p',
        signingKey: { awsKms: 'awskms:///alias/vsa' },
      },
      'vsa_key_region_unpinned',
    ],
    [
      {
        verifierId: 'https://p',
        signingKey: { awsKms: 'arn:aws:kms:us-east-1:111122223333:key/abc' },
      },
      'vsa_key_outside_boundary',
    ],
    [
      {
        verifierId: 'https://p',
        signingKey: {
          awsKms: 'arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/abc',
          region: 'eu-central-1',
        },
      },
      'vsa_config_invalid',
    ],
    [
      {
        verifierId: 'https://p',
        signingKey: {
          file: 'k.pem',
          awsKms: 'arn:x',
          region: 'eusc-de-east-1',
        },
      },
      'vsa_config_invalid',
    ],
  ])('rejects %j with %s', (vsa, code) => {
    expect(() => load(vsa)).toThrow(expect.objectContaining({ code }));
  });
});
