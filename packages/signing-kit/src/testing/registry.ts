/*
 * A real OCI registry for tests: Debian's `docker-registry` (CNCF Distribution 2.8)
 * started on a free loopback port with filesystem storage in a temp directory, plus a
 * tiny push client (monolithic POST + PUT blob upload, manifest PUT) over plain fetch.
 */
import { spawn, ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running test registry. */
export interface TestRegistry {
  /** `127.0.0.1:<port>`: the registry host as written in image references. */
  host: string;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Kills the process and removes its storage. Safe to call twice. */
  stop(): Promise<void>;
}

/** Options of {@link startTestRegistry}. */
export interface StartTestRegistryOptions {
  /** Binary to run; defaults to `docker-registry` on PATH. */
  binary?: string;
  /** Fixed port; defaults to a free port picked by the OS. */
  port?: number;
  /** How long to wait for `GET /v2/` to answer; default 15 s. */
  startTimeoutMs?: number;
}

/** Raised when the registry cannot be started or a push is refused. */
export class TestRegistryError extends Error {
  readonly name = 'TestRegistryError';
  constructor(
    message: string,
    readonly code: 'start_failed' | 'push_failed',
    readonly status?: number,
  ) {
    super(message);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Starts `docker-registry serve` on loopback and waits until `/v2/` answers. */
export async function startTestRegistry(
  options: StartTestRegistryOptions = {},
): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'residency-registry-'));
  const port = options.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(join(dir, 'data'))}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${host}`,
    '',
  ].join('\n');
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, config);

  // The registry logs every 404 at error level, and cosign/referrers discovery makes
  // many 404s. Its stderr goes to a file, not a pipe: a pipe read through our event
  // loop fills up (64 KiB) whenever the test blocks (spawnSync of the CLI), and the
  // registry then stalls mid-request.
  const logPath = join(dir, 'registry.log');
  const logFd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(options.binary ?? 'docker-registry', ['serve', configPath], {
      stdio: ['ignore', 'ignore', logFd],
    });
  } finally {
    closeSync(logFd);
  }
  const logTail = () => {
    try {
      return readFileSync(logPath, 'utf8').slice(-4000).trim();
    } catch {
      return '';
    }
  };
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    exited = `exited with ${code ?? signal}`;
  });
  child.on('error', err => {
    exited = `failed to spawn: ${err.message}`;
  });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (exited === undefined) {
      const gone = new Promise<void>(r => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(3000)]);
      if (exited === undefined) child.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 15000);
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new TestRegistryError(
        `docker-registry ${exited}: ${logTail()}`,
        'start_failed',
      );
    }
    try {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new TestRegistryError(
        `docker-registry did not answer on ${url}/v2/ in time: ${logTail()}`,
        'start_failed',
      );
    }
    await sleep(50);
  }
  return { host, url, stop };
}

/** `sha256:<hex>` of some bytes. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function base(host: string): string {
  return /^https?:\/\//.test(host) ? host.replace(/\/$/, '') : `http://${host}`;
}

/**
 * Uploads a blob (monolithic: POST to open an upload session, PUT the bytes with
 * `?digest=`). Skips the upload when the registry already has it. Returns its digest.
 */
export async function pushBlob(
  host: string,
  repo: string,
  bytes: Uint8Array,
): Promise<string> {
  const digest = sha256Digest(bytes);
  const root = base(host);
  const head = await fetch(`${root}/v2/${repo}/blobs/${digest}`, {
    method: 'HEAD',
  });
  if (head.status === 200) return digest;
  const start = await fetch(`${root}/v2/${repo}/blobs/uploads/`, {
    method: 'POST',
  });
  await start.arrayBuffer();
  const location = start.headers.get('location');
  if (start.status !== 202 || !location) {
    throw new TestRegistryError(
      `blob upload start refused for ${repo}: HTTP ${start.status}`,
      'push_failed',
      start.status,
    );
  }
  const target = new URL(location, root);
  target.searchParams.set('digest', digest);
  const put = await fetch(target, {
    method: 'PUT',
    headers: {
      'content-type': 'application/octet-stream',
      'content-length': String(bytes.byteLength),
    },
    body: bytes,
  });
  const text = await put.text();
  if (put.status !== 201) {
    throw new TestRegistryError(
      `blob upload refused for ${repo}@${digest}: HTTP ${put.status} ${text}`,
      'push_failed',
      put.status,
    );
  }
  return digest;
}

/** PUTs a manifest under a tag or digest; returns the manifest digest. */
export async function pushManifest(
  host: string,
  repo: string,
  reference: string,
  bytes: Uint8Array,
  mediaType: string,
): Promise<string> {
  const res = await fetch(`${base(host)}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'content-type': mediaType },
    body: bytes,
  });
  const text = await res.text();
  if (res.status !== 201) {
    throw new TestRegistryError(
      `manifest push refused for ${repo}:${reference}: HTTP ${res.status} ${text}`,
      'push_failed',
      res.status,
    );
  }
  return sha256Digest(bytes);
}

/** GETs a manifest (test helper for reading things back); null on 404. */
export async function fetchManifest(
  host: string,
  repo: string,
  reference: string,
  accept: string[] = [
    'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.docker.distribution.manifest.v2+json',
  ],
): Promise<{ bytes: Uint8Array; mediaType: string; digest: string } | null> {
  const res = await fetch(`${base(host)}/v2/${repo}/manifests/${reference}`, {
    headers: { accept: accept.join(', ') },
  });
  if (res.status === 404) {
    await res.arrayBuffer();
    return null;
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200) {
    throw new TestRegistryError(
      `manifest fetch failed for ${repo}:${reference}: HTTP ${res.status}`,
      'push_failed',
      res.status,
    );
  }
  return {
    bytes,
    mediaType: res.headers.get('content-type') ?? '',
    digest: sha256Digest(bytes),
  };
}

/** GETs a blob (test helper); null on 404. */
export async function fetchBlob(
  host: string,
  repo: string,
  digest: string,
): Promise<Uint8Array | null> {
  const res = await fetch(`${base(host)}/v2/${repo}/blobs/${digest}`);
  if (res.status === 404) {
    await res.arrayBuffer();
    return null;
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200) {
    throw new TestRegistryError(
      `blob fetch failed for ${repo}@${digest}: HTTP ${res.status}`,
      'push_failed',
      res.status,
    );
  }
  return bytes;
}
