/*
 * Test helpers: the signing kit's real docker-registry on loopback, plus tiny push
 * helpers speaking the distribution API for hand-made (also deliberately bad) fixtures.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startTestRegistry,
  type TestRegistry,
} from '@residency-dev/signing-kit';

export type { TestRegistry };

/** The signing kit's real docker-registry on loopback (temp config and storage). */
export function startRegistry(): Promise<TestRegistry> {
  return startTestRegistry();
}

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Extra headers (e.g. Basic auth) for pushes to registries that require them. */
export type PushAuth = Record<string, string>;

export async function pushBlob(
  url: string,
  repo: string,
  bytes: Uint8Array | string,
  auth: PushAuth = {},
): Promise<{ digest: string; size: number }> {
  const body =
    typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
  const digest = sha256(body);
  const start = await fetch(`${url}/v2/${repo}/blobs/uploads/`, {
    method: 'POST',
    headers: auth,
  });
  if (start.status !== 202) throw new Error(`upload start ${start.status}`);
  const loc = new URL(start.headers.get('location')!, url);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, {
    method: 'PUT',
    body,
    headers: { 'content-type': 'application/octet-stream', ...auth },
  });
  if (put.status !== 201)
    throw new Error(`upload put ${put.status} ${await put.text()}`);
  return { digest, size: body.length };
}

export async function pushManifest(
  url: string,
  repo: string,
  reference: string,
  manifest: object | string,
  mediaType = 'application/vnd.oci.image.manifest.v1+json',
  auth: PushAuth = {},
): Promise<{ digest: string; size: number; bytes: Buffer }> {
  const bytes = Buffer.from(
    typeof manifest === 'string' ? manifest : JSON.stringify(manifest),
  );
  const res = await fetch(`${url}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    body: bytes,
    headers: { 'content-type': mediaType, ...auth },
  });
  if (res.status !== 201)
    throw new Error(`manifest put ${res.status} ${await res.text()}`);
  return { digest: sha256(bytes), size: bytes.length, bytes };
}

const EMPTY_CONFIG = '{}';

/** Pushes a small image (config with labels, one layer) and returns its manifest digest. */
export async function pushImage(
  url: string,
  repo: string,
  tag: string,
  opts: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    layer?: string;
    auth?: PushAuth;
  } = {},
) {
  const config = await pushBlob(
    url,
    repo,
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: opts.labels ?? {} },
      rootfs: { type: 'layers', diff_ids: [] },
    }),
    opts.auth,
  );
  const layer = await pushBlob(
    url,
    repo,
    opts.layer ?? `layer of ${repo}:${tag}`,
    opts.auth,
  );
  return pushManifest(
    url,
    repo,
    tag,
    {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        ...config,
      },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer },
      ],
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    undefined,
    opts.auth,
  );
}

/** The empty OCI config blob used by artifact manifests. */
export async function pushEmptyConfig(url: string, repo: string) {
  const b = await pushBlob(url, repo, EMPTY_CONFIG);
  return { mediaType: 'application/vnd.oci.empty.v1+json', ...b };
}

/** Pushes a cosign `.sig` manifest with one simple-signing layer per payload. */
export async function pushCosignSignature(
  url: string,
  repo: string,
  imageDigest: string,
  sigs: { payload: string; signature: string; certificate?: string }[],
) {
  const config = await pushEmptyConfig(url, repo);
  const layers = [];
  for (const s of sigs) {
    const b = await pushBlob(url, repo, s.payload);
    layers.push({
      mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
      ...b,
      annotations: {
        'dev.cosignproject.cosign/signature': s.signature,
        ...(s.certificate
          ? { 'dev.sigstore.cosign/certificate': s.certificate }
          : {}),
      },
    });
  }
  return pushManifest(url, repo, `${imageDigest.replace(':', '-')}.sig`, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config,
    layers,
  });
}

/** Pushes a cosign `.att` manifest with one DSSE layer per envelope. */
export async function pushCosignAttestation(
  url: string,
  repo: string,
  imageDigest: string,
  envelopes: string[],
) {
  const config = await pushEmptyConfig(url, repo);
  const layers = [];
  for (const e of envelopes) {
    layers.push({
      mediaType: 'application/vnd.dsse.envelope.v1+json',
      ...(await pushBlob(url, repo, e)),
    });
  }
  return pushManifest(url, repo, `${imageDigest.replace(':', '-')}.att`, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config,
    layers,
  });
}

/** A Sigstore-bundle referrer manifest for `subject` (pushed by digest), returned as a descriptor. */
export async function pushBundleReferrer(
  url: string,
  repo: string,
  subject: { digest: string; size: number },
  bundle: string,
  mediaType = 'application/vnd.dev.sigstore.bundle.v0.3+json',
) {
  const config = await pushEmptyConfig(url, repo);
  const layer = await pushBlob(url, repo, bundle);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: mediaType,
    config,
    layers: [{ mediaType, ...layer }],
    subject: {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...subject,
    },
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const pushed = await pushManifest(url, repo, sha256(bytes), bytes.toString());
  return {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: pushed.digest,
    size: pushed.size,
    artifactType: mediaType,
  };
}

/** Pushes the `sha256-<hex>` referrers tag-schema index listing `descriptors`. */
export async function pushReferrersTagIndex(
  url: string,
  repo: string,
  subjectDigest: string,
  descriptors: object[],
) {
  return pushManifest(
    url,
    repo,
    subjectDigest.replace(':', '-'),
    {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: descriptors,
    },
    'application/vnd.oci.image.index.v1+json',
  );
}

/**
 * A docker-registry requiring HTTP basic auth (htpasswd). The bcrypt hash below is of
 * the throw-away test password `residency-test` (cost 4, so tests stay fast).
 */
export const AUTH_USER = 'ci';
export const AUTH_PASSWORD = 'residency-test';
const AUTH_HTPASSWD =
  'ci:$2b$04$uDZXaTTAG2VvMYWS9pcgk.SsCsNNxWckik5CL/wDNRybqEbWGiM0m';

export async function startAuthRegistry(): Promise<TestRegistry> {
  const port = await new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'residency-authreg-'));
  writeFileSync(join(dir, 'htpasswd'), `${AUTH_HTPASSWD}\n`);
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: {level: error, accesslog: {disabled: true}}',
      `storage: {filesystem: {rootdirectory: ${JSON.stringify(
        join(dir, 'data'),
      )}}}`,
      `auth: {htpasswd: {realm: residency, path: ${JSON.stringify(
        join(dir, 'htpasswd'),
      )}}}`,
      `http: {addr: 127.0.0.1:${port}}`,
      '',
    ].join('\n'),
  );
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], {
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      await new Promise<void>(r => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      if (res.status === 401) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error('auth registry did not start');
    }
    await new Promise(r => setTimeout(r, 50));
  }
  return { host: `127.0.0.1:${port}`, url, stop };
}
