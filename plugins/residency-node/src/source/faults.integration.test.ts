/*
 * Registry faults through the engine (issue 13, proof; registry side): a real
 * docker-registry behind the signing kit's fault-injecting proxy. Each case asserts
 * the reason code, that nothing is judged compliant, and that the time is bounded.
 * docs/reliability.md ("Registry faults") lists each case with its measured outcome;
 * run with RESIDENCY_FAULT_REPORT=<file> to write the measurements as JSON.
 */
import { writeFileSync } from 'node:fs';
import {
  publishSignedImage,
  startFaultProxy,
  startTestRegistry,
  type FaultProxy,
  type FaultRule,
  type TestRegistry,
} from '@residency-dev/signing-kit';
import type { EntityResult } from '@residency-dev/plugin-residency-common';
import { DefaultResidencyEngine } from '../engine';
import { EU_REGION, keys, settingsWith } from '../__testUtils__/world';
import { createArtifactSource } from './artifact-source';
import type { FetchOptions } from './limits';
import type { RegistryAccess } from './types';

jest.setTimeout(60_000);

/** Short timeouts so every fault ends in well under the test timeout. */
const FAST: Partial<FetchOptions> = {
  connectTimeoutMs: 500,
  headersTimeoutMs: 500,
  bodyIdleTimeoutMs: 500,
  totalTimeoutMs: 4_000,
  imageTimeoutMs: 8_000,
  maxAttempts: 2,
  baseDelayMs: 20,
  maxDelayMs: 50,
  retryAfterCapMs: 2_500,
};

const MANIFEST = /\/manifests\/v1$/;
const SIG = /\/manifests\/sha256-[0-9a-f]{64}\.sig$/;
const BLOB = /\/blobs\/sha256:/;

let registry: TestRegistry;
let proxy: FaultProxy;
let other: FaultProxy;
let digest: string;
let secondDigest: string;
const report: Record<string, unknown>[] = [];

beforeAll(async () => {
  registry = await startTestRegistry();
  proxy = await startFaultProxy({ target: registry.url });
  // Another origin in front of the same registry: a foreign redirect or realm target.
  other = await startFaultProxy({ target: registry.url });
  const published = await publishSignedImage({
    target: { registry: registry.url },
    repository: 'faults/app',
    tag: 'v1',
    dockerReference: `${proxy.host}/faults/app`,
    image: { deterministic: false },
    key: keys().eu,
  });
  digest = published.digest;
  const second = await publishSignedImage({
    target: { registry: registry.url },
    repository: 'faults/other',
    tag: 'v1',
    dockerReference: `${proxy.host}/faults/other`,
    image: { deterministic: false },
    key: keys().eu,
  });
  secondDigest = second.digest;
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await other?.close();
  await registry?.stop();
  const file = process.env.RESIDENCY_FAULT_REPORT;
  if (file) writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
});

beforeEach(async () => {
  await proxy.setFaults([]);
  await other.setFaults([]);
  proxy.requests.length = 0;
  other.requests.length = 0;
});

/** Evaluates the image through the engine with `faults` injected; records the outcome. */
async function evaluate(
  name: string,
  faults: FaultRule[],
  fetchOptions: Partial<FetchOptions> = {},
  access: Partial<RegistryAccess> = {},
): Promise<{ result: EntityResult; ms: number }> {
  await proxy.setFaults(faults);
  const settings = settingsWith(
    {
      registries: [{ host: proxy.host, region: EU_REGION, insecure: true }],
    },
    { require: ['signature'] },
  );
  const source = createArtifactSource({
    registries: settings.registries.map(r => ({ ...r, ...access })),
    fetchOptions: { ...FAST, ...fetchOptions },
  });
  const engine = DefaultResidencyEngine.create({ settings, source });
  const t0 = Date.now();
  try {
    const { result } = await engine.evaluateEntity({
      entityRef: 'component:default/faults',
      images: [`${proxy.host}/faults/app:v1`],
      tenant: 'acme-eu',
    });
    const ms = Date.now() - t0;
    const image = result.images[0];
    report.push({
      case: name,
      decision: result.decision,
      reasons: image.reasons.map(r => ({
        code: r.code,
        problem: (r.details as Record<string, unknown> | undefined)?.problem,
      })),
      requests: proxy.requests.length,
      ms,
    });
    return { result, ms };
  } finally {
    await engine.close();
    await source.close();
  }
}

function reasonOf(result: EntityResult) {
  const r = result.images[0].reasons[0];
  return {
    code: r?.code,
    problem: (r?.details as Record<string, unknown> | undefined)?.problem,
  };
}

describe('registry faults through the engine (real docker-registry behind the fault proxy)', () => {
  it('no fault: compliant (the fixture can pass, so the faults below are what fails it)', async () => {
    const { result } = await evaluate('no fault', []);
    expect(result.images[0].reasons).toEqual([]);
    expect(result.decision).toBe('compliant');
    expect(result.images[0].digest).toBe(digest);
  });

  it('refused connections -> unknown(registry_unreachable), problem network', async () => {
    const { result, ms } = await evaluate('refuse', [
      { fault: { kind: 'refuse' } },
    ]);
    expect(result.decision).toBe('unknown');
    expect(reasonOf(result)).toEqual({
      code: 'registry_unreachable',
      problem: 'network',
    });
    expect(ms).toBeLessThan(5_000);
  });

  it('reset mid-body of the image manifest -> unknown(registry_unreachable)', async () => {
    const { result } = await evaluate('reset mid-body', [
      { path: MANIFEST, fault: { kind: 'reset-mid-body', afterBytes: 10 } },
    ]);
    expect(result.decision).toBe('unknown');
    expect(reasonOf(result)).toEqual({
      code: 'registry_unreachable',
      problem: 'network',
    });
    expect(proxy.requests.filter(r => MANIFEST.test(r.url))).toHaveLength(2);
  });

  it('stall after headers (no answer) -> unknown(registry_unreachable), stalled, bounded by the header timeout', async () => {
    const { result, ms } = await evaluate('stall after headers', [
      { path: MANIFEST, fault: { kind: 'stall-headers' } },
    ]);
    expect(result.decision).toBe('unknown');
    expect(reasonOf(result)).toEqual({
      code: 'registry_unreachable',
      problem: 'stalled',
    });
    expect(ms).toBeLessThan(4_000);
  });

  it('stall mid-body of a signature layer -> unknown(registry_unreachable), stalled, bounded by the idle timeout', async () => {
    const { result, ms } = await evaluate('stall mid-body', [
      { path: BLOB, fault: { kind: 'stall-body', afterBytes: 5 } },
    ]);
    expect(result.decision).toBe('unknown');
    expect(reasonOf(result)).toEqual({
      code: 'registry_unreachable',
      problem: 'stalled',
    });
    expect(ms).toBeLessThan(4_000);
  });

  it.each([500, 502, 503])(
    '%i on the image manifest -> unknown(registry_unreachable) after bounded retries',
    async status => {
      const { result } = await evaluate(`${status}`, [
        { path: MANIFEST, fault: { kind: 'status', status } },
      ]);
      expect(result.decision).toBe('unknown');
      expect(reasonOf(result).code).toBe('registry_unreachable');
      expect(proxy.requests.filter(r => MANIFEST.test(r.url))).toHaveLength(2);
    },
  );

  it('one 503 is retried: compliant', async () => {
    const { result } = await evaluate('503 once', [
      { path: MANIFEST, times: 1, fault: { kind: 'status', status: 503 } },
    ]);
    expect(result.decision).toBe('compliant');
  });

  it('429 with Retry-After in seconds is honoured, then compliant', async () => {
    const { result, ms } = await evaluate('429 Retry-After: 1 (once)', [
      {
        path: SIG,
        times: 1,
        fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' } },
      },
    ]);
    expect(result.decision).toBe('compliant');
    expect(ms).toBeGreaterThanOrEqual(1_000);
  });

  it('429 with Retry-After as an HTTP date is honoured, then compliant', async () => {
    const when = new Date(Date.now() + 2_000).toUTCString();
    const { result } = await evaluate('429 Retry-After: <date> (once)', [
      {
        path: SIG,
        times: 1,
        fault: {
          kind: 'status',
          status: 429,
          headers: { 'retry-after': when },
        },
      },
    ]);
    expect(result.decision).toBe('compliant');
    const sigs = proxy.requests.filter(r => SIG.test(r.url));
    expect(sigs.map(r => r.action)).toEqual(['status', 'forward']);
  });

  it('429 always -> unknown(rate_limited); Retry-After beyond the cap gives up at once', async () => {
    const { result, ms } = await evaluate('429 Retry-After: 3600 (always)', [
      {
        path: SIG,
        fault: {
          kind: 'status',
          status: 429,
          headers: { 'retry-after': '3600' },
        },
      },
    ]);
    expect(result.decision).toBe('unknown');
    expect(reasonOf(result).code).toBe('rate_limited');
    expect(proxy.requests.filter(r => SIG.test(r.url))).toHaveLength(1);
    expect(ms).toBeLessThan(2_000);
  });

  it('attack: lying Docker-Content-Digest on the image manifest -> not compliant (digest_mismatch)', async () => {
    const { result } = await evaluate('lying Docker-Content-Digest', [
      {
        path: MANIFEST,
        fault: { kind: 'lying-digest', digest: `sha256:${'0'.repeat(64)}` },
      },
    ]);
    expect(result.decision).toBe('unknown');
    expect(reasonOf(result).code).toBe('digest_mismatch');
  });

  it('attack: redirect of a signature layer to another host -> unknown(registry_unreachable, redirect_not_allowed); target never contacted', async () => {
    const { result } = await evaluate('redirect to another host', [
      {
        path: BLOB,
        fault: { kind: 'redirect', location: `${other.url}/elsewhere` },
      },
    ]);
    expect(result.decision).toBe('unknown');
    expect(reasonOf(result)).toEqual({
      code: 'registry_unreachable',
      problem: 'redirect_not_allowed',
    });
    expect(other.requests).toHaveLength(0);
  });

  it('a redirect to a configured blob host is followed without credentials: compliant', async () => {
    const { result } = await evaluate(
      'redirect to a configured blob host',
      [
        {
          path: BLOB,
          fault: { kind: 'redirect', location: `${other.url}{path}` },
        },
      ],
      {},
      { blobHosts: [other.url], credentials: { token: 'registry-only' } },
    );
    expect(result.decision).toBe('compliant');
    expect(other.requests.length).toBeGreaterThan(0);
    expect(
      other.requests.every(r => r.headers.authorization === undefined),
    ).toBe(true);
    expect(
      proxy.requests
        .filter(r => BLOB.test(r.url))
        .every(r => r.headers.authorization === 'Bearer registry-only'),
    ).toBe(true);
  });

  it.each([
    ['another host', 'localhost', 'realm_foreign_host'],
    ['another port of the registry host', '127.0.0.1', 'realm_foreign_origin'],
  ])(
    'attack: bearer realm on %s -> unknown(registry_auth); the realm is never contacted',
    async (_name, hostname, problem) => {
      const { result } = await evaluate(
        `bearer realm on ${_name}`,
        [
          {
            path: MANIFEST,
            fault: {
              kind: 'bearer-realm',
              realm: `http://${hostname}:${other.port}/token`,
            },
          },
        ],
        {},
        { credentials: { username: 'ci', password: 'secret' } },
      );
      expect(result.decision).toBe('unknown');
      expect(reasonOf(result)).toEqual({ code: 'registry_auth', problem });
      expect(other.requests).toHaveLength(0);
    },
  );

  it('attack: every response drips (under the idle timeout) -> unknown at the per-image deadline', async () => {
    const { result, ms } = await evaluate(
      'drip (per-image deadline 1.5 s)',
      [{ path: BLOB, fault: { kind: 'drip', intervalMs: 100 } }],
      { imageTimeoutMs: 1_500, totalTimeoutMs: 30_000 },
    );
    expect(result.decision).toBe('unknown');
    expect(reasonOf(result)).toEqual({
      code: 'registry_unreachable',
      problem: 'image_deadline',
    });
    expect(ms).toBeLessThan(3_000);
  });

  it('an absent referrers API (docker-registry answers 404) is asked once per registry per cycle', async () => {
    const settings = settingsWith(
      {
        registries: [{ host: proxy.host, region: EU_REGION, insecure: true }],
      },
      { require: ['signature'] },
    );
    const source = createArtifactSource({
      registries: settings.registries,
      fetchOptions: FAST,
    });
    const engine = DefaultResidencyEngine.create({ settings, source });
    const referrers = () =>
      proxy.requests.filter(r => r.url.includes('/referrers/')).length;
    try {
      const images = [
        `${proxy.host}/faults/app:v1`,
        `${proxy.host}/faults/other:v1`,
      ];
      const first = await engine.evaluateEntity({
        entityRef: 'component:default/faults',
        images,
        tenant: 'acme-eu',
      });
      expect(first.result.decision).toBe('compliant');
      expect(first.result.images.map(i => i.digest).sort()).toEqual(
        [digest, secondDigest].sort(),
      );
      // Both images ask at once: the second waits for the first one's 404.
      const firstCycle = referrers();
      expect(firstCycle).toBe(1);
      await engine.evaluateEntity({
        entityRef: 'component:default/faults',
        images,
        tenant: 'acme-eu',
      });
      expect(referrers()).toBe(firstCycle);
      engine.newCycle();
      await engine.evaluateEntity({
        entityRef: 'component:default/faults',
        images: images.slice(0, 1),
        tenant: 'acme-eu',
      });
      expect(referrers()).toBe(firstCycle + 1);
      report.push({
        case: 'absent referrers API, 2 images x 2 evaluations, then a new cycle',
        referrersRequests: referrers(),
        totalRequests: proxy.requests.length,
      });
    } finally {
      await engine.close();
      await source.close();
    }
  });
});
