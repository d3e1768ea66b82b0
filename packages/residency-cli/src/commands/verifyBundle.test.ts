import { createHash, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../cli';
import { publicGoodTrustedRoot } from './verifyBundle';
import { memoryIo } from '../io';
import {
  dsseBundle,
  fingerprint,
  messageSignatureBundle,
  pae,
  statement,
  testKey,
  tlogTrustedRoot,
  withTlogEntry,
} from '../__testUtils__/sigstore';

describe('residency verify-bundle', () => {
  let dir: string;
  const key = testKey();
  const otherKey = testKey();
  const artifact = Buffer.from('release artifact bytes\n');
  const artifactHex = createHash('sha256').update(artifact).digest('hex');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'residency-vb-'));
    writeFileSync(join(dir, 'key.pub'), key.publicPem);
    writeFileSync(join(dir, 'other.pub'), otherKey.publicPem);
    writeFileSync(join(dir, 'artifact.bin'), artifact);
    writeFileSync(join(dir, 'other.bin'), 'another artifact');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function write(name: string, doc: unknown): string {
    const p = join(dir, name);
    writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
    return p;
  }

  async function cli(...args: string[]) {
    const io = memoryIo({ cwd: dir });
    const code = await run(['verify-bundle', ...args], { io });
    return { code, out: io.out, err: io.err };
  }

  describe('strict parsing shared with the engine (issue 12 item 3)', () => {
    const base = () =>
      JSON.parse(JSON.stringify(messageSignatureBundle(key, artifact)));
    it.each([
      ['a v0.4 media type', 'application/vnd.dev.sigstore.bundle.v0.4+json'],
      ['a v9.9 media type', 'application/vnd.dev.sigstore.bundle.v9.9+json'],
    ])('%s is refused (bundle_invalid)', async (_n, mediaType) => {
      write('future.json', { ...base(), mediaType });
      const r = await cli(
        'future.json',
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error.code).toBe('bundle_invalid');
    });

    it('duplicate JSON keys are refused (bundle_invalid)', async () => {
      const text = JSON.stringify(base());
      write(
        'dup.json',
        `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",${text.slice(
          1,
        )}`,
      );
      const r = await cli(
        'dup.json',
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error.code).toBe('bundle_invalid');
    });
  });

  describe('message signatures', () => {
    it('verifies against --key and prints the key fingerprint', async () => {
      write('msg.json', messageSignatureBundle(key, artifact));
      const r = await cli(
        'msg.json',
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
      );
      expect(r.code).toBe(0);
      expect(r.out).toContain(fingerprint(key.publicKey));
      expect(r.out).toContain('message signature');
      expect(r.out).toContain('RESULT: Verified OK');
    });

    it('json output has a stable shape', async () => {
      write('msg.json', messageSignatureBundle(key, artifact));
      const r = await cli(
        'msg.json',
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
        '--json',
      );
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.out);
      expect(doc).toMatchObject({
        verified: true,
        exitCode: 0,
        bundle: {
          content: 'messageSignature',
          mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        },
        signer: {
          type: 'key',
          fingerprint: fingerprint(key.publicKey),
          algorithm: 'ecdsa-prime256v1',
        },
        artifact: { digest: `sha256:${artifactHex}`, source: 'artifact' },
      });
      expect(doc.error).toBeUndefined();
    });

    it('attack: a different artifact with the original messageDigest -> digest_mismatch', async () => {
      write('msg.json', messageSignatureBundle(key, artifact));
      const r = await cli(
        'msg.json',
        '--artifact',
        'other.bin',
        '--key',
        'key.pub',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error.code).toBe('digest_mismatch');
    });

    it('attack: messageDigest rewritten to match another artifact -> signature_invalid', async () => {
      const b = messageSignatureBundle(key, artifact);
      b.messageSignature.messageDigest.digest = createHash('sha256')
        .update('another artifact')
        .digest('base64');
      write('forged.json', b);
      const r = await cli(
        'forged.json',
        '--artifact',
        'other.bin',
        '--key',
        'key.pub',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error.code).toBe('signature_invalid');
    });

    it('attack: signed by another key whose hint names the trusted key -> signature_invalid', async () => {
      write(
        'wrongkey.json',
        messageSignatureBundle(otherKey, artifact, fingerprint(key.publicKey)),
      );
      const r = await cli(
        'wrongkey.json',
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
      );
      expect(r.code).toBe(1);
      expect(r.out).toContain('does NOT verify: signature_invalid');
    });

    it('SHA-384 message digests are checked with SHA-384', async () => {
      const b = messageSignatureBundle(key, artifact);
      b.messageSignature.messageDigest = {
        algorithm: 'SHA2_384',
        digest: createHash('sha384').update(artifact).digest('base64'),
      };
      b.messageSignature.signature = sign(
        'sha384',
        artifact,
        key.privateKey,
      ).toString('base64');
      write('msg384.json', b);
      expect(
        (
          await cli(
            'msg384.json',
            '--artifact',
            'artifact.bin',
            '--key',
            'key.pub',
          )
        ).code,
      ).toBe(0);
      expect(
        (
          await cli(
            'msg384.json',
            '--artifact',
            'other.bin',
            '--key',
            'key.pub',
          )
        ).code,
      ).toBe(1);
    });

    it('verifies with --digest only (signature checked over the digest)', async () => {
      write('msg.json', messageSignatureBundle(key, artifact));
      const r = await cli(
        'msg.json',
        '--digest',
        `sha256:${artifactHex}`,
        '--key',
        'key.pub',
        '--json',
      );
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out).artifact).toEqual({
        digest: `sha256:${artifactHex}`,
        source: 'digest',
      });
    });

    it('attack: --digest of another artifact -> digest_mismatch', async () => {
      write('msg.json', messageSignatureBundle(key, artifact));
      const r = await cli(
        'msg.json',
        '--digest',
        `sha256:${'0'.repeat(64)}`,
        '--key',
        'key.pub',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error.code).toBe('digest_mismatch');
    });

    it('attack: messageDigest and --digest agree but the signature is over another artifact', async () => {
      const b = messageSignatureBundle(key, Buffer.from('something else'));
      b.messageSignature.messageDigest.digest = Buffer.from(
        artifactHex,
        'hex',
      ).toString('base64');
      write('swapped.json', b);
      const r = await cli(
        'swapped.json',
        '--digest',
        `sha256:${artifactHex}`,
        '--key',
        'key.pub',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error.code).toBe('signature_invalid');
    });

    it('--digest of another algorithm than the bundle signs is a usage error', async () => {
      write('msg.json', messageSignatureBundle(key, artifact));
      const r = await cli(
        'msg.json',
        '--digest',
        `sha512:${'0'.repeat(128)}`,
        '--key',
        'key.pub',
      );
      expect(r.code).toBe(3);
      expect(r.err).toContain('the bundle signs a sha256 digest');
    });
  });

  describe('DSSE attestations', () => {
    const subjects = [
      { name: 'registry.example.com/app', digest: { sha256: artifactHex } },
    ];

    it('verifies with --digest and prints the statement', async () => {
      write('att.json', dsseBundle(key, statement(subjects)));
      const r = await cli(
        'att.json',
        '--digest',
        `sha256:${artifactHex}`,
        '--key',
        'key.pub',
      );
      expect(r.code).toBe(0);
      expect(r.out).toContain('https://in-toto.io/Statement/v1');
      expect(r.out).toContain('https://slsa.dev/provenance/v1');
      expect(r.out).toContain(`registry.example.com/app sha256:${artifactHex}`);
    });

    it('verifies with --artifact (digest computed here)', async () => {
      write('att.json', dsseBundle(key, statement(subjects)));
      const r = await cli(
        'att.json',
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
        '--json',
      );
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.out);
      expect(doc.statement).toEqual({
        type: 'https://in-toto.io/Statement/v1',
        predicateType: 'https://slsa.dev/provenance/v1',
        subjects,
      });
      expect(doc.bundle.content).toBe('dsseEnvelope');
    });

    it('attack: attestation for another artifact -> subject_mismatch', async () => {
      write('att.json', dsseBundle(key, statement(subjects)));
      const r = await cli(
        'att.json',
        '--artifact',
        'other.bin',
        '--key',
        'key.pub',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error.code).toBe('subject_mismatch');
    });

    it('attack: payload replaced after signing -> signature_invalid', async () => {
      const b = dsseBundle(key, statement(subjects));
      b.dsseEnvelope.payload = Buffer.from(
        JSON.stringify(
          statement([{ name: 'x', digest: { sha256: 'a'.repeat(64) } }]),
        ),
      ).toString('base64');
      write('tampered.json', b);
      const r = await cli(
        'tampered.json',
        '--digest',
        `sha256:${'a'.repeat(64)}`,
        '--key',
        'key.pub',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error.code).toBe('signature_invalid');
    });

    it('attack: payloadType not bound / changed -> signature_invalid', async () => {
      const b = dsseBundle(key, statement(subjects));
      b.dsseEnvelope.payloadType = 'application/json';
      write('ptype.json', b);
      const r = await cli(
        'ptype.json',
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error.code).toBe('signature_invalid');
    });

    it('signed but not an in-toto payload -> payload_type', async () => {
      write(
        'notintoto.json',
        dsseBundle(key, statement(subjects), 'application/json'),
      );
      const r = await cli(
        'notintoto.json',
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error.code).toBe('payload_type');
    });

    it('attack: duplicate subject keys (read differently by other parsers) -> malformed_statement', async () => {
      const payload = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"${'0'.repeat(
        64,
      )}"}}],"subject":[{"name":"a","digest":{"sha256":"${artifactHex}"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`;
      const b = dsseBundle(key, {});
      const sig = sign(
        'sha256',
        pae('application/vnd.in-toto+json', Buffer.from(payload)),
        key.privateKey,
      );
      b.dsseEnvelope.payload = Buffer.from(payload).toString('base64');
      b.dsseEnvelope.signatures[0].sig = sig.toString('base64');
      write('dupe.json', b);
      const r = await cli(
        'dupe.json',
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error.code).toBe('malformed_statement');
    });

    it('statement without subjects -> malformed_statement', async () => {
      write(
        'nosubj.json',
        dsseBundle(key, { ...statement(subjects), subject: [] }),
      );
      const r = await cli(
        'nosubj.json',
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error).toMatchObject({
        code: 'malformed_statement',
      });
    });
  });

  describe('hostile and broken input', () => {
    it.each([
      [
        'truncated base64 signature',
        (b: any) => {
          b.messageSignature.signature = '!!!';
        },
      ],
      [
        'unknown media type',
        (b: any) => {
          b.mediaType = 'application/vnd.dev.sigstore.bundle.v9+json';
        },
      ],
      [
        'no content',
        (b: any) => {
          delete b.messageSignature;
        },
      ],
      [
        'no verification material',
        (b: any) => {
          delete b.verificationMaterial;
        },
      ],
    ])(
      '%s -> exit 1 with a typed code, no exception',
      async (_name, mutate) => {
        const b = messageSignatureBundle(key, artifact);
        mutate(b);
        write('broken.json', b);
        const r = await cli(
          'broken.json',
          '--artifact',
          'artifact.bin',
          '--key',
          'key.pub',
          '--json',
        );
        expect(r.code).toBe(1);
        expect(['bundle_invalid', 'signature_invalid']).toContain(
          JSON.parse(r.out).error.code,
        );
        expect(r.err).not.toMatch(/at .*\.ts:\d+/);
      },
    );

    it('not JSON -> exit 3', async () => {
      write('garbage.json', '{"mediaType": ');
      const r = await cli(
        'garbage.json',
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
      );
      expect(r.code).toBe(3);
      expect(r.err).toContain('is not JSON');
    });
  });

  describe('usage errors exit 3', () => {
    beforeAll(() => write('msg.json', messageSignatureBundle(key, artifact)));
    it.each([
      [['msg.json', '--key', 'key.pub'], 'exactly one of --artifact'],
      [
        [
          'msg.json',
          '--artifact',
          'artifact.bin',
          '--digest',
          `sha256:${artifactHex}`,
          '--key',
          'key.pub',
        ],
        'exactly one of',
      ],
      [['msg.json', '--artifact', 'artifact.bin'], 'no trust given'],
      [
        [
          'msg.json',
          '--artifact',
          'artifact.bin',
          '--certificate-identity',
          'a@b',
        ],
        'must be given together',
      ],
      [
        ['msg.json', '--digest', 'sha256:ABC', '--key', 'key.pub'],
        'is not a digest',
      ],
      [
        ['msg.json', '--artifact', 'artifact.bin', '--key', 'missing.pub'],
        'cannot read public key',
      ],
      [
        ['msg.json', '--artifact', 'artifact.bin', '--key', 'artifact.bin'],
        'is not a PEM public key',
      ],
      [
        ['missing.json', '--artifact', 'artifact.bin', '--key', 'key.pub'],
        'cannot read Sigstore bundle',
      ],
    ])('%j', async (args, message) => {
      const r = await cli(...(args as string[]));
      expect(r.code).toBe(3);
      expect(r.err).toContain(message);
      expect(r.err).toContain('error: ');
    });
  });

  describe('transparency log (private Sigstore deployment)', () => {
    const tlogKey = testKey();
    beforeAll(() => {
      write('private-root.json', tlogTrustedRoot(tlogKey));
      write(
        'logged.json',
        withTlogEntry(messageSignatureBundle(key, artifact), key, tlogKey),
      );
    });

    it('a negative logIndex is refused before any crypto (bundle_invalid)', async () => {
      const doc = withTlogEntry(
        messageSignatureBundle(key, artifact),
        key,
        tlogKey,
      ) as any;
      doc.verificationMaterial.tlogEntries[0].logIndex = '-7';
      write('negative.json', doc);
      const r = await cli(
        'negative.json',
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
        '--trusted-root',
        'private-root.json',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error).toMatchObject({
        code: 'bundle_invalid',
        message: expect.stringContaining('logIndex'),
      });
    });

    it('--require-tlog verifies the inclusion promise against --trusted-root (exit 0)', async () => {
      const r = await cli(
        'logged.json',
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
        '--trusted-root',
        'private-root.json',
        '--require-tlog',
        '--json',
      );
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.out);
      expect(doc.tlogEntries).toBe(1);
      expect(doc.checks).toContainEqual({
        name: 'transparency log entry',
        ok: true,
      });
    });

    it('a log entry is never ignored: from a log the trust does not know -> tlog_invalid', async () => {
      // Default trust is the public-good root, which does not hold this log's key.
      const r = await cli(
        'logged.json',
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error.code).toBe('tlog_invalid');
    });

    it('attack: integratedTime moved after the log signed it -> tlog_invalid', async () => {
      const b: any = withTlogEntry(
        messageSignatureBundle(key, artifact),
        key,
        tlogKey,
      );
      b.verificationMaterial.tlogEntries[0].integratedTime = String(
        Number(b.verificationMaterial.tlogEntries[0].integratedTime) + 3600,
      );
      write('moved.json', b);
      const r = await cli(
        'moved.json',
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
        '--trusted-root',
        'private-root.json',
        '--require-tlog',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error.code).toBe('tlog_invalid');
    });

    it('attack: a log entry for another signature -> tlog_invalid', async () => {
      const other = withTlogEntry(
        messageSignatureBundle(key, Buffer.from('other')),
        key,
        tlogKey,
      );
      const b: any = withTlogEntry(
        messageSignatureBundle(key, artifact),
        key,
        tlogKey,
      );
      b.verificationMaterial.tlogEntries =
        other.verificationMaterial.tlogEntries;
      write('swappedlog.json', b);
      const r = await cli(
        'swappedlog.json',
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
        '--trusted-root',
        'private-root.json',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error.code).toBe('tlog_invalid');
    });

    it('--require-tlog without a log entry -> tlog_invalid', async () => {
      write('msg.json', messageSignatureBundle(key, artifact));
      const r = await cli(
        'msg.json',
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
        '--require-tlog',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error.code).toBe('tlog_invalid');
    });
  });

  describe('keyless trust wiring', () => {
    const identity = [
      '--certificate-identity',
      'release@example.com',
      '--certificate-oidc-issuer',
      'https://accounts.example.com',
    ];

    it('a certificate that is not DER -> bundle_invalid (exit 1)', async () => {
      const b: any = messageSignatureBundle(key, artifact);
      b.verificationMaterial = {
        certificate: {
          rawBytes: Buffer.from('not a certificate').toString('base64'),
        },
        tlogEntries: [],
      };
      write('badcert.json', b);
      const r = await cli(
        'badcert.json',
        '--artifact',
        'artifact.bin',
        ...identity,
        '--json',
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).error.code).toBe('bundle_invalid');
    });

    it('--trusted-root that is not a trusted root -> exit 3', async () => {
      write('msg.json', messageSignatureBundle(key, artifact));
      write('root.json', '[1, 2]');
      const r = await cli(
        'msg.json',
        '--artifact',
        'artifact.bin',
        ...identity,
        '--trusted-root',
        'root.json',
      );
      expect(r.code).toBe(3);
    });

    it('the embedded public-good root loads offline and has Fulcio and Rekor authorities', () => {
      const root = publicGoodTrustedRoot();
      expect(root.certificateAuthorities.length).toBeGreaterThan(0);
      expect(root.tlogs.length).toBeGreaterThan(0);
    });
  });

  it('keyless: a key-signed bundle does not pass an identity policy', async () => {
    write('msg.json', messageSignatureBundle(key, artifact));
    const r = await cli(
      'msg.json',
      '--artifact',
      'artifact.bin',
      '--certificate-identity',
      'release@example.com',
      '--certificate-oidc-issuer',
      'https://accounts.example.com',
      '--json',
    );
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).verified).toBe(false);
  });
});
