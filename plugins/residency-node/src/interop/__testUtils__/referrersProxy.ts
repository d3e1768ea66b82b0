/*
 * Debian's docker-registry (Distribution 2.8) has no OCI 1.1 referrers API. This
 * loopback proxy in front of it adds one, as registries with the API behave: a
 * manifest PUT with a `subject` is recorded (and answered with `OCI-Subject`), and
 * `GET /v2/<name>/referrers/<digest>` lists the recorded descriptors with the
 * manifest's own artifactType (else its config media type), per the distribution
 * spec. Everything else is forwarded unchanged, so storage stays the real registry.
 * Like registries with authentication, starting an upload without credentials gets
 * a Basic challenge (any credentials pass): @sigstore/oci signs in with that probe
 * and cannot push to an open registry. With `referrersApi: false` the proxy only
 * adds that challenge (a Docker-Hub-like registry without the API).
 * Hand-written: no registry with the referrers API is installable here.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';

export interface ReferrersProxy {
  host: string;
  url: string;
  stop(): Promise<void>;
}

export async function startReferrersProxy(
  upstream: string,
  opts: { referrersApi?: boolean } = {},
): Promise<ReferrersProxy> {
  const api = opts.referrersApi ?? true;
  const referrers = new Map<string, object[]>(); // `${repo}@${subject}` -> descriptors
  const server: Server = createServer(async (req, res) => {
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const path = req.url ?? '/';
      const ref = /^\/v2\/(.+)\/referrers\/([a-z0-9]+:[a-f0-9]+)$/.exec(
        path.split('?')[0],
      );
      if (
        req.method === 'POST' &&
        /\/blobs\/uploads\/?$/.test(path.split('?')[0]) &&
        !req.headers.authorization
      ) {
        res.writeHead(401, {
          'www-authenticate': 'Basic realm="residency-test"',
        });
        res.end();
        return;
      }
      if (api && ref && req.method === 'GET') {
        const manifests = referrers.get(`${ref[1]}@${ref[2]}`) ?? [];
        res.writeHead(200, {
          'content-type': 'application/vnd.oci.image.index.v1+json',
        });
        res.end(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.index.v1+json',
            manifests,
          }),
        );
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && k !== 'host' && k !== 'content-length')
          headers[k] = v;
      }
      const up = await fetch(`${upstream}${path}`, {
        method: req.method,
        headers,
        body: ['GET', 'HEAD'].includes(req.method ?? 'GET') ? undefined : body,
        redirect: 'manual',
      });
      const out: Record<string, string> = {};
      up.headers.forEach((v, k) => {
        if (k === 'location') out[k] = v.replace(upstream, '');
        else if (k !== 'content-encoding' && k !== 'transfer-encoding')
          out[k] = v;
      });
      const manifestPut = /^\/v2\/(.+)\/manifests\/[^/]+$/.exec(path);
      if (api && manifestPut && req.method === 'PUT' && up.status === 201) {
        const doc = JSON.parse(body.toString('utf8'));
        if (doc.subject?.digest) {
          const key = `${manifestPut[1]}@${doc.subject.digest}`;
          const list = referrers.get(key) ?? [];
          list.push({
            mediaType: doc.mediaType,
            digest: `sha256:${createHash('sha256').update(body).digest('hex')}`,
            size: body.length,
            artifactType: doc.artifactType ?? doc.config?.mediaType,
            ...(doc.annotations ? { annotations: doc.annotations } : {}),
          });
          referrers.set(key, list);
          out['oci-subject'] = doc.subject.digest;
        }
      }
      res.writeHead(up.status, out);
      res.end(Buffer.from(await up.arrayBuffer()));
    } catch (e) {
      res.writeHead(502);
      res.end(String(e));
    }
  });
  await new Promise<void>(resolve =>
    server.listen(0, '127.0.0.1', () => resolve()),
  );
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>(resolve => server.close(() => resolve())),
  };
}
