import fc from 'fast-check';
import {
  formatImageReference,
  isValidDigest,
  parseImageReference,
  splitImagesAnnotation,
} from './reference';
import { SourceError } from './source/types';

const HEX64 = 'a'.repeat(64);
const D256 = `sha256:${HEX64}`;
const D512 = `sha512:${'b'.repeat(128)}`;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof SourceError) return e.code;
    return `untyped:${String(e)}`;
  }
  return undefined;
}

describe('parseImageReference: valid references', () => {
  it.each([
    ['nginx', 'docker.io', 'library/nginx', 'latest', undefined],
    ['nginx:1.27', 'docker.io', 'library/nginx', '1.27', undefined],
    ['docker.io/nginx', 'docker.io', 'library/nginx', 'latest', undefined],
    ['index.docker.io/acme/app:v1', 'docker.io', 'acme/app', 'v1', undefined],
    ['acme/app', 'docker.io', 'acme/app', 'latest', undefined],
    ['localhost/app', 'localhost', 'app', 'latest', undefined],
    ['localhost:5000/a/b/c:t', 'localhost:5000', 'a/b/c', 't', undefined],
    [
      'Registry.EU.Example.com/team/app:v2',
      'registry.eu.example.com',
      'team/app',
      'v2',
      undefined,
    ],
    ['127.0.0.1:5000/app', '127.0.0.1:5000', 'app', 'latest', undefined],
    ['[::1]:5000/app', '[::1]:5000', 'app', 'latest', undefined],
    [
      'r.example/a_b/c__d/e-f/g--h/i.j:_T.ag-1',
      'r.example',
      'a_b/c__d/e-f/g--h/i.j',
      '_T.ag-1',
      undefined,
    ],
    [`r.example/app@${D256}`, 'r.example', 'app', undefined, D256],
    [`r.example/app@${D512}`, 'r.example', 'app', undefined, D512],
  ])('%s', (text, registry, repository, tag, digest) => {
    const ref = parseImageReference(text);
    expect(ref).toMatchObject({
      kind: 'registry',
      registry,
      repository,
      original: text,
    });
    expect(ref.tag).toBe(tag);
    expect(ref.digest).toBe(digest);
  });

  it('digest wins over tag when both are present (tag kept for display)', () => {
    const ref = parseImageReference(`r.example/app:v1@${D256}`);
    expect(ref.digest).toBe(D256);
    expect(ref.tag).toBe('v1');
    expect(formatImageReference(ref)).toBe(`r.example/app@${D256}`);
  });

  it('parses OCI layout references like skopeo (first colon separates the tag)', () => {
    expect(parseImageReference('oci:/tmp/layout:v1')).toMatchObject({
      kind: 'layout',
      registry: '/tmp/layout',
      repository: 'v1',
      tag: 'v1',
    });
    expect(parseImageReference('oci:./rel/dir')).toMatchObject({
      kind: 'layout',
      registry: './rel/dir',
      tag: 'latest',
    });
    const withDigest = parseImageReference(`oci:/tmp/layout@${D256}`);
    expect(withDigest).toMatchObject({
      kind: 'layout',
      registry: '/tmp/layout',
      digest: D256,
      repository: '',
    });
    expect(withDigest.tag).toBeUndefined();
    expect(parseImageReference(`oci:/l:t@${D256}`)).toMatchObject({
      tag: 't',
      digest: D256,
    });
  });
});

describe('parseImageReference: hostile or malformed input is bad_reference', () => {
  it.each([
    ['empty string', ''],
    ['uppercase repository', 'r.example/Team/app'],
    ['uppercase first component', 'Acme/app'],
    ['short digest hex', `r.example/app@sha256:${'a'.repeat(63)}`],
    ['long digest hex', `r.example/app@sha256:${'a'.repeat(65)}`],
    ['uppercase digest hex', `r.example/app@sha256:${'A'.repeat(64)}`],
    ['unknown digest algorithm', `r.example/app@md5:${'a'.repeat(32)}`],
    ['sha512 with sha256 length', `r.example/app@sha512:${HEX64}`],
    ['empty path component', 'r.example//app'],
    ['trailing slash', 'r.example/app/'],
    ['empty repository', 'r.example/'],
    ['empty tag', 'r.example/app:'],
    ['tag too long', `r.example/app:${'t'.repeat(129)}`],
    ['tag with bad first char', 'r.example/app:-x'],
    ['control character (newline injection)', 'r.example/app\n:v1'],
    ['NUL byte', 'r.example/app\u0000'],
    ['DEL character', 'r.example/app\u007f'],
    ['space', 'r.example/app :v1'],
    ['non-ASCII homoglyph', 'r.exаmple/app'],
    ['component > 255 chars', `r.example/${'a'.repeat(256)}`],
    ['host > 255 chars', `${'a'.repeat(250)}.example/app`],
    ['string > 4 KiB', `r.example/${'a/'.repeat(2100)}app`],
    ['userinfo user@host', 'user@r.example/app'],
    ['userinfo with password', 'user:pw@r.example/app:v1'],
    ['bare user@host', 'user@host'],
    ['two @', `a@b@${D256}`],
    ['hex IP literal', '0x7f000001:80/app'],
    ['decimal IP literal', '2130706433:5000/app'],
    ['octal IP literal', '0177.0.0.1/app'],
    ['short IPv4 form', '127.1:5000/app'],
    ['IPv4-mapped IPv6', '[::ffff:127.0.0.1]/app'],
    ['IPv4-mapped IPv6 hex form', '[::ffff:7f00:1]:5000/app'],
    ['invalid IPv6 literal', '[::zz]/app'],
    ['IPv6 zone id', '[fe80::1%25eth0]/app'],
    ['port out of range', 'r.example:70000/app'],
    ['port zero', 'r.example:0/app'],
    ['non-numeric port', 'r.example:http/app'],
    ['separator at start', 'r.example/-app'],
    ['three underscores', 'r.example/a___b'],
    ['layout with empty path', 'oci::v1'],
    ['layout with bad digest', 'oci:/tmp/l@sha256:abc'],
    ['layout with bad tag', 'oci:/tmp/l:bad/tag'],
  ])('%s', (_attack, text) => {
    expect(codeOf(() => parseImageReference(text))).toBe('bad_reference');
  });

  it('rejects non-string input with a typed error', () => {
    expect(
      codeOf(() => parseImageReference(undefined as unknown as string)),
    ).toBe('bad_reference');
    expect(codeOf(() => parseImageReference({} as unknown as string))).toBe(
      'bad_reference',
    );
  });

  it('keeps hostile references out of error details (printable, truncated)', () => {
    let err: unknown;
    try {
      parseImageReference(`r.example/${'\u0007'.repeat(3000)}`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SourceError);
    const ref = String((err as SourceError).details?.reference);
    expect(ref.length).toBeLessThanOrEqual(120);
    expect(ref).toMatch(/^[\x20-\x7e]*$/);
  });

  /** What parsing does with a text: a consistent result, a typed error, or something else. */
  function outcome(text: string): 'ok' | 'typed' | string {
    try {
      const r = parseImageReference(text);
      const consistent =
        (r.kind === 'registry' || r.kind === 'layout') &&
        (r.digest === undefined || isValidDigest(r.digest)) &&
        (r.tag !== undefined || r.digest !== undefined);
      return consistent ? 'ok' : 'inconsistent';
    } catch (e) {
      return e instanceof SourceError && e.code === 'bad_reference'
        ? 'typed'
        : `untyped: ${String(e)}`;
    }
  }

  it('property: arbitrary strings never produce an untyped throw', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ unit: 'binary', maxLength: 100 }),
          fc.stringMatching(/^[a-zA-Z0-9.:/@_\-\[\]]{0,80}$/),
          fc
            .constantFrom('oci:', 'localhost:', 'r.example/', '@sha256:', '[::')
            .chain(p => fc.string({ maxLength: 80 }).map(s => p + s)),
        ),
        text => {
          expect(['ok', 'typed']).toContain(outcome(text));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('property: formatted references round-trip', () => {
    const component = fc.stringMatching(
      /^[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8}){0,2}$/,
    );
    fc.assert(
      fc.property(
        fc.constantFrom('r.example', 'localhost:5000', '10.0.0.1:443'),
        fc.array(component, { minLength: 1, maxLength: 4 }),
        fc.option(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/), {
          nil: undefined,
        }),
        (host, parts, tag) => {
          const text = `${host}/${parts.join('/')}${tag ? `:${tag}` : ''}`;
          const ref = parseImageReference(text);
          expect(parseImageReference(formatImageReference(ref))).toMatchObject({
            registry: ref.registry,
            repository: ref.repository,
            tag: ref.tag,
          });
        },
      ),
    );
  });
});

describe('splitImagesAnnotation', () => {
  it('splits on commas and newlines, trims and drops empties', () => {
    expect(splitImagesAnnotation(' a/b:1 ,\n c/d@x,,\r\n\n e ')).toEqual([
      'a/b:1',
      'c/d@x',
      'e',
    ]);
    expect(splitImagesAnnotation('')).toEqual([]);
    expect(splitImagesAnnotation(undefined)).toEqual([]);
  });
});
