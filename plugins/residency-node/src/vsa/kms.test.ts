/*
 * The KMS signer against a loopback server speaking the KMS JSON 1.1 protocol. The
 * server checks the SigV4 Authorization header independently (canonical request,
 * string to sign and key derivation written here from the public SigV4 description,
 * with node:crypto only) and signs with a local key, as KMS would.
 */
import {
  createHash,
  createHmac,
  generateKeyPairSync,
  constants,
  privateEncrypt,
  verify,
} from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { AwsKmsVsaSigner } from './kms';
import { signVsa } from './sign';
import {
  IN_TOTO_STATEMENT_V1,
  VSA_PREDICATE_TYPE,
  type VsaStatement,
} from './types';

const CREDS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret/test+key' };
const ARN =
  'arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/0c7a0000-1111-2222-3333-444455556666';

/** DER DigestInfo prefix for SHA-256 (RFC 8017, section 9.2, note 1). */
const SHA256_DIGEST_INFO = Buffer.from(
  '3031300d060960864801650304020105000420',
  'hex',
);

const hmac = (k: Buffer | string, s: string) =>
  createHmac('sha256', k).update(s, 'utf8').digest();
const hex = (s: string | Buffer) =>
  createHash('sha256').update(s).digest('hex');

/** Recomputes the SigV4 signature of a request; returns why it is wrong, or undefined. */
function checkSigV4(req: IncomingMessage, body: string, region: string) {
  const auth = String(req.headers.authorization ?? '');
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) return `bad Authorization shape: ${auth}`;
  const [, akid, date, reg, service, signedHeaders, signature] = m;
  if (akid !== CREDS.accessKeyId) return 'unknown access key';
  if (reg !== region) return `scope region ${reg}`;
  if (service !== 'kms') return `scope service ${service}`;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || !amzDate.startsWith(date))
    return 'bad X-Amz-Date';
  const names = signedHeaders.split(';');
  for (const need of ['host', 'x-amz-date', 'x-amz-target', 'content-type'])
    if (!names.includes(need)) return `header ${need} not signed`;
  const canonicalHeaders = names
    .map(n => `${n}:${String(req.headers[n] ?? '').trim()}\n`)
    .join('');
  const canonicalRequest = [
    req.method,
    req.url?.split('?')[0] ?? '/',
    '',
    canonicalHeaders,
    signedHeaders,
    hex(body),
  ].join('\n');
  const scope = `${date}/${reg}/${service}/aws4_request`;
  const toSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    hex(canonicalRequest),
  ].join('\n');
  const kDate = hmac(`AWS4${CREDS.secretAccessKey}`, date);
  const kSigning = hmac(hmac(hmac(kDate, reg), service), 'aws4_request');
  const expected = createHmac('sha256', kSigning).update(toSign).digest('hex');
  return expected === signature ? undefined : 'signature does not match';
}

function startKms(region: string) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
  });
  const seen: { target: string; problem?: string }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', c => (body += c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target']);
      const problem = checkSigV4(req, body, region);
      seen.push({ target, problem });
      const send = (status: number, doc: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(doc));
      };
      if (problem)
        return send(400, {
          __type: 'InvalidSignatureException',
          message: problem,
        });
      if (req.headers['content-type'] !== 'application/x-amz-json-1.1')
        return send(400, { __type: 'UnknownOperationException' });
      const input = JSON.parse(body);
      if (input.KeyId !== ARN)
        return send(400, { __type: 'NotFoundException' });
      if (target === 'TrentService.GetPublicKey') {
        return send(200, {
          KeyId: ARN,
          KeySpec: 'RSA_2048',
          KeyUsage: 'SIGN_VERIFY',
          SigningAlgorithms: ['RSASSA_PKCS1_V1_5_SHA_256'],
          PublicKey: publicKey
            .export({ type: 'spki', format: 'der' })
            .toString('base64'),
        });
      }
      if (target === 'TrentService.Sign') {
        if (
          input.MessageType !== 'DIGEST' ||
          input.SigningAlgorithm !== 'RSASSA_PKCS1_V1_5_SHA_256'
        )
          return send(400, { __type: 'ValidationException' });
        const digest = Buffer.from(input.Message, 'base64');
        if (digest.length !== 32)
          return send(400, { __type: 'ValidationException' });
        // sign the precomputed digest as KMS does: PKCS#1 v1.5 over DigestInfo(SHA-256)
        const sig = privateEncrypt(
          { key: privateKey, padding: constants.RSA_PKCS1_PADDING },
          Buffer.concat([SHA256_DIGEST_INFO, digest]),
        );
        return send(200, {
          KeyId: ARN,
          Signature: sig.toString('base64'),
          SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
        });
      }
      return send(400, { __type: 'UnknownOperationException' });
    });
  });
  return new Promise<{
    url: string;
    server: Server;
    seen: typeof seen;
    publicKey: typeof publicKey;
  }>(resolve =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        server,
        seen,
        publicKey,
      }),
    ),
  );
}

const statement: VsaStatement = {
  _type: IN_TOTO_STATEMENT_V1,
  subject: [{ name: 'r.example/x', digest: { sha256: 'a'.repeat(64) } }],
  predicateType: VSA_PREDICATE_TYPE,
  predicate: {} as any,
};

describe('AwsKmsVsaSigner', () => {
  let kms: Awaited<ReturnType<typeof startKms>>;
  beforeAll(async () => {
    kms = await startKms('eusc-de-east-1');
  });
  afterAll(() => new Promise(r => kms.server.close(r)));

  it('signs a VSA through Sign/GetPublicKey with SigV4 requests the server accepts', async () => {
    const signer = AwsKmsVsaSigner.create({
      keyId: `awskms:///${ARN}`,
      credentials: CREDS,
      endpoint: kms.url,
    });
    expect(signer.region).toBe('eusc-de-east-1');
    const signed = await signVsa(statement, signer, ['eusc-de-east-1']);
    expect(kms.seen.map(s => s.target)).toEqual([
      'TrentService.GetPublicKey',
      'TrentService.Sign',
    ]);
    expect(kms.seen.every(s => s.problem === undefined)).toBe(true);
    const env = JSON.parse(signed.envelope);
    const body = Buffer.from(env.payload, 'base64');
    const t = Buffer.from(env.payloadType);
    const pae = Buffer.concat([
      Buffer.from(`DSSEv1 ${t.length} `),
      t,
      Buffer.from(` ${body.length} `),
      body,
    ]);
    expect(
      verify(
        'sha256',
        pae,
        kms.publicKey,
        Buffer.from(env.signatures[0].sig, 'base64'),
      ),
    ).toBe(true);
  });

  it('surfaces a SigV4 rejection (wrong secret) as vsa_kms_error', async () => {
    const signer = AwsKmsVsaSigner.create({
      keyId: ARN,
      credentials: { ...CREDS, secretAccessKey: 'wrong' },
      endpoint: kms.url,
    });
    await expect(signer.publicKey()).rejects.toThrow(
      expect.objectContaining({
        code: 'vsa_kms_error',
        message: expect.stringContaining('InvalidSignatureException'),
      }),
    );
    expect(kms.seen.at(-1)?.problem).toBe('signature does not match');
  });

  it('refuses to sign for a boundary the key region is not in', async () => {
    const signer = AwsKmsVsaSigner.create({
      keyId: ARN,
      credentials: CREDS,
      endpoint: kms.url,
    });
    const before = kms.seen.length;
    await expect(signVsa(statement, signer, ['eu-central-1'])).rejects.toThrow(
      expect.objectContaining({ code: 'vsa_key_outside_boundary' }),
    );
    expect(kms.seen.length).toBe(before); // no KMS call made
  });

  it('refuses key ids that do not pin a region, and plain http off loopback', () => {
    for (const keyId of [
      'awskms:///alias/vsa',
      '1234abcd-12ab',
      'azurekms://v/k',
    ]) {
      expect(() =>
        AwsKmsVsaSigner.create({ keyId, credentials: CREDS }),
      ).toThrow(expect.objectContaining({ code: 'vsa_key_region_unpinned' }));
    }
    expect(() =>
      AwsKmsVsaSigner.create({
        keyId: ARN,
        credentials: CREDS,
        endpoint: 'http://kms.example.com',
      }),
    ).toThrow(expect.objectContaining({ code: 'vsa_config_invalid' }));
  });

  it('derives the sovereign-cloud endpoint from the ARN partition', async () => {
    const urls: string[] = [];
    const signer = AwsKmsVsaSigner.create({
      keyId: ARN,
      credentials: CREDS,
      fetch: (async (u: URL) => {
        urls.push(String(u));
        throw new Error('offline');
      }) as any,
    });
    await expect(signer.publicKey()).rejects.toThrow(
      expect.objectContaining({ code: 'vsa_kms_error' }),
    );
    expect(urls).toEqual(['https://kms.eusc-de-east-1.amazonaws.eu/']);
  });
});
