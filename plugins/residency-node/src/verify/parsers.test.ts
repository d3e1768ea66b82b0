/*
 * Property tests: the statement, envelope, bundle, simple-signing and strict JSON
 * parsers never throw an untyped error on arbitrary input, and the verifiers never
 * throw at all on hostile bytes.
 */
import fc from 'fast-check';
import { generateKey, makeImage } from '@residency-dev/signing-kit';
import { VerifyError } from '../errors';
import { loadTrustedKeys } from '../keys';
import { parseStrictJson, StrictJsonError } from './json';
import {
  parseStatement,
  subjectMatches,
  hostOf,
  hostAllowed,
} from './statement';
import { parseEnvelope, verifyEnvelope } from './dsse';
import { parseBundle, verifyBundle } from './bundle';
import {
  parseSimpleSigningPayload,
  verifySimpleSignature,
} from './simplesigning';
import type { VerifyContext } from './types';
import { configReaderFromObject, loadResidencySettings } from '../config';
import { decideImage } from '../decide';
import { policyOf, trustOf } from '../evidence';
import { newImage, settingsWith } from '../__testUtils__/world';

const key = generateKey('ecdsa-p256');
const image = makeImage();
const ctx: VerifyContext = {
  digest: image.digest,
  manifest: Buffer.from(image.manifest.bytes),
  keys: loadTrustedKeys([
    {
      id: 'k',
      fingerprint: key.fingerprint,
      region: 'eusc-de-east-1',
      regionSource: 'explicit',
      algorithm: 'ecdsa-p256',
      revoked: false,
      publicKeyPem: key.publicKeyPem,
    },
  ]).keys,
  trustedRoots: [],
  identities: [],
  at: new Date('2026-06-01T00:00:00Z'),
};

function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e;
  }
}

/** JSON-ish text: valid JSON of random shape, mutated JSON, and raw strings. */
const jsonish = fc.oneof(
  fc.json(),
  fc.json().map(j => j.slice(0, Math.max(0, j.length - 3))),
  fc.string(),
  fc.constantFrom(
    '{"a":1,"a":2}',
    '{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{}}],"predicateType":"x"}',
    '{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x"}',
    '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
    '{"__proto__":{"polluted":1}}',
    '\ufeff{}',
    '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"k"},"tlogEntries":[]},"dsseEnvelope":{"payload":"","payloadType":"application/vnd.in-toto+json","signatures":[]}}',
  ),
);

const bundleLike = fc.record({
  mediaType: fc.constantFrom(
    'application/vnd.dev.sigstore.bundle+json;version=0.1',
    'application/vnd.dev.sigstore.bundle+json;version=0.2',
    'application/vnd.dev.sigstore.bundle.v0.3+json',
    'application/vnd.dev.sigstore.bundle+json;version=0.3',
  ),
  verificationMaterial: fc.oneof(
    fc.record({
      publicKey: fc.record({ hint: fc.string() }),
      tlogEntries: fc.array(fc.anything(), { maxLength: 2 }),
    }),
    fc.record({ certificate: fc.record({ rawBytes: fc.base64String() }) }),
    fc.record({
      x509CertificateChain: fc.record({
        certificates: fc.array(fc.record({ rawBytes: fc.base64String() }), {
          maxLength: 2,
        }),
      }),
    }),
    fc.anything(),
  ),
  messageSignature: fc.option(
    fc.record({
      messageDigest: fc.record({
        algorithm: fc.constantFrom('SHA2_256', 'SHA2_384', 'X'),
        digest: fc.base64String(),
      }),
      signature: fc.base64String(),
    }),
  ),
  dsseEnvelope: fc.option(
    fc.record({
      payload: fc.base64String(),
      payloadType: fc.constantFrom('application/vnd.in-toto+json', 'x'),
      signatures: fc.array(
        fc.record({ sig: fc.base64String(), keyid: fc.string() }),
        { maxLength: 2 },
      ),
    }),
  ),
});

describe('parsers never throw untyped errors (fast-check)', () => {
  it('strict JSON: only StrictJsonError, and agrees with JSON.parse on valid JSON', () => {
    fc.assert(
      fc.property(jsonish, text => {
        let v: unknown;
        const e = thrown(() => {
          v = parseStrictJson(text);
        });
        expect(e === undefined || e instanceof StrictJsonError).toBe(true);
        const reference = thrown(() => JSON.parse(text.replace(/^\ufeff/, '')));
        // valid, duplicate-free JSON parses to what JSON.parse gives
        const expected =
          reference === undefined && e === undefined
            ? JSON.parse(text.replace(/^\ufeff/, ''))
            : v;
        expect(v).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('strict JSON rejects duplicate keys, deep nesting and oversized input', () => {
    expect(() => parseStrictJson('{"a":1,"a":2}')).toThrow(
      expect.objectContaining({ problem: 'duplicate_key' }),
    );
    expect(() => parseStrictJson('['.repeat(100) + ']'.repeat(100))).toThrow(
      expect.objectContaining({ problem: 'too_deep' }),
    );
    expect(() => parseStrictJson('"x"', { maxLength: 2 })).toThrow(
      expect.objectContaining({ problem: 'too_large' }),
    );
    const v = parseStrictJson('{"__proto__":{"polluted":1}}') as Record<
      string,
      unknown
    >;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(v)).toEqual(['__proto__']);
  });

  it('statement parser: only VerifyError(malformed_statement)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          jsonish,
          fc
            .record({
              _type: fc.constantFrom(
                'https://in-toto.io/Statement/v1',
                'https://in-toto.io/Statement/v0.1',
                'x',
              ),
              subject: fc.anything(),
              predicateType: fc.anything(),
              predicate: fc.anything(),
            })
            .map(o => JSON.stringify(o)),
        ),
        text => {
          const e = thrown(() =>
            subjectMatches(parseStatement(Buffer.from(text)), image.digest),
          );
          expect(
            e === undefined ||
              (e instanceof VerifyError && e.code === 'malformed_statement'),
          ).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('envelope parser: only VerifyError; verifyEnvelope never throws', () => {
    const envLike = fc
      .record({
        payloadType: fc.anything(),
        payload: fc.oneof(fc.base64String(), fc.anything()),
        signatures: fc.anything(),
      })
      .map(o => JSON.stringify(o));
    fc.assert(
      fc.property(fc.oneof(jsonish, envLike), text => {
        const e = thrown(() => parseEnvelope(text));
        expect(e === undefined || e instanceof VerifyError).toBe(true);
        const check = verifyEnvelope(
          { envelope: text, source: 'cosign-tag', index: 0 },
          ctx,
        );
        expect(check.verified).toBe(false);
        expect(check.error?.code).toMatch(
          /^(attestation_invalid|malformed_statement|subject_mismatch)$/,
        );
      }),
      { numRuns: 400 },
    );
  });

  it('bundle parser returns an error value and verifyBundle never throws on arbitrary bundles', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          jsonish,
          bundleLike.map(b => JSON.stringify(b)),
        ),
        text => {
          const parsed = parseBundle(text);
          expect(parsed).toBeDefined();
          const check = verifyBundle(
            { bundle: text, source: 'referrers', index: 0 },
            ctx,
          );
          expect(check.verified).toBe(false);
          expect(check.error?.code).toBeDefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('simple-signing payload parser and verifier never throw', () => {
    fc.assert(
      fc.property(jsonish, fc.string(), (text, sig) => {
        const p = parseSimpleSigningPayload(Buffer.from(text));
        expect(p).toBeDefined();
        const check = verifySimpleSignature(
          {
            payload: Buffer.from(text),
            signature: sig,
            source: 'cosign-tag',
            index: 0,
          },
          ctx,
        );
        expect(check.verified).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it('a simple-signing payload with a duplicated docker-manifest-digest is refused', () => {
    const text = `{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"${
      image.digest
    }","docker-manifest-digest":"sha256:${'0'.repeat(
      64,
    )}"},"type":"cosign container image signature"},"optional":null}`;
    expect(parseSimpleSigningPayload(Buffer.from(text))).toEqual({
      error: expect.stringContaining('duplicate key'),
    });
  });

  it('config from arbitrary YAML-shaped objects: only typed errors', () => {
    fc.assert(
      fc.property(fc.anything(), v => {
        const e = thrown(() =>
          loadResidencySettings(
            configReaderFromObject({ residency: v }, { env: {} }),
          ),
        );
        expect(
          e === undefined || (e as Error).name === 'ResidencyConfigError',
        ).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('provenance hosts: userinfo, ports and IPv6 do not smuggle an allowed host', () => {
    expect(hostOf('https://git.eu.example.com@evil.com/x')).toBe('evil.com');
    expect(hostOf('git+https://git.eu.example.com:443/x')).toBe(
      'git.eu.example.com',
    );
    expect(hostOf('pkg:npm/left-pad@1')).toBeUndefined();
    expect(hostAllowed('evil-eu.example.com', ['*.eu.example.com'])).toBe(
      false,
    );
    expect(hostAllowed('a.eu.example.com', ['*.eu.example.com'])).toBe(true);
    expect(hostAllowed('eu.example.com', ['*.eu.example.com'])).toBe(false);
  });
});

describe('decision over hostile material (fast-check)', () => {
  it('arbitrary signatures, envelopes and bundles never throw and never make an image compliant', () => {
    const settings = settingsWith();
    const decisionCtx = {
      policy: policyOf(settings, 'acme-eu'),
      trust: trustOf(settings),
      trustedRoots: [],
      tenantKnown: true,
      limits: settings.limits,
      at: new Date('2026-06-01T00:00:00Z'),
      engineVersion: 'test',
      policyHash: 'p',
      trustHash: 't',
    };
    const f = newImage();
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            payload: fc.base64String(),
            signature: fc.string(),
            source: fc.string(),
          }),
          { maxLength: 3 },
        ),
        fc.array(fc.record({ envelope: jsonish, source: fc.string() }), {
          maxLength: 3,
        }),
        fc.array(
          fc.record({
            bundle: fc.oneof(
              jsonish,
              bundleLike.map(b => JSON.stringify(b)),
            ),
            source: fc.string(),
          }),
          { maxLength: 3 },
        ),
        (simpleSignatures, envelopes, bundles) => {
          const r = decideImage(
            { ...f.material, simpleSignatures, envelopes, bundles },
            decisionCtx,
          );
          expect(r.decision).not.toBe('compliant');
          expect(r.reasons.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
