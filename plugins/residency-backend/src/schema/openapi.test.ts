import { mockServices } from '@backstage/backend-test-utils';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createRouter } from '../service/router';
import type { ExceptionService } from '../exceptions/ExceptionService';
import type { EntityStateTracker } from '../exceptions/EntityStateTracker';
import { specErrors } from '../__testUtils__/openapi';
import { spec as specModule } from './openapi.generated';
import type { ResidencyService } from '../service/ResidencyService';
import {
  CHECK_IDS,
  VERIFICATION_REPORT_SCHEMA,
} from '@residency-dev/plugin-residency-common';

// The router is the validated router of backend-openapi-utils over the spec
// module that scripts/openapi-module.js writes from the yaml (the repo-tools
// generator needs a Java jar that is not reachable offline); these tests keep
// the yaml, the module and the routes in step.
describe('openapi.yaml', () => {
  it('is what the router validates against (openapi.generated.ts is current)', () => {
    const yamlText = readFileSync(join(__dirname, 'openapi.yaml'), 'utf8');
    expect(JSON.parse(JSON.stringify(specModule))).toEqual(parse(yamlText));
  });

  it('describes exactly the routes the router serves', async () => {
    const spec = parse(readFileSync(join(__dirname, 'openapi.yaml'), 'utf8'));
    const documented = Object.entries(spec.paths as Record<string, object>)
      .flatMap(([path, ops]) =>
        Object.keys(ops).map(
          m => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`,
        ),
      )
      .sort();

    const router = await createRouter({
      httpAuth: mockServices.httpAuth(),
      auditor: mockServices.auditor.mock(),
      logger: mockServices.logger.mock(),
      service: {} as ResidencyService,
      exceptions: {
        service: {} as ExceptionService,
        tracker: {} as EntityStateTracker,
        store: { getStatus: async () => undefined },
      },
    });
    const served = [...(router as any).stack]
      // The spec's own route, added by createValidatedOpenApiRouter.
      .filter(
        (layer: any) => layer.route && layer.route.path !== '/openapi.json',
      )
      .flatMap((layer: any) =>
        Object.keys(layer.route.methods).map(
          m => `${m.toUpperCase()} ${layer.route.path}`,
        ),
      )
      .sort();

    expect(served).toEqual(documented);
  });

  it('documents 401 on every operation', () => {
    const spec = parse(readFileSync(join(__dirname, 'openapi.yaml'), 'utf8'));
    for (const ops of Object.values(spec.paths as Record<string, any>)) {
      for (const op of Object.values(ops as Record<string, any>)) {
        expect(Object.keys(op.responses)).toContain('401');
      }
    }
  });

  it('rejects bodies that do not match (the conformance checks have teeth)', () => {
    expect(
      specErrors({
        method: 'get',
        path: '/tenants',
        status: 200,
        body: { items: [{ id: 1 }] },
      }),
    ).not.toEqual([]);
    expect(
      specErrors({
        method: 'get',
        path: '/entities/{kind}/{namespace}/{name}/evidence/verify',
        status: 200,
        body: { entityRef: 'component:default/x', ok: 'yes', length: 1 },
      }),
    ).toEqual(['/ok must be boolean']);
  });

  describe('the verification report in the status detail (issue 19)', () => {
    const spec = parse(readFileSync(join(__dirname, 'openapi.yaml'), 'utf8'));
    const statusOf = (checks: unknown[]) => ({
      entityRef: 'component:default/x',
      decision: 'non_compliant',
      reasons: [],
      policyHash: 'p',
      trustHash: 't',
      engineVersion: '1',
      checkedAt: '2026-06-01T12:00:00.000Z',
      stale: false,
      report: { schema: VERIFICATION_REPORT_SCHEMA, checks: [] },
      images: [
        {
          reference: 'registry.eu/x:1',
          decision: 'non_compliant',
          reasons: [],
          signatures: [],
          attestations: [
            {
              kind: 'sbom',
              predicateType: 'https://cyclonedx.org/bom',
              source: 'referrers',
              verified: true,
              signedAt: '2026-05-01T00:00:00.000Z',
              superseded: 'attestations[1]',
            },
          ],
          report: { schema: VERIFICATION_REPORT_SCHEMA, checks },
        },
      ],
    });
    const status = (checks: unknown[]) =>
      specErrors({
        method: 'get',
        path: '/entities/{kind}/{namespace}/{name}/status',
        status: 200,
        body: statusOf(checks),
      });

    it('lists exactly the check ids of -common', () => {
      expect(
        spec.components.schemas.VerificationCheck.properties.id.enum,
      ).toEqual([...CHECK_IDS]);
    });

    it('a report with every check id conforms; an unknown id or outcome does not', () => {
      const checks = CHECK_IDS.map((id, i) => ({
        id,
        outcome: i % 2 ? 'pass' : 'fail',
        expected: 'e',
        found: 'f',
        material: {
          role: 'attestation',
          format: 'dsse',
          source: 'cosign-tag',
          index: 0,
          path: 'envelopes[0]',
        },
        trustAnchor: {
          key: { id: 'k', fingerprint: 'ab', region: 'eusc-de-east-1' },
          logId: 'cd',
          tsa: true,
        },
        time: { source: 'rfc3161', at: '2026-05-01T00:00:00.000Z' },
        durationMs: 1.5,
      }));
      expect(status(checks)).toEqual([]);
      expect(status([{ id: 'looks_fine', outcome: 'pass' }])).not.toEqual([]);
      expect(status([{ id: 'discovery', outcome: 'ok' }])).not.toEqual([]);
    });
  });
});
