/*
 * Parsers of hostile registry input: manifests, WWW-Authenticate challenges, token
 * responses, Retry-After. Property tests show they never throw an untyped error.
 */
import fc from 'fast-check';
import { cosignTags } from './discovery';
import {
  checkRealm,
  parseChallenge,
  parseTokenResponse,
  TokenCache,
} from './auth';
import { parseRetryAfter } from './retry';
import {
  resolveFetchOptions,
  resolveLimits,
  DEFAULT_SOURCE_LIMITS,
} from './limits';
import { isSigstoreBundleMediaType, parseManifest } from './oci';
import { SourceError } from './types';

const D = `sha256:${'c'.repeat(64)}`;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof SourceError ? e.code : `untyped:${String(e)}`;
  }
  return undefined;
}

const enc = (v: unknown) =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('parseManifest', () => {
  it('parses an OCI manifest with subject, artifactType and annotations', () => {
    const m = parseManifest(
      enc({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        config: {
          mediaType: 'application/vnd.oci.empty.v1+json',
          digest: D,
          size: 2,
        },
        layers: [
          { mediaType: 'x', digest: D, size: 1, annotations: { a: 'b' } },
        ],
        subject: {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: D,
          size: 3,
        },
        annotations: { k: 'v' },
      }),
      undefined,
      10,
      'm',
    );
    expect(m.layers[0].annotations).toEqual({ a: 'b' });
    expect(m.subject?.digest).toBe(D);
    expect(m.annotations).toEqual({ k: 'v' });
  });

  it.each([
    ['not JSON', '{'],
    ['JSON array', '[]'],
    ['schemaVersion 1 (Docker v1 manifests)', { schemaVersion: 1, layers: [] }],
    [
      'unknown media type',
      { schemaVersion: 2, mediaType: 'text/html', layers: [] },
    ],
    [
      'path traversal in a layer digest',
      {
        schemaVersion: 2,
        layers: [
          { mediaType: 'x', digest: 'sha256:../../etc/passwd', size: 1 },
        ],
      },
    ],
    [
      'uppercase digest',
      {
        schemaVersion: 2,
        layers: [
          { mediaType: 'x', digest: `sha256:${'C'.repeat(64)}`, size: 1 },
        ],
      },
    ],
    [
      'negative size',
      { schemaVersion: 2, layers: [{ mediaType: 'x', digest: D, size: -1 }] },
    ],
    [
      'fractional size',
      { schemaVersion: 2, layers: [{ mediaType: 'x', digest: D, size: 1.5 }] },
    ],
    [
      'non-string annotation',
      {
        schemaVersion: 2,
        layers: [{ mediaType: 'x', digest: D, size: 1, annotations: { a: 1 } }],
      },
    ],
    ['layers not an array', { schemaVersion: 2, layers: {} }],
  ])('attack: %s -> typed error', (_name, doc) => {
    const code = codeOf(() => parseManifest(enc(doc), undefined, 10, 'm'));
    expect(code).toBe('registry_unreachable');
  });

  it('attack (issue 12.4): a document with both layers and manifests is refused, either way round', () => {
    const layer = { mediaType: 'x', digest: D, size: 1 };
    for (const mediaType of [
      'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.oci.image.index.v1+json',
      undefined,
    ]) {
      const doc = {
        schemaVersion: 2,
        ...(mediaType ? { mediaType } : {}),
        layers: [layer],
        manifests: [layer],
      };
      let err: unknown;
      try {
        parseManifest(enc(doc), undefined, 10, 'm');
      } catch (e) {
        err = e;
      }
      expect((err as { code?: string })?.code).toBe('registry_unreachable');
      expect((err as Error).message).toMatch(/both layers and manifests/);
    }
  });

  it('attack (issue 12.4): duplicate keys in a manifest are refused', () => {
    const text = `{"schemaVersion":2,"layers":[],"layers":[{"mediaType":"x","digest":"${D}","size":1}]}`;
    let err: unknown;
    try {
      parseManifest(Buffer.from(text), undefined, 10, 'm');
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string })?.code).toBe('registry_unreachable');
    expect((err as Error).message).toMatch(/duplicate keys/);
  });

  it('attack: 100k layers -> too_large before iterating', () => {
    const layers = new Array(100_000).fill(0);
    expect(
      codeOf(() =>
        parseManifest(enc({ schemaVersion: 2, layers }), undefined, 64, 'm'),
      ),
    ).toBe('too_large');
  });

  it('property: arbitrary bytes and JSON never produce an untyped throw', () => {
    const descriptor = fc.record(
      {
        mediaType: fc.oneof(
          fc.string(),
          fc.constant('application/vnd.dev.cosign.simplesigning.v1+json'),
        ),
        digest: fc.oneof(fc.string(), fc.constant(D)),
        size: fc.oneof(fc.integer(), fc.double(), fc.string()),
        annotations: fc.dictionary(
          fc.string(),
          fc.oneof(fc.string(), fc.integer()),
        ),
        artifactType: fc.anything(),
      },
      { requiredKeys: [] },
    );
    const manifest = fc.record(
      {
        schemaVersion: fc.oneof(fc.constant(2), fc.anything()),
        mediaType: fc.oneof(
          fc.constantFrom(
            'application/vnd.oci.image.manifest.v1+json',
            'application/vnd.oci.image.index.v1+json',
          ),
          fc.anything(),
        ),
        config: fc.oneof(descriptor, fc.anything()),
        layers: fc.oneof(fc.array(descriptor, { maxLength: 5 }), fc.anything()),
        manifests: fc.oneof(
          fc.array(descriptor, { maxLength: 5 }),
          fc.anything(),
        ),
        subject: fc.oneof(descriptor, fc.anything()),
        annotations: fc.anything(),
        artifactType: fc.anything(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          manifest.map(m => enc(m)),
          fc.uint8Array({ maxLength: 200 }).map(b => Buffer.from(b)),
          fc.json().map(j => Buffer.from(j)),
        ),
        fc.option(fc.string(), { nil: undefined }),
        (bytes, hint) => {
          let code = 'ok';
          try {
            parseManifest(bytes, hint, 4, 'm');
          } catch (e) {
            code = e instanceof SourceError ? e.code : `untyped: ${String(e)}`;
          }
          expect(['ok', 'registry_unreachable', 'too_large']).toContain(code);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('recognises Sigstore bundle media types (v0.3 and the version= forms) only', () => {
    expect(
      isSigstoreBundleMediaType(
        'application/vnd.dev.sigstore.bundle.v0.3+json',
      ),
    ).toBe(true);
    expect(
      isSigstoreBundleMediaType(
        'application/vnd.dev.sigstore.bundle+json;version=0.1',
      ),
    ).toBe(true);
    expect(
      isSigstoreBundleMediaType(
        'application/vnd.dev.sigstore.bundle+json;version=0.2',
      ),
    ).toBe(true);
    expect(
      isSigstoreBundleMediaType('application/vnd.dev.sigstore.bundle+json'),
    ).toBe(false);
    expect(isSigstoreBundleMediaType('application/spdx+json')).toBe(false);
  });
});

describe('WWW-Authenticate challenges and bearer realms', () => {
  it('parses quoted and token params', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://r.example/token",service=r.example,scope="repository:a/b:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://r.example/token',
        service: 'r.example',
        scope: 'repository:a/b:pull',
      },
    });
    expect(parseChallenge('Basic realm="x \\"y\\""')?.params.realm).toBe(
      'x "y"',
    );
    expect(parseChallenge('')).toBeUndefined();
    expect(parseChallenge('"')).toBeUndefined();
  });

  it('property: challenge parsing never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), h => {
        const c = parseChallenge(h);
        expect(c === undefined || typeof c.scheme === 'string').toBe(true);
      }),
    );
  });

  const https = new URL('https://registry.eu.example.com');
  it.each([
    [
      'realm on another host',
      'https://evil.example/token',
      'realm_foreign_host',
    ],
    [
      'realm on a look-alike host',
      'https://registry.eu.example.com.evil.example/token',
      'realm_foreign_host',
    ],
    [
      'plain http realm for an https registry',
      'http://registry.eu.example.com/token',
      'realm_insecure',
    ],
    [
      'realm with userinfo',
      'https://u:p@registry.eu.example.com/token',
      'realm_userinfo',
    ],
    ['unparseable realm', 'not a url', 'realm_invalid'],
    ['file: realm', 'file:///etc/passwd', 'realm_insecure'],
  ])('attack: %s -> registry_auth', (_n, realm, problem) => {
    let err: unknown;
    try {
      checkRealm(realm, https, []);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).code).toBe('registry_auth');
    expect((err as SourceError).details?.problem).toBe(problem);
  });

  it('accepts the registry origin and explicitly configured realm origins', () => {
    expect(
      checkRealm('https://registry.eu.example.com/token', https, []).host,
    ).toBe('registry.eu.example.com');
    // Another port of the registry host is another origin: only when configured (issue 12).
    expect(
      checkRealm('https://registry.eu.example.com:8443/token', https, [
        'https://registry.eu.example.com:8443',
      ]).host,
    ).toBe('registry.eu.example.com:8443');
    expect(
      checkRealm('https://auth.example.com/t', https, [
        'https://auth.example.com',
      ]).hostname,
    ).toBe('auth.example.com');
    expect(
      checkRealm('http://127.0.0.1:9/t', new URL('http://127.0.0.1:5000'), [
        'http://127.0.0.1:9',
      ]).port,
    ).toBe('9');
  });

  it.each([
    [
      'another port of the registry host',
      'https://registry.eu.example.com:8443/token',
    ],
    [
      'another port of a plain-http registry host',
      'http://registry.eu.example.com:5000/t',
    ],
  ])(
    'attack: realm on %s, not configured -> realm_foreign_origin',
    (_name, realm) => {
      const base = realm.startsWith('http:')
        ? new URL('http://registry.eu.example.com')
        : https;
      let err: unknown;
      try {
        checkRealm(realm, base, []);
      } catch (e) {
        err = e;
      }
      expect((err as SourceError).code).toBe('registry_auth');
      expect((err as SourceError).details?.problem).toBe(
        'realm_foreign_origin',
      );
    },
  );

  it('token responses: token/access_token, default expiry, header-injection refused', () => {
    expect(parseTokenResponse(enc({ token: 'abc', expires_in: 120 }))).toEqual({
      token: 'abc',
      expiresIn: 120,
    });
    expect(parseTokenResponse(enc({ access_token: 'xyz' }))).toEqual({
      token: 'xyz',
      expiresIn: 60,
    });
    expect(
      codeOf(() => parseTokenResponse(enc({ token: 'a\r\nX-Evil: 1' }))),
    ).toBe('registry_auth');
    expect(codeOf(() => parseTokenResponse(enc('nope')))).toBe('registry_auth');
    expect(codeOf(() => parseTokenResponse(enc({})))).toBe('registry_auth');
  });

  it('token cache expires entries early and is keyed by scope', () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    cache.set('repository:a:pull', 't', 60);
    expect(cache.get('repository:a:pull')).toBe('t');
    expect(cache.get('repository:b:pull')).toBeUndefined();
    now = 51_000;
    expect(cache.get('repository:a:pull')).toBeUndefined();
  });
});

describe('Retry-After and limits', () => {
  it('parses delta-seconds and HTTP dates; garbage is ignored', () => {
    expect(parseRetryAfter('5')).toBe(5000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-1')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('limits fall back to defaults for invalid values', () => {
    const l = resolveLimits({
      manifestBytes: -1,
      blobBytes: Number.NaN,
      referrersEntries: 5,
    });
    expect(l.manifestBytes).toBe(DEFAULT_SOURCE_LIMITS.manifestBytes);
    expect(l.blobBytes).toBe(DEFAULT_SOURCE_LIMITS.blobBytes);
    expect(l.referrersEntries).toBe(5);
    expect(resolveFetchOptions({ maxRedirects: 0 }).maxRedirects).toBe(0);
  });
});

describe('tag names for a digest', () => {
  it('cosign tags for sha256, OCI referrers tag schema truncation for sha512', () => {
    expect(cosignTags(D)).toEqual({
      sig: `sha256-${'c'.repeat(64)}.sig`,
      att: `sha256-${'c'.repeat(64)}.att`,
      referrers: `sha256-${'c'.repeat(64)}`,
    });
    const t = cosignTags(`sha512:${'d'.repeat(128)}`);
    expect(t.sig).toBeUndefined();
    expect(t.referrers).toBe(`sha512-${'d'.repeat(64)}`);
  });
});
