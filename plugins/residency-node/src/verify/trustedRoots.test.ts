/*
 * trusted_root.json generations (issue 11 item 3): every shape in use loads — the
 * public-good root as @sigstore/tuf ships it, older documents without the optional
 * `ctlogs`/`timestampAuthorities`/`validFor` fields, TSA-only (GitHub's private
 * instance shape) and log-only roots — and anything else is a typed configuration
 * error with a plain message, never a library TypeError.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initializeTSA } from '@sigstore/mock';
import { ResidencyConfigError } from '../errors';
import { settingsWith } from '../__testUtils__/world';
import { publicGoodTrustedRoot } from '../config';
import { trustedRootProblem } from './bundle';

const dir = mkdtempSync(join(tmpdir(), 'residency-roots-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const logKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .publicKey.export({ type: 'spki', format: 'der' })
  .toString('base64');

function load(name: string, doc: unknown) {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(doc));
  return settingsWith({ trustedRoots: [{ name, path }] });
}

const tlog = {
  baseUrl: 'https://rekor.eu.example.com',
  hashAlgorithm: 'SHA2_256',
  publicKey: {
    rawBytes: logKey,
    keyDetails: 'PKIX_ECDSA_P256_SHA_256',
    validFor: { start: '2021-01-01T00:00:00Z' },
  },
  logId: { keyId: Buffer.alloc(32, 1).toString('base64') },
};

describe('trusted_root.json generations', () => {
  it('the public-good root embedded in @sigstore/tuf loads with CAs, logs and CT logs', () => {
    const json = JSON.parse(publicGoodTrustedRoot().toString('utf8'));
    expect(trustedRootProblem(json)).toBeUndefined();
    expect(json.certificateAuthorities.length).toBeGreaterThan(0);
    expect(json.tlogs.length).toBeGreaterThan(0);
  });

  it('an older generation without ctlogs, timestampAuthorities and keyDetails loads', () => {
    const { keyDetails: _k, ...publicKey } = tlog.publicKey;
    const s = load('old', {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [{ ...tlog, publicKey }],
      certificateAuthorities: [],
    });
    expect(s.trustedRoots?.[0].name).toBe('old');
  });

  it('a log-only root loads', () => {
    const s = load('log-only', {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [tlog],
    });
    expect(s.trustedRoots).toHaveLength(1);
  });

  it('a TSA-only root (GitHub private instance shape) loads', async () => {
    const tsa = await initializeTSA(
      generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    );
    const s = load('tsa-only', {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      timestampAuthorities: [
        {
          subject: { organization: 'mock', commonName: 'tsa' },
          certChain: {
            certificates: [
              {
                rawBytes: Buffer.from(tsa.intCertificate.buffer).toString(
                  'base64',
                ),
              },
              {
                rawBytes: Buffer.from(tsa.rootCertificate.buffer).toString(
                  'base64',
                ),
              },
            ],
          },
          validFor: { start: '2021-01-01T00:00:00Z' },
        },
      ],
    });
    expect(s.trustedRoots).toHaveLength(1);
  });

  it.each([
    [
      'a CA without its certificate chain',
      {
        certificateAuthorities: [
          { subject: {}, validFor: { start: '2021-01-01T00:00:00Z' } },
        ],
      },
    ],
    ['nothing at all', {}],
    ['a log whose key is missing', { tlogs: [{ ...tlog, publicKey: {} }] }],
  ])('%s: a typed configuration error with a plain message', (_n, doc) => {
    let err: unknown;
    try {
      load('bad', {
        mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
        ...doc,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ResidencyConfigError);
    expect((err as Error).message).toMatch(
      /not a usable Sigstore trusted root/,
    );
    expect((err as Error).message).not.toMatch(/TypeError|undefined|toDate/);
  });
});
