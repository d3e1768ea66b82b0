/*
 * Evidence round trip (case 35) and tampering (case 33): build -> chain ->
 * verifyEvidenceBundle is ok offline; every altered field fails naming its path.
 */
import fc from 'fast-check';
import {
  EVIDENCE_BUNDLE_SCHEMA,
  type EvidenceBundle,
  type EvidenceRecord,
} from '@residency-dev/plugin-residency-common';
import {
  residencyPredicate as residencyPredicateOf,
  slsaProvenanceV1,
} from '@residency-dev/signing-kit';
import {
  canonicalHash,
  canonicalJson,
  chainRecord,
  recordHashOf,
  sha256Hex,
  verifyEvidenceBundle,
} from '.';
import { publicGoodTrustedRoot } from '../config';
import {
  addEnvelope,
  addMessageBundle,
  addSimpleSignature,
  engineFor,
  EU_REGION,
  FakeSource,
  keys,
  newImage,
  settingsWith,
  statementFor,
} from '../__testUtils__/world';

async function makeRecord(): Promise<{
  record: EvidenceRecord;
  settings: ReturnType<typeof settingsWith>;
}> {
  const f = newImage();
  addSimpleSignature(f, keys().eu);
  await addMessageBundle(f, keys().eu);
  const p = slsaProvenanceV1({ builderId: 'https://builder.eu.example.com/r' });
  addEnvelope(f, keys().eu, statementFor(f, p.predicateType, p.predicate));
  const r = residencyPredicateOf({
    buildRegion: EU_REGION,
    storageLocations: [],
    dataLocations: [],
  });
  addEnvelope(f, keys().eu, statementFor(f, r.predicateType, r.predicate));
  const settings = settingsWith(
    {},
    { require: ['signature', 'provenance', 'residency'] },
  );
  const engine = engineFor(settings, new FakeSource().add(f));
  const { record } = await engine.evaluateEntity({
    entityRef: 'component:default/shop',
    images: [f.reference],
    tenant: 'acme-eu',
  });
  return { record, settings };
}

function bundleOf(
  record: EvidenceRecord,
  previous?: { sequence: number; recordHash: string },
): EvidenceBundle {
  const evidence = chainRecord(record, previous ?? null);
  return {
    schema: EVIDENCE_BUNDLE_SCHEMA,
    evidence,
    ...(previous ? { previous: { id: 'prev', ...previous } } : {}),
    exportedAt: '2026-06-01T12:00:00Z',
  };
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

describe('evidence', () => {
  it('canonical JSON is RFC 8785 (sorted keys, no whitespace) and the chain hash covers sequence and previousHash', async () => {
    expect(canonicalJson({ b: 1, a: [true, 'x'] })).toBe(
      '{"a":[true,"x"],"b":1}',
    );
    const { record } = await makeRecord();
    const first = chainRecord(record);
    expect(first).toMatchObject({ sequence: 1, previousHash: null });
    const second = chainRecord(record, first);
    expect(second.sequence).toBe(2);
    expect(second.previousHash).toBe(first.recordHash);
    expect(second.recordHash).toBe(recordHashOf(2, first.recordHash, record));
    expect(second.recordHash).not.toBe(first.recordHash);
  });

  it('case 35: a record carries everything to re-verify offline', async () => {
    const { record } = await makeRecord();
    expect(record.result.decision).toBe('compliant');
    const m = record.material[0];
    expect(m.manifest).toBeDefined();
    expect(m.simpleSignatures).toHaveLength(1);
    expect(m.bundles).toHaveLength(1);
    expect(m.envelopes).toHaveLength(2);
    expect(record.trust.keys[0]).toMatchObject({
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
      region: EU_REGION,
      publicKeyPem: expect.stringContaining('BEGIN PUBLIC KEY'),
    });
    expect(record.engineVersion).toMatch(/plugin-residency-node/);
    expect(JSON.stringify(record)).not.toMatch(/password|token/i);
  });

  it('case 26: registry credentials never reach the record, the trust hash or the result', async () => {
    const f = newImage();
    addSimpleSignature(f, keys().eu);
    const settings = settingsWith({
      registries: [
        {
          host: 'registry.eu.example.com',
          region: EU_REGION,
          credentials: { username: 'robot', password: 's3cr3t-pass' },
        },
      ],
    });
    const plain = settingsWith({
      registries: [{ host: 'registry.eu.example.com', region: EU_REGION }],
    });
    const engine = engineFor(settings, new FakeSource().add(f));
    const { record, result } = await engine.evaluateEntity({
      entityRef: 'c:d/x',
      images: [f.reference],
      tenant: 'acme-eu',
    });
    expect(result.decision).toBe('compliant');
    expect(JSON.stringify(record)).not.toContain('s3cr3t-pass');
    expect(JSON.stringify(record)).not.toContain('robot');
    expect(engine.trustHash()).toBe(
      engineFor(plain, new FakeSource()).trustHash(),
    );
  });

  it('round trip: build -> chain -> verify is ok, with and without settings', async () => {
    const { record, settings } = await makeRecord();
    const b = bundleOf(clone(record));
    expect(verifyEvidenceBundle(clone(b))).toEqual({
      ok: true,
      decision: 'compliant',
      problems: [],
    });
    expect(verifyEvidenceBundle(clone(b), { settings }).ok).toBe(true);
    const second = bundleOf(clone(record), {
      sequence: b.evidence.sequence,
      recordHash: b.evidence.recordHash,
    });
    expect(verifyEvidenceBundle(second).ok).toBe(true);
  });

  type Mutation = [string, (b: any) => void, string[]];
  const mutations: Mutation[] = [
    [
      'the decision',
      b => (b.evidence.record.result.decision = 'non_compliant'),
      ['evidence.recordHash', 'evidence.record.result.decision'],
    ],
    [
      'an image decision',
      b => (b.evidence.record.result.images[0].decision = 'unknown'),
      ['evidence.record.result.images[0].decision'],
    ],
    [
      'a reason added',
      b => b.evidence.record.result.reasons.push({ code: 'x', message: 'y' }),
      ['evidence.record.result.reasons'],
    ],
    [
      'the simple signature',
      b => {
        const s = b.evidence.record.material[0].simpleSignatures[0];
        const sig = Buffer.from(s.signature, 'base64');
        sig[sig.length - 1] ^= 1;
        s.signature = sig.toString('base64');
      },
      [
        'evidence.record.material[0].simpleSignatures[0]',
        'evidence.record.result.images[0].signatures[0].verified',
      ],
    ],
    [
      'an envelope payload',
      b => {
        const env = JSON.parse(
          b.evidence.record.material[0].envelopes[0].envelope,
        );
        env.payload = Buffer.from(
          '{"_type":"https://in-toto.io/Statement/v1"}',
        ).toString('base64');
        b.evidence.record.material[0].envelopes[0].envelope =
          JSON.stringify(env);
      },
      ['evidence.record.material[0].envelopes[0]'],
    ],
    [
      'the bundle',
      b => {
        const bundle = JSON.parse(
          b.evidence.record.material[0].bundles[0].bundle,
        );
        bundle.messageSignature.signature = Buffer.alloc(70, 1).toString(
          'base64',
        );
        b.evidence.record.material[0].bundles[0].bundle =
          JSON.stringify(bundle);
      },
      ['evidence.record.material[0].bundles[0]'],
    ],
    [
      'the manifest',
      b =>
        (b.evidence.record.material[0].manifest =
          Buffer.from('{}').toString('base64')),
      ['evidence.record.material[0].manifest'],
    ],
    [
      'a key region',
      b => (b.evidence.record.trust.keys[0].region = 'us-east-1'),
      [
        'evidence.record.trust.keys[0].region',
        'evidence.record.result.trustHash',
      ],
    ],
    [
      'a key fingerprint',
      b => (b.evidence.record.trust.keys[0].fingerprint = '0'.repeat(64)),
      ['evidence.record.trust.keys[0].fingerprint'],
    ],
    [
      'a key PEM swapped for another key',
      b =>
        (b.evidence.record.trust.keys[0].publicKeyPem =
          keys().rogue.publicKeyPem),
      ['evidence.record.trust.keys[0].fingerprint'],
    ],
    [
      'the policy boundary',
      b => (b.evidence.record.policy.boundary.regions = ['us-east-1']),
      ['evidence.record.result.policyHash'],
    ],
    [
      'createdAt',
      b => (b.evidence.record.createdAt = '2020-01-01T00:00:00.000Z'),
      ['evidence.record.createdAt'],
    ],
    [
      'the sequence',
      b => (b.evidence.sequence = 7),
      ['evidence.recordHash', 'evidence.previousHash'],
    ],
    [
      'the previous hash',
      b => (b.evidence.previousHash = 'f'.repeat(64)),
      ['evidence.recordHash'],
    ],
    [
      'the record hash',
      b => (b.evidence.recordHash = 'e'.repeat(64)),
      ['evidence.recordHash'],
    ],
    ['the schema', b => (b.schema = 'x'), ['schema']],
  ];

  it.each(mutations)(
    'case 33: altering %s fails and names the path',
    async (_name, mutate, paths) => {
      const { record } = await makeRecord();
      const b = clone(bundleOf(record));
      mutate(b);
      const v = verifyEvidenceBundle(b);
      expect(v.ok).toBe(false);
      const got = v.problems.map(p => p.path);
      for (const p of paths) expect(got).toContain(p);
    },
  );

  it('case 33: a broken link to the previous record is reported', async () => {
    const { record } = await makeRecord();
    const first = chainRecord(record);
    const b = bundleOf(record, {
      sequence: first.sequence,
      recordHash: first.recordHash,
    });
    b.previous!.recordHash = 'a'.repeat(64);
    expect(verifyEvidenceBundle(b).problems.map(p => p.path)).toContain(
      'previous.recordHash',
    );
  });

  it('with settings: a key revoked or re-pinned since is reported', async () => {
    const { record } = await makeRecord();
    const b = bundleOf(record);
    const revoked = settingsWith({
      keys: [
        {
          id: record.trust.keys[0].id,
          publicKey: keys().eu.publicKeyPem,
          revoked: true,
        },
      ],
    });
    expect(
      verifyEvidenceBundle(clone(b), { settings: revoked }).problems,
    ).toContainEqual(
      expect.objectContaining({
        path: 'evidence.record.trust.keys[0].revoked',
        code: 'key_revoked',
      }),
    );
    const gone = settingsWith({ keys: [] });
    expect(
      verifyEvidenceBundle(clone(b), { settings: gone }).problems,
    ).toContainEqual(
      expect.objectContaining({
        path: 'evidence.record.trust.keys[0]',
        code: 'key_not_configured',
      }),
    );
  });

  it('hostile bundles asking for unbounded work are refused before any crypto', async () => {
    const { record } = await makeRecord();
    const b: any = clone(bundleOf(record));
    const sig = b.evidence.record.material[0].simpleSignatures[0];
    b.evidence.record.material[0].simpleSignatures = Array.from(
      { length: 10_000 },
      () => sig,
    );
    const started = Date.now();
    const v = verifyEvidenceBundle(b);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(v.problems).toContainEqual(
      expect.objectContaining({
        path: 'evidence.record.material[0]',
        code: 'too_large',
      }),
    );
  });

  it('hostile bundles never throw', () => {
    for (const v of [
      null,
      1,
      'x',
      [],
      {},
      { schema: EVIDENCE_BUNDLE_SCHEMA, evidence: { record: { result: 1 } } },
      {
        evidence: {
          record: { result: {}, trust: {}, policy: {}, material: [{}] },
        },
      },
    ]) {
      const r = verifyEvidenceBundle(v);
      expect(r.ok).toBe(false);
      expect(r.problems.length).toBeGreaterThan(0);
    }
  });
});

describe("the bundle's policy and registries against the auditor's configuration (issue 12, siblings of item 1)", () => {
  // A forger edits the policy or the registries and recomputes every hash: the
  // bundle stays self-consistent, so only the auditor's configuration catches it.
  async function forged(mutate: (r: any) => void): Promise<EvidenceBundle> {
    const { record } = await makeRecord();
    const r: any = clone(record);
    mutate(r);
    // The forger drops the verification reports (a record from before reports
    // existed still verifies), so the bundle stays self-consistent.
    delete r.result.report;
    for (const image of r.result.images) delete image.report;
    r.result.policyHash = canonicalHash(r.policy);
    r.result.trustHash = canonicalHash(r.trust);
    return bundleOf(r);
  }
  const codesAt = (b: EvidenceBundle, settings: any, scope?: any) =>
    verifyEvidenceBundle(clone(b), { settings, scope }).problems.map(
      p => `${p.code} ${p.path}`,
    );

  it('the honest bundle has none of these problems against the same configuration', async () => {
    const { record, settings } = await makeRecord();
    expect(verifyEvidenceBundle(bundleOf(record), { settings })).toMatchObject({
      ok: true,
      problems: [],
    });
  });

  it('boundary_changed: a boundary widened to a US region', async () => {
    const { settings } = await makeRecord();
    const b = await forged(r => {
      r.policy.boundary.regions.push('us-east-1');
      r.result.boundary.regions.push('us-east-1');
    });
    expect(verifyEvidenceBundle(clone(b)).ok).toBe(true);
    expect(codesAt(b, settings)).toContain(
      'boundary_changed evidence.record.policy.boundary.regions',
    );
    const renamed = await forged(r => {
      r.policy.boundary.name = 'anywhere';
      r.result.boundary.name = 'anywhere';
    });
    expect(verifyEvidenceBundle(clone(renamed)).ok).toBe(true);
    expect(codesAt(renamed, settings)).toContain(
      'boundary_changed evidence.record.policy.boundary',
    );
  });

  it('policy_changed: requirements emptied, or a tenant that is not configured', async () => {
    const { settings } = await makeRecord();
    const b = await forged(r => (r.policy.require = ['signature']));
    expect(verifyEvidenceBundle(clone(b)).ok).toBe(true);
    expect(codesAt(b, settings)).toEqual([
      'policy_changed evidence.record.policy.require',
    ]);
    const other = await forged(r => {
      r.policy.tenant = 'someone-else';
      r.result.tenant = 'someone-else';
    });
    expect(codesAt(other, settings)).toContain(
      'policy_changed evidence.record.policy.tenant',
    );
  });

  it('registry_not_configured and registry_changed: a registry added or relabelled', async () => {
    const { settings } = await makeRecord();
    const added = await forged(r =>
      r.trust.registries.push({ host: 'evil.example.com', region: EU_REGION }),
    );
    expect(verifyEvidenceBundle(clone(added)).ok).toBe(true);
    expect(codesAt(added, settings)).toEqual([
      'registry_not_configured evidence.record.trust.registries[2]',
    ]);
    const relabelled = await forged(r => {
      const us = r.trust.registries.find(
        (x: any) => x.host === 'registry.us.example.com',
      );
      us.region = EU_REGION;
    });
    expect(codesAt(relabelled, settings)).toEqual([
      'registry_changed evidence.record.trust.registries[1].region',
    ]);
  });

  it('key_changed: a validity window widened in the record', async () => {
    const { settings } = await makeRecord();
    const b = await forged(r => {
      r.trust.keys[0].validUntil = '2099-01-01T00:00:00.000Z';
    });
    expect(verifyEvidenceBundle(clone(b)).ok).toBe(true);
    for (const scope of ['configuration', 'keys']) {
      expect(codesAt(b, settings, scope)).toEqual([
        'key_changed evidence.record.trust.keys[0].validUntil',
      ]);
    }
  });

  it('trusted_root_not_configured: a trusted root the auditor does not trust (even the embedded public-good one)', async () => {
    const { settings } = await makeRecord();
    const b = await forged(r => {
      r.trust.trustedRoots = [
        {
          name: 'public-good',
          sha256: sha256Hex(publicGoodTrustedRoot()),
        },
      ];
    });
    expect(verifyEvidenceBundle(clone(b)).ok).toBe(true);
    for (const scope of ['configuration', 'keys']) {
      expect(codesAt(b, settings, scope)).toEqual([
        'trusted_root_not_configured evidence.record.trust.trustedRoots[0]',
      ]);
    }
    const trusting = settingsWith({ trustedRoots: [{ publicGood: true }] });
    expect(codesAt(b, trusting, 'keys')).toEqual([]);
  });

  it("scope 'keys' compares keys and boundaries only; requirements and registries stay as recorded", async () => {
    const { settings } = await makeRecord();
    const b = await forged(r => {
      r.policy.require = ['signature'];
      r.trust.registries.push({ host: 'evil.example.com', region: EU_REGION });
    });
    expect(codesAt(b, settings, 'keys')).toEqual([]);
    const widened = await forged(r => {
      r.policy.boundary.regions.push('us-east-1');
      r.result.boundary.regions.push('us-east-1');
    });
    expect(codesAt(widened, settings, 'keys')).toEqual([
      'boundary_changed evidence.record.policy.boundary.regions',
    ]);
  });
});

describe('property: the evidence-bundle reader on arbitrary input (issue 12, Also)', () => {
  it('never throws, and never reports ok for a document it did not verify', () => {
    const json = fc.letrec(tie => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('v'), { maxLength: 3 }),
        fc.dictionary(
          fc.constantFrom(
            'schema',
            'evidence',
            'record',
            'sequence',
            'previousHash',
            'recordHash',
            'result',
            'trust',
            'policy',
            'material',
            'keys',
            'previous',
            'x',
          ),
          tie('v'),
          { maxKeys: 5 },
        ),
      ),
    })).v;
    const settings = settingsWith();
    fc.assert(
      fc.property(
        json,
        fc.constantFrom(undefined, 'configuration', 'keys'),
        (doc, scope) => {
          // Also with the auditor's trust: the comparisons never throw either.
          const v = scope
            ? verifyEvidenceBundle(doc, {
                settings,
                scope: scope as 'configuration' | 'keys',
              })
            : verifyEvidenceBundle(doc);
          expect(v.ok).toBe(false);
          expect(v.problems.length).toBeGreaterThan(0);
          for (const p of v.problems) {
            expect(typeof p.path).toBe('string');
            expect(typeof p.check).toBe('string');
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('changing any one leaf of the hashed record of an honest bundle is detected', async () => {
    const { record, settings } = await makeRecord();
    const honest = bundleOf(clone(record));
    const leaves: (string | number)[][] = [];
    const walk = (v: unknown, path: (string | number)[]) => {
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
      else leaves.push(path);
    };
    walk(honest.evidence.record, []);
    expect(leaves.length).toBeGreaterThan(50);
    fc.assert(
      fc.property(
        fc.constantFrom(...leaves),
        fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
        (path, replacement) => {
          const b: any = clone(honest);
          let o = b.evidence.record;
          for (const k of path.slice(0, -1)) o = o[k];
          const last = path[path.length - 1];
          fc.pre(JSON.stringify(o[last]) !== JSON.stringify(replacement));
          o[last] = replacement;
          const v = verifyEvidenceBundle(b);
          expect(v.ok).toBe(false);
          expect(v.problems.map(p => p.path)).toContain('evidence.recordHash');
          const withTrust = verifyEvidenceBundle(b, { settings });
          expect(withTrust.ok).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});
