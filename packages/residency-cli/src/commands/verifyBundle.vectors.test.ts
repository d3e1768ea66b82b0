/*
 * Public Sigstore test vectors (sigstore-python's keyless staging bundles v0.1, v0.3
 * in both media-type spellings, and the staging trusted root), copied byte for byte
 * (see src/__testUtils__/vectors/sigstore-python/SOURCE.md): material no code of ours
 * made, verified through the engine's code path.
 */
import { join } from 'node:path';
import { run } from '../cli';
import { memoryIo } from '../io';

const V = join(__dirname, '..', '__testUtils__', 'vectors', 'sigstore-python');
const IDENTITY = 'william@yossarian.net';
const ISSUER = 'https://github.com/login/oauth';

async function cli(...args: string[]) {
  const io = memoryIo({ cwd: V });
  const code = await run(['verify-bundle', ...args, '--json'], { io });
  return { code, doc: JSON.parse(io.out || '{}'), err: io.err };
}

describe('verify-bundle on public sigstore-python vectors', () => {
  it.each([
    ['bundle_v3.txt', 'v0.3 (application/vnd.dev.sigstore.bundle.v0.3+json)'],
    ['bundle_v3_alt.txt', 'v0.3 (+json;version=0.3 spelling)'],
  ])('%s, %s: verifies for its identity', async artifact => {
    const r = await cli(
      `${artifact}.sigstore`,
      '--artifact',
      artifact,
      '--trusted-root',
      'staging_trusted_root.json',
      '--certificate-identity',
      IDENTITY,
      '--certificate-oidc-issuer',
      ISSUER,
    );
    expect(r.doc.error).toBeUndefined();
    expect(r.code).toBe(0);
    expect(r.doc.signer).toEqual({
      type: 'certificate',
      identity: IDENTITY,
      issuer: ISSUER,
    });
  });

  it('v0.1 bundle (a@tny.town) verifies with issuer regexp', async () => {
    const r = await cli(
      'bundle.txt.sigstore',
      '--artifact',
      'bundle.txt',
      '--trusted-root',
      'staging_trusted_root.json',
      '--certificate-identity',
      'a@tny.town',
      '--certificate-oidc-issuer-regexp',
      'https://github\\.com/login/oauth',
    );
    expect(r.code).toBe(0);
  });

  it('negatives: wrong identity, wrong artifact, wrong root (plain messages only)', async () => {
    const wrongIdentity = await cli(
      'bundle_v3.txt.sigstore',
      '--artifact',
      'bundle_v3.txt',
      '--trusted-root',
      'staging_trusted_root.json',
      '--certificate-identity',
      'a@tny.town',
      '--certificate-oidc-issuer',
      ISSUER,
    );
    expect(wrongIdentity.code).toBe(1);
    expect(wrongIdentity.doc.error.code).toBe('identity_mismatch');

    const wrongArtifact = await cli(
      'bundle_v3.txt.sigstore',
      '--artifact',
      'bundle_v3_alt.txt',
      '--trusted-root',
      'staging_trusted_root.json',
      '--certificate-identity',
      IDENTITY,
      '--certificate-oidc-issuer',
      ISSUER,
    );
    expect(wrongArtifact.code).toBe(1);
    expect(wrongArtifact.doc.error.code).toBe('digest_mismatch');

    // the public-good root does not trust staging's CA
    const wrongRoot = await cli(
      'bundle_v3.txt.sigstore',
      '--artifact',
      'bundle_v3.txt',
      '--certificate-identity',
      IDENTITY,
      '--certificate-oidc-issuer',
      ISSUER,
    );
    expect(wrongRoot.code).toBe(1);
    expect(wrongRoot.doc.error.code).toBe('certificate_invalid');
    expect(wrongRoot.doc.error.message).not.toMatch(
      /TypeError|undefined|no valid certificate path/,
    );
  });
});
