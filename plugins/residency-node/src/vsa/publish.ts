/*
 * Publishing a signed VSA next to the image it is about, in the two places consumers
 * look: a layer of the cosign `.att` manifest (`sha256-<hex>.att`, what `cosign
 * verify-attestation` and Kyverno read) and an OCI 1.1 referrer carrying the Sigstore
 * bundle (plus the referrers tag-schema index `sha256-<hex>` on registries without the
 * referrers API, such as Distribution 2.8). Pushes only ever add: existing `.att`
 * layers and index entries (others' signatures and attestations) are kept as they
 * are, and re-publishing the same VSA adds nothing.
 *
 * Hand-written on fetch: the engine's registry client is read-only by design, and the
 * distribution push protocol needed here is four requests (blob upload, manifest put).
 * Credentials: HTTP Basic, a static bearer token, or Basic exchanged for a push token
 * at the registry's bearer realm (checked like the reader's: same host, https unless the
 * registry is plain http); sent only to this registry and its realm.
 * Limit: Distribution has no conditional manifest PUT, so a writer racing between our
 * read and write of `.att` or the index could lose its entry; callers publish from one
 * place (the backend's issuer) and a later publish by the other writer restores it.
 */
import { createHash } from 'node:crypto';
import { checkRealm, parseChallenge, parseTokenResponse } from '../source/auth';
import { VsaError } from './types';

const MEDIA_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MEDIA_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const MEDIA_OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
const MEDIA_DSSE = 'application/vnd.dsse.envelope.v1+json';
const MEDIA_BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const ALL_MANIFESTS = [
  MEDIA_OCI_MANIFEST,
  MEDIA_OCI_INDEX,
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_LAYERS = 1000;

/** Where and how to push. @public */
export interface VsaPublishTarget {
  /** `https://host[:port]` (plain `http://` for loopback/dev registries). */
  baseUrl: string;
  repository: string;
  credentials?: { username: string; password: string } | { token: string };
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** What to publish for one image digest. @public */
export interface VsaPublication {
  /** The image manifest digest and descriptor fields (the referrer's subject). */
  subject: { digest: string; size: number; mediaType: string };
  /** DSSE envelope JSON (goes into `.att`). */
  envelope: string;
  /** Sigstore bundle v0.3 JSON (goes into a referrer). */
  bundle: string;
  predicateType: string;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
}

const sha256 = (b: Buffer) =>
  `sha256:${createHash('sha256').update(b).digest('hex')}`;

function publishError(
  message: string,
  details?: Record<string, unknown>,
): never {
  throw new VsaError('vsa_publish_failed', message, details);
}

class Pusher {
  private readonly fetchImpl: typeof fetch;
  private readonly base: string;
  /** Push token from the registry's bearer realm, once exchanged. */
  private bearer?: string;
  constructor(private readonly t: VsaPublishTarget) {
    this.fetchImpl = t.fetch ?? fetch;
    this.base = `${t.baseUrl.replace(/\/+$/, '')}/v2/${t.repository}`;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const c = this.t.credentials;
    let auth: string | undefined;
    if (this.bearer) auth = `Bearer ${this.bearer}`;
    else if (c && 'token' in c) auth = `Bearer ${c.token}`;
    else if (c)
      auth = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString(
        'base64',
      )}`;
    return { ...(auth ? { authorization: auth } : {}), ...extra };
  }

  async req(path: string, init: RequestInit = {}): Promise<Response> {
    const url = path.startsWith('http') ? path : `${this.base}${path}`;
    // credentials only to this registry's origin
    if (new URL(url).origin !== new URL(this.t.baseUrl).origin)
      publishError(`registry redirected to another origin: ${url}`);
    const send = async () => {
      try {
        return await this.fetchImpl(url, {
          ...init,
          redirect: 'error',
          headers: this.headers(init.headers as Record<string, string>),
          signal: AbortSignal.timeout(this.t.timeoutMs ?? 30_000),
        });
      } catch (e) {
        return publishError(`registry request failed: ${(e as Error).message}`);
      }
    };
    const res = await send();
    if (res.status !== 401 || this.bearer) return res;
    const challenge = parseChallenge(res.headers.get('www-authenticate') ?? '');
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) return res;
    await res.arrayBuffer();
    await this.exchange(challenge.params);
    return send();
  }

  /** Basic (or anonymous) credentials for a pull,push token at the checked realm. */
  private async exchange(params: Record<string, string>): Promise<void> {
    let realm: URL;
    try {
      realm = checkRealm(params.realm, new URL(this.t.baseUrl), []);
    } catch (e) {
      publishError(`registry auth: ${(e as Error).message}`);
    }
    if (params.service) realm.searchParams.set('service', params.service);
    realm.searchParams.set(
      'scope',
      `repository:${this.t.repository}:pull,push`,
    );
    const c = this.t.credentials;
    const headers: Record<string, string> =
      c && 'username' in c
        ? {
            authorization: `Basic ${Buffer.from(
              `${c.username}:${c.password}`,
            ).toString('base64')}`,
          }
        : {};
    let res: Response;
    try {
      res = await this.fetchImpl(realm, {
        headers,
        redirect: 'error',
        signal: AbortSignal.timeout(this.t.timeoutMs ?? 30_000),
      });
    } catch (e) {
      publishError(`token request failed: ${(e as Error).message}`);
    }
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200 || body.length > 64 * 1024)
      publishError(`token request refused with HTTP ${res.status}`);
    try {
      this.bearer = parseTokenResponse(body).token;
    } catch (e) {
      publishError(`registry auth: ${(e as Error).message}`);
    }
  }

  async pushBlob(bytes: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = sha256(bytes);
    const head = await this.req(`/blobs/${digest}`, { method: 'HEAD' });
    if (head.status !== 200) {
      const start = await this.req('/blobs/uploads/', { method: 'POST' });
      await start.arrayBuffer();
      if (start.status !== 202)
        publishError(`blob upload refused with HTTP ${start.status}`);
      const loc = new URL(start.headers.get('location') ?? '', this.t.baseUrl);
      loc.searchParams.set('digest', digest);
      const put = await this.req(loc.toString(), {
        method: 'PUT',
        body: bytes,
        headers: { 'content-type': 'application/octet-stream' },
      });
      await put.arrayBuffer();
      if (put.status !== 201)
        publishError(`blob upload failed with HTTP ${put.status}`);
    }
    return { mediaType, digest, size: bytes.length };
  }

  async getManifest(
    reference: string,
    accept: string,
  ): Promise<{ doc: Record<string, unknown>; mediaType: string } | undefined> {
    // every manifest type: a registry may answer 404 for a type we do not accept,
    // and a missing tag must never be concluded from that (we would replace it)
    const res = await this.req(`/manifests/${reference}`, {
      headers: { accept: ALL_MANIFESTS },
    });
    if (res.status === 404) {
      await res.arrayBuffer();
      return undefined;
    }
    if (res.status !== 200)
      publishError(`reading ${reference} failed with HTTP ${res.status}`);
    const buf = Buffer.from(await res.arrayBuffer());
    if (buf.length > MAX_MANIFEST_BYTES)
      publishError(`${reference} is too large`);
    let doc: unknown;
    try {
      doc = JSON.parse(buf.toString('utf8'));
    } catch {
      doc = undefined;
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc))
      publishError(`${reference} is not a JSON manifest; not touching it`);
    const d = doc as Record<string, unknown>;
    return {
      doc: d,
      mediaType:
        (typeof d.mediaType === 'string' && d.mediaType) ||
        res.headers.get('content-type') ||
        accept,
    };
  }

  async putManifest(reference: string, doc: object, mediaType: string) {
    const bytes = Buffer.from(JSON.stringify(doc));
    const res = await this.req(`/manifests/${reference}`, {
      method: 'PUT',
      body: bytes,
      headers: { 'content-type': mediaType },
    });
    await res.arrayBuffer();
    if (res.status !== 201)
      publishError(`writing ${reference} failed with HTTP ${res.status}`);
    return { mediaType, digest: sha256(bytes), size: bytes.length };
  }
}

function tagOf(digest: string, suffix = ''): string {
  return `${digest.replace(':', '-')}${suffix}`;
}

/**
 * Publishes one VSA for one image. Returns what was written.
 *
 * @public
 */
export async function publishVsa(
  target: VsaPublishTarget,
  vsa: VsaPublication,
): Promise<{ attTag: string; referrer: string; addedToAtt: boolean }> {
  if (!/^sha256:[0-9a-f]{64}$/.test(vsa.subject.digest))
    throw new VsaError('vsa_input_invalid', 'subject must be a sha256 digest');
  const p = new Pusher(target);
  const config = await p.pushBlob(Buffer.from('{}'), MEDIA_OCI_EMPTY);

  // 1. cosign `.att`: append our envelope layer, keep every existing layer.
  const layer: Descriptor = {
    ...(await p.pushBlob(Buffer.from(vsa.envelope), MEDIA_DSSE)),
    annotations: {
      'dev.cosignproject.cosign/signature': '',
      predicateType: vsa.predicateType,
    },
  };
  const attTag = tagOf(vsa.subject.digest, '.att');
  const existing = await p.getManifest(attTag, MEDIA_OCI_MANIFEST);
  let addedToAtt = false;
  if (!existing) {
    await p.putManifest(
      attTag,
      {
        schemaVersion: 2,
        mediaType: MEDIA_OCI_MANIFEST,
        config,
        layers: [layer],
      },
      MEDIA_OCI_MANIFEST,
    );
    addedToAtt = true;
  } else {
    const layers = existing.doc.layers;
    if (!Array.isArray(layers) || layers.length >= MAX_LAYERS)
      publishError(`${attTag} has no usable layer list; not touching it`);
    if (!layers.some(l => (l as Descriptor)?.digest === layer.digest)) {
      await p.putManifest(
        attTag,
        { ...existing.doc, layers: [...layers, layer] },
        existing.mediaType,
      );
      addedToAtt = true;
    }
  }

  // 2. referrer carrying the bundle, pushed by digest (it never replaces anything).
  const bundleLayer = await p.pushBlob(
    Buffer.from(vsa.bundle),
    MEDIA_BUNDLE_V03,
  );
  const referrerDoc = {
    schemaVersion: 2,
    mediaType: MEDIA_OCI_MANIFEST,
    artifactType: MEDIA_BUNDLE_V03,
    config,
    layers: [bundleLayer],
    subject: vsa.subject,
    annotations: { 'dev.sigstore.bundle.predicateType': vsa.predicateType },
  };
  const referrerBytes = Buffer.from(JSON.stringify(referrerDoc));
  const referrer = await p.putManifest(
    sha256(referrerBytes),
    referrerDoc,
    MEDIA_OCI_MANIFEST,
  );

  // 3. registries without the referrers API: the tag-schema index, appended to.
  const api = await p.req(`/referrers/${vsa.subject.digest}`);
  await api.arrayBuffer();
  if (api.status !== 200) {
    const indexTag = tagOf(vsa.subject.digest);
    const index = await p.getManifest(indexTag, MEDIA_OCI_INDEX);
    const manifests = index ? index.doc.manifests : [];
    if (!Array.isArray(manifests) || manifests.length >= MAX_LAYERS)
      publishError(`${indexTag} is not a usable index; not touching it`);
    if (!manifests.some(m => (m as Descriptor)?.digest === referrer.digest)) {
      await p.putManifest(
        indexTag,
        {
          ...(index?.doc ?? { schemaVersion: 2, mediaType: MEDIA_OCI_INDEX }),
          manifests: [
            ...manifests,
            {
              ...referrer,
              artifactType: MEDIA_BUNDLE_V03,
              annotations: referrerDoc.annotations,
            },
          ],
        },
        MEDIA_OCI_INDEX,
      );
    }
  }
  return { attTag, referrer: referrer.digest, addedToAtt };
}
