/*
 * Engine-side support of a per-registry circuit breaker (issue 13.2): fault
 * classification and the per-cycle health object consulted by every request.
 */
import { parseImageReference } from '../reference';
import { createArtifactSource } from './artifact-source';
import { faultOf, RegistryCircuit } from './health';
import { startHostile, type HostileServer } from './__testUtils__/hostile';
import { SourceError } from './types';

jest.setTimeout(20_000);

const servers: HostileServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(s => s.close()));
});

describe('faultOf', () => {
  it.each([
    [
      new SourceError('registry_unreachable', 'x', { problem: 'network' }),
      'unreachable',
    ],
    [
      new SourceError('registry_unreachable', 'x', { problem: 'timeout' }),
      'stalled',
    ],
    [
      new SourceError('registry_unreachable', 'x', { problem: 'stalled' }),
      'stalled',
    ],
    [
      new SourceError('registry_unreachable', 'x', {
        problem: 'image_deadline',
      }),
      'stalled',
    ],
    [
      new SourceError('registry_unreachable', 'x', {
        problem: 'redirect_not_allowed',
      }),
      'misbehaving',
    ],
    [
      new SourceError('registry_unreachable', 'x', {
        problem: 'malformed_manifest',
      }),
      'misbehaving',
    ],
    [
      new SourceError('registry_unreachable', 'x', { problem: 'aborted' }),
      'aborted',
    ],
    [new SourceError('rate_limited', 'x'), 'rate_limited'],
    [new SourceError('registry_auth', 'x'), 'auth'],
    [new SourceError('digest_mismatch', 'x'), 'content'],
    [new SourceError('too_large', 'x'), 'content'],
    [new SourceError('too_large', 'x', { problem: 'page_cap' }), 'misbehaving'],
    [new SourceError('not_found', 'x'), 'content'],
    [new SourceError('bad_reference', 'x'), undefined],
    [new SourceError('registry_not_allowed', 'x'), undefined],
    // A reason of an image result classifies the same way (sourceCode aside).
    [
      { code: 'registry_unreachable', details: { problem: 'timeout' } },
      'stalled',
    ],
    [new Error('plain'), undefined],
  ])('%p -> %p', (error, fault) => {
    expect(faultOf(error)).toBe(fault);
  });
});

describe('RegistryCircuit', () => {
  it('opens after N consecutive availability faults; any answer resets the count', () => {
    const c = new RegistryCircuit({ failureThreshold: 3 });
    c.record('a', 'unreachable');
    c.record('a', 'stalled');
    c.record('a', 'content'); // the registry answered: healthy
    c.record('a', 'rate_limited');
    c.record('a', 'unreachable');
    expect(c.isOpen('a')).toBe(false);
    c.record('a', 'stalled');
    expect(c.isOpen('a')).toBe(true);
    expect(c.isOpen('b')).toBe(false);
    const err = (() => {
      try {
        c.check('a');
      } catch (e) {
        return e as SourceError;
      }
      return undefined;
    })();
    expect(err?.code).toBe('registry_unreachable');
    expect(err?.details?.problem).toBe('circuit_open');
    expect(() => c.check('b')).not.toThrow();
    expect(c.snapshot().a).toEqual({
      consecutiveFailures: 3,
      open: true,
      lastFault: 'stalled',
    });
  });

  it('caller aborts say nothing about the registry', () => {
    const c = new RegistryCircuit({ failureThreshold: 1 });
    c.record('a', 'aborted');
    expect(c.isOpen('a')).toBe(false);
  });
});

describe('a source with a per-cycle circuit', () => {
  it('attack: a refusing registry is asked N times, then fails at once (circuit_open) until the next cycle', async () => {
    const s = await startHostile(req => {
      req.socket.destroy();
    });
    servers.push(s);
    const circuit = new RegistryCircuit({ failureThreshold: 2 });
    const source = createArtifactSource({
      registries: [{ host: s.host, insecure: true }],
      fetchOptions: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 2 },
      health: circuit,
    });
    try {
      const ref = parseImageReference(`${s.host}/app:v1`);
      const problems: unknown[] = [];
      for (let i = 0; i < 4; i++) {
        const e = await source.resolve(ref).catch(err => err);
        expect(e).toBeInstanceOf(SourceError);
        expect(e.code).toBe('registry_unreachable');
        problems.push(e.details?.problem);
      }
      expect(problems).toEqual([
        'network',
        'network',
        'circuit_open',
        'circuit_open',
      ]);
      expect(s.requests).toHaveLength(2);
      source.newCycle({ health: new RegistryCircuit() });
      await source.resolve(ref).catch(() => undefined);
      expect(s.requests).toHaveLength(3);
    } finally {
      await source.close();
    }
  });
});
