/*
 * Verification results of unchanged material are reused within one configuration
 * and verified again when the keys, the policy's identities or a key's validity
 * window change.
 */
import { DefaultResidencyEngine } from '../engine';
import {
  addSimpleSignature,
  EU_KEY_ID,
  FakeSource,
  keys,
  newImage,
  settingsWith,
  FIXED_NOW,
} from '../__testUtils__/world';
import { cachedChecks, verificationCacheStats } from './cache';
import type { ImageMaterial } from '@residency-dev/plugin-residency-common';
import type { Check } from './types';
import { loadTrustedKeys } from '../keys';
import type { ResidencySettings } from '../api';

function world(settings: ResidencySettings, clock: { now: Date }) {
  const f = newImage();
  addSimpleSignature(f, keys().eu);
  const source = new FakeSource();
  source.add(f);
  const engine = DefaultResidencyEngine.create({
    settings,
    source,
    now: () => clock.now,
  });
  const run = () =>
    engine.evaluateEntity({
      entityRef: 'component:default/shop',
      images: [f.reference],
      tenant: 'acme-eu',
    });
  return { run };
}

function counters() {
  return { ...verificationCacheStats };
}

describe('verification cache', () => {
  it('verifies unchanged material once per configuration, with the same result', async () => {
    const clock = { now: FIXED_NOW };
    const { run } = world(settingsWith(), clock);
    const before = counters();
    const first = await run();
    const afterFirst = counters();
    expect(afterFirst.misses - before.misses).toBe(1);
    expect(afterFirst.hits - before.hits).toBe(0);

    clock.now = new Date(FIXED_NOW.getTime() + 60_000);
    const second = await run();
    const afterSecond = counters();
    expect(afterSecond.hits - afterFirst.hits).toBe(1);
    expect(afterSecond.misses - afterFirst.misses).toBe(0);
    expect(second.result.decision).toBe('compliant');
    // Same checks; only the time of the decision moved.
    expect(second.result.images[0].verifiedAt).toBe(clock.now.toISOString());
    const strip = (image: any) => ({
      ...image,
      verifiedAt: undefined,
      report: undefined,
    });
    expect(strip(second.result.images[0])).toEqual(
      strip(first.result.images[0]),
    );
    // The report lists the same checks with the same outcomes; a check timed by
    // the verification time names the new time.
    const outline = (image: any) =>
      image.report.checks.map((c: any) => [c.id, c.outcome, c.reason]);
    expect(outline(second.result.images[0])).toEqual(
      outline(first.result.images[0]),
    );
    const times = second.result.images[0]
      .report!.checks.filter((c: any) => c.time?.source === 'verification_time')
      .map((c: any) => c.time.at);
    expect(times.length).toBeGreaterThan(0);
    expect(new Set(times)).toEqual(new Set([clock.now.toISOString()]));
  });

  it('verifies again under another configuration (a revoked key)', async () => {
    const clock = { now: FIXED_NOW };
    const a = world(settingsWith(), clock);
    expect((await a.run()).result.decision).toBe('compliant');
    const revoked = settingsWith({
      keys: [
        { id: EU_KEY_ID, publicKey: keys().eu.publicKeyPem, revoked: true },
      ],
    });
    const b = world(revoked, clock);
    const before = counters();
    const { result } = await b.run();
    expect(counters().misses - before.misses).toBe(1);
    expect(result.decision).toBe('non_compliant');
    expect(result.images[0].reasons.map(r => r.code)).toContain('key_revoked');
  });

  it('verifies again when the time crosses a key validity window, and never keeps a time-stamped failure', async () => {
    const clock = { now: FIXED_NOW };
    const { run } = world(
      settingsWith({
        keys: [
          {
            id: EU_KEY_ID,
            publicKey: keys().eu.publicKeyPem,
            validUntil: '2026-07-01T00:00:00Z',
          },
        ],
      }),
      clock,
    );
    expect((await run()).result.decision).toBe('compliant');

    clock.now = new Date('2026-08-01T00:00:00Z');
    let before = counters();
    const expired = await run();
    expect(counters().misses - before.misses).toBe(1);
    expect(expired.result.decision).toBe('non_compliant');
    expect(expired.result.images[0].reasons.map(r => r.code)).toContain(
      'key_expired',
    );

    // The key_expired failure names the verification time: verified again, not cached.
    clock.now = new Date('2026-08-02T00:00:00Z');
    before = counters();
    const again = await run();
    expect(counters().misses - before.misses).toBe(1);
    expect(JSON.stringify(again.result.images[0].reasons)).toContain(
      '2026-08-02T00:00:00.000Z',
    );
  });
});

describe('cachedChecks', () => {
  const material = (payload: string, envelope: string): ImageMaterial => ({
    reference: 'registry.eu.example.com/shop@sha256:1',
    digest: `sha256:${'1'.repeat(64)}`,
    simpleSignatures: [{ payload, signature: 'c2ln', source: 'cosign-tag' }],
    envelopes: [{ envelope, source: 'cosign-tag' }],
    bundles: [],
  });
  const options = {
    trust: { keys: [] },
    trustedRoots: [],
    identities: Object.freeze([]),
    at: FIXED_NOW,
  };

  it('answers only for the very same material strings, never for other bytes under the same digest', () => {
    let runs = 0;
    const verify = () => {
      runs++;
      return {
        checks: [{ role: 'signature', verified: true, index: runs } as Check],
        durations: [1],
      };
    };
    const first = cachedChecks(material('cGF5', '{"a":1}'), options, verify);
    // Equal content in other string objects: the same material, a hit.
    const again = cachedChecks(
      material(['cG', 'F5'].join(''), ['{"a"', ':1}'].join('')),
      options,
      verify,
    );
    expect(runs).toBe(1);
    expect(again.checks).toBe(first.checks);
    expect(again.durations).toEqual([0]);
    // One character of the payload or of the envelope changed: verified again.
    cachedChecks(material('cGF6', '{"a":1}'), options, verify);
    expect(runs).toBe(2);
    cachedChecks(material('cGF5', '{"a":2}'), options, verify);
    expect(runs).toBe(3);
    // An envelope moved into the payload's place is other material too.
    const swapped = material('cGF5', '{"a":1}');
    swapped.envelopes = [];
    swapped.simpleSignatures.push({
      payload: '{"a":1}',
      signature: 'c2ln',
      source: 'cosign-tag',
    });
    cachedChecks(swapped, options, verify);
    expect(runs).toBe(4);
    // Every one of them is kept: each answers again without a run.
    cachedChecks(material('cGF6', '{"a":1}'), options, verify);
    cachedChecks(material('cGF5', '{"a":1}'), options, verify);
    expect(runs).toBe(4);
  });
});

describe('loadTrustedKeys', () => {
  it('parses a key list once, and again when the list changes in place', () => {
    const list = [
      {
        id: 'eu',
        region: 'eusc-de-east-1',
        publicKeyPem: keys().eu.publicKeyPem,
      },
    ] as Parameters<typeof loadTrustedKeys>[0];
    const first = loadTrustedKeys(list);
    expect(first.keys).toHaveLength(1);
    expect(loadTrustedKeys(list)).toBe(first);
    // Another list with the same content is its own configuration.
    expect(loadTrustedKeys([...list])).not.toBe(first);
    list[0] = { ...list[0], publicKeyPem: 'not a key' };
    const changed = loadTrustedKeys(list);
    expect(changed).not.toBe(first);
    expect(changed.keys).toHaveLength(0);
    expect(changed.bad).toEqual([{ index: 0, id: 'eu' }]);
  });
});
