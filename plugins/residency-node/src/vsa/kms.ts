/*
 * A VSA signer over AWS KMS (`Sign` and `GetPublicKey` of the KMS JSON 1.1 protocol).
 * Requests are signed with SigV4 by the small, widely used `aws4` package; the HTTP
 * call is plain fetch (no AWS SDK: two calls do not need its weight). The key must be
 * an ARN: its region is derived from it, and a key whose region lies outside the
 * tenant's boundary never signs (checked by signVsa).
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import aws4 from 'aws4';
import { regionFromKeyId } from '../config';
import type { VsaSigner } from './sign';
import { VsaError } from './types';

/** AWS credentials for KMS calls (from configuration or the standard env variables). @public */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Options of {@link AwsKmsVsaSigner.create}. @public */
export interface AwsKmsVsaSignerOptions {
  /** `arn:<partition>:kms:<region>:<account>:key/<id>` (or `awskms:///arn:...`). */
  keyId: string;
  credentials: AwsCredentials;
  /** Endpoint override (e.g. a VPC endpoint, or a loopback test server). */
  endpoint?: string;
  fetch?: typeof fetch;
  /** Per-call deadline; default 10 s. */
  timeoutMs?: number;
}

const DOMAINS: Record<string, string> = {
  aws: 'amazonaws.com',
  'aws-us-gov': 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
  'aws-eusc': 'amazonaws.eu',
};

const ALGORITHMS: Record<string, { kms: string; hash: string }> = {
  ECC_NIST_P256: { kms: 'ECDSA_SHA_256', hash: 'sha256' },
  ECC_NIST_P384: { kms: 'ECDSA_SHA_384', hash: 'sha384' },
  ECC_NIST_P521: { kms: 'ECDSA_SHA_512', hash: 'sha512' },
  RSA_2048: { kms: 'RSASSA_PKCS1_V1_5_SHA_256', hash: 'sha256' },
  RSA_3072: { kms: 'RSASSA_PKCS1_V1_5_SHA_256', hash: 'sha256' },
  RSA_4096: { kms: 'RSASSA_PKCS1_V1_5_SHA_256', hash: 'sha256' },
};

const MAX_RESPONSE_BYTES = 64 * 1024;

/** @public */
export class AwsKmsVsaSigner implements VsaSigner {
  private cached?: Promise<{ key: KeyObject; kms: string; hash: string }>;

  private constructor(
    readonly keyId: string,
    readonly region: string,
    private readonly arn: string,
    private readonly endpoint: URL,
    private readonly credentials: AwsCredentials,
    private readonly fetchImpl: typeof fetch,
    private readonly timeoutMs: number,
  ) {}

  static create(options: AwsKmsVsaSignerOptions): AwsKmsVsaSigner {
    const pinned = regionFromKeyId(options.keyId);
    if (!pinned.pinned) {
      throw new VsaError(
        'vsa_key_region_unpinned',
        `VSA KMS key ${options.keyId}: ${pinned.why}`,
      );
    }
    const arn = options.keyId.startsWith('awskms://')
      ? options.keyId.slice(options.keyId.indexOf('/', 'awskms://'.length) + 1)
      : options.keyId;
    if (!arn.startsWith('arn:')) {
      throw new VsaError(
        'vsa_config_invalid',
        `VSA KMS key ${options.keyId} is not an AWS KMS ARN`,
      );
    }
    const partition = arn.split(':')[1];
    const endpoint = new URL(
      options.endpoint ??
        `https://kms.${pinned.region}.${DOMAINS[partition] ?? 'amazonaws.com'}`,
    );
    if (
      endpoint.protocol !== 'https:' &&
      !['127.0.0.1', 'localhost', '[::1]'].includes(endpoint.hostname)
    ) {
      throw new VsaError(
        'vsa_config_invalid',
        'a KMS endpoint must use https (plain http only on loopback)',
      );
    }
    if (
      !options.credentials.accessKeyId ||
      !options.credentials.secretAccessKey
    )
      throw new VsaError('vsa_config_invalid', 'AWS credentials are missing');
    return new AwsKmsVsaSigner(
      options.keyId,
      pinned.region,
      arn,
      endpoint,
      options.credentials,
      options.fetch ?? fetch,
      options.timeoutMs ?? 10_000,
    );
  }

  private async call(
    action: 'Sign' | 'GetPublicKey',
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const text = JSON.stringify(body);
    const req = aws4.sign(
      {
        host: this.endpoint.host,
        path: this.endpoint.pathname || '/',
        method: 'POST',
        service: 'kms',
        region: this.region,
        body: text,
        headers: {
          'Content-Type': 'application/x-amz-json-1.1',
          'X-Amz-Target': `TrentService.${action}`,
        },
      },
      this.credentials,
    );
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers ?? {})) {
      // fetch sets these itself
      if (k.toLowerCase() === 'host' || k.toLowerCase() === 'content-length')
        continue;
      headers[k] = String(v);
    }
    let res: Response;
    try {
      res = await this.fetchImpl(new URL(req.path ?? '/', this.endpoint), {
        method: 'POST',
        headers,
        body: text,
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new VsaError(
        'vsa_kms_error',
        `KMS ${action} for ${this.arn} failed: ${(e as Error).message}`,
        undefined,
        { cause: e },
      );
    }
    const raw = await res.text();
    if (raw.length > MAX_RESPONSE_BYTES)
      throw new VsaError('vsa_kms_error', `KMS ${action} response too large`);
    let doc: unknown;
    try {
      doc = JSON.parse(raw);
    } catch {
      doc = undefined;
    }
    if (!res.ok || !doc || typeof doc !== 'object') {
      const type = (doc as { __type?: unknown })?.__type;
      throw new VsaError(
        'vsa_kms_error',
        `KMS ${action} for ${this.arn} failed with HTTP ${res.status}${
          typeof type === 'string' ? ` (${type.slice(0, 100)})` : ''
        }`,
        { status: res.status },
      );
    }
    return doc as Record<string, unknown>;
  }

  private keyInfo() {
    this.cached ??= (async () => {
      const out = await this.call('GetPublicKey', { KeyId: this.arn });
      const alg = ALGORITHMS[String(out.KeySpec)];
      if (!alg || out.KeyUsage !== 'SIGN_VERIFY') {
        throw new VsaError(
          'vsa_kms_error',
          `KMS key ${this.arn} is not a supported signing key (${String(
            out.KeySpec,
          )}, ${String(out.KeyUsage)})`,
        );
      }
      let key: KeyObject;
      try {
        key = createPublicKey({
          key: Buffer.from(String(out.PublicKey), 'base64'),
          format: 'der',
          type: 'spki',
        });
      } catch {
        throw new VsaError(
          'vsa_kms_error',
          `KMS returned an unreadable public key for ${this.arn}`,
        );
      }
      return { key, ...alg };
    })();
    this.cached.catch(() => {
      this.cached = undefined; // retry on the next call
    });
    return this.cached;
  }

  async publicKey(): Promise<KeyObject> {
    return (await this.keyInfo()).key;
  }

  async sign(data: Buffer): Promise<Buffer> {
    const { kms, hash } = await this.keyInfo();
    const digest = createHash(hash).update(data).digest();
    const out = await this.call('Sign', {
      KeyId: this.arn,
      Message: digest.toString('base64'),
      MessageType: 'DIGEST',
      SigningAlgorithm: kms,
    });
    if (typeof out.Signature !== 'string' || out.Signature.length === 0)
      throw new VsaError('vsa_kms_error', 'KMS Sign returned no signature');
    return Buffer.from(out.Signature, 'base64');
  }
}
