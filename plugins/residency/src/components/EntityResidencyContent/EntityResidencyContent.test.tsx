import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  TestApiProvider,
  mockApis,
  renderInTestApp,
} from '@backstage/test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { Entity } from '@backstage/catalog-model';
import type { EvidenceSummary } from '@residency-dev/plugin-residency-common';
import { setupServer } from 'msw/node';
import { http, HttpResponse } from 'msw';
import { MockFetchApi, registerMswTestHooks } from '@backstage/test-utils';
import { residencyApiRef, ResidencyClient, type ResidencyApi } from '../../api';
import { EntityResidencyContent } from './EntityResidencyContent';
import { verifyCommandFor } from './EvidenceHistory';
import {
  annotatedEntity,
  fakeApi,
  makeStatus,
} from '../../__fixtures__/fixtures';

let entityCounter = 0;
/** A fresh entity name per test, so no cached permission decision leaks between tests. */
function freshEntity(): Entity {
  entityCounter += 1;
  return {
    ...annotatedEntity,
    metadata: { ...annotatedEntity.metadata, name: `svc-${entityCounter}` },
  };
}

function evidence(
  sequence: number,
  overrides: Partial<EvidenceSummary> = {},
): EvidenceSummary {
  return {
    id: `ev-${sequence}`,
    entityRef: 'component:default/svc',
    sequence,
    decision: 'compliant',
    reasonCodes: [],
    recordHash: `${String(sequence).repeat(8)}${'a'.repeat(56)}`.slice(0, 64),
    previousHash: null,
    createdAt: `2026-11-${String(10 + sequence).padStart(2, '0')}T12:00:00Z`,
    ...overrides,
  };
}

async function render(
  api: ResidencyApi,
  options: { allowEvidence?: boolean; entity?: Entity } = {},
) {
  const entity = options.entity ?? freshEntity();
  await renderInTestApp(
    <TestApiProvider
      apis={[
        [residencyApiRef, api],
        [
          permissionApiRef,
          mockApis.permission({
            authorize: req =>
              req.permission.name === 'residency.evidence.read' &&
              options.allowEvidence === false
                ? AuthorizeResult.DENY
                : AuthorizeResult.ALLOW,
          }),
        ],
      ]}
    >
      <EntityProvider entity={entity}>
        <EntityResidencyContent />
      </EntityProvider>
    </TestApiProvider>,
  );
  return entity;
}

const server = setupServer();
registerMswTestHooks(server);

describe('EntityResidencyContent', () => {
  it('downloads a record through fetchApi with the user token, named by the server (msw)', async () => {
    const base = 'http://backstage.test/api/residency';
    const seen: { auth: string | null; path: string }[] = [];
    server.use(
      http.get(`${base}/entities/:kind/:namespace/:name/status`, () =>
        HttpResponse.json(makeStatus()),
      ),
      http.get(
        `${base}/entities/:kind/:namespace/:name/evidence`,
        ({ params }) =>
          HttpResponse.json({
            items: [
              evidence(4, { entityRef: `component:default/${params.name}` }),
            ],
          }),
      ),
      http.get(`${base}/entities/:kind/:namespace/:name/evidence/verify`, () =>
        HttpResponse.json({ entityRef: 'x', ok: true, length: 4 }),
      ),
      http.get(`${base}/evidence/:id`, ({ request }) => {
        seen.push({
          auth: request.headers.get('authorization'),
          path: new URL(request.url).pathname,
        });
        return new HttpResponse(
          '{"schema":"https://residency.dev/evidence-bundle/v1"}',
          {
            headers: {
              'content-type': 'application/json',
              'content-disposition':
                'attachment; filename="residency-evidence-Component-default-svc-4.json"',
            },
          },
        );
      }),
    );
    const saveBlob = jest.fn();
    const client = new ResidencyClient({
      discoveryApi: { getBaseUrl: async () => base },
      fetchApi: new MockFetchApi({
        injectIdentityAuth: { token: 'alice-token' },
      }),
      saveBlob,
    });
    await render(client);
    await userEvent.click(
      await screen.findByRole('button', { name: 'Download evidence record 4' }),
    );
    await waitFor(() => expect(saveBlob).toHaveBeenCalledTimes(1));
    expect(seen).toEqual([
      { auth: 'Bearer alice-token', path: '/api/residency/evidence/ev-4' },
    ]);
    expect(saveBlob.mock.calls[0][1]).toBe(
      'residency-evidence-Component-default-svc-4.json',
    );
    expect(await (saveBlob.mock.calls[0][0] as Blob).text()).toContain(
      'evidence-bundle/v1',
    );
  });

  it('says in the evidence history why no newer record exists when the status is stale', async () => {
    await render(
      fakeApi({
        getStatus: async () =>
          makeStatus({
            stale: true,
            lastAttempt: {
              decision: 'unknown',
              checkedAt: '2026-11-21T08:30:00Z',
              reasons: [
                {
                  code: 'registry_unreachable',
                  message: 'connect ECONNREFUSED 10.0.0.1:443',
                },
              ],
            },
          }),
        listEvidence: async () => ({ items: [evidence(1)] }),
        verifyChain: async () => ({ entityRef: 'x', ok: true, length: 1 }),
      }),
    );
    const note = await screen.findByLabelText('Why no newer record');
    expect(note).toHaveTextContent(
      'Stale: the check at 21 Nov 2026, 08:30 UTC could not decide',
    );
    expect(note).toHaveTextContent(/registry/i);
    expect(note).toHaveTextContent('the newest record below still stands');
    expect(note).not.toHaveTextContent('registry_unreachable');
  });

  it('shows the evidence timeline, chain result and the offline command, and downloads a record', async () => {
    const downloadEvidence = jest
      .fn()
      .mockResolvedValue({ filename: 'x.json', size: 10 });
    const listEvidence = jest.fn().mockResolvedValue({
      items: [
        evidence(2, {
          decision: 'non_compliant',
          reasonCodes: ['key_outside_boundary', 'attestation_missing:sbom'],
        }),
        evidence(1),
      ],
    });
    const entity = await render(
      fakeApi({
        getStatus: async () => makeStatus(),
        listEvidence,
        verifyChain: async () => ({ entityRef: 'x', ok: true, length: 2 }),
        downloadEvidence,
      }),
    );

    const timeline = await screen.findByRole('list', {
      name: 'Evidence timeline',
    });
    const entries = within(timeline).getAllByRole('listitem');
    expect(entries).toHaveLength(2);
    expect(entries[0]).toHaveTextContent('#2');
    expect(entries[0]).toHaveTextContent('Not resident');
    expect(entries[0]).toHaveTextContent(
      "The signing key is outside the tenant's boundary (key_outside_boundary); The SBOM attestation is missing (attestation_missing:sbom)",
    );
    expect(entries[0]).toHaveTextContent('12 Nov 2026, 12:00 UTC');
    expect(entries[0]).toHaveTextContent('Record hash: 22222222aaaa');
    expect(
      await screen.findByText(/Chain intact: all 2 records/),
    ).toBeInTheDocument();
    expect(document.body.textContent).toContain(
      'npx @residency-dev/residency-cli verify-evidence <file>.json',
    );

    await userEvent.click(
      screen.getByRole('button', { name: 'Download evidence record 2' }),
    );
    expect(downloadEvidence).toHaveBeenCalledWith({
      id: 'ev-2',
      entityRef: `component:default/${entity.metadata.name}`,
      sequence: 2,
    });
    // the offline command now names the file just saved
    await waitFor(() =>
      expect(document.body.textContent).toContain(
        'npx @residency-dev/residency-cli verify-evidence x.json',
      ),
    );
  });

  it('shows exception event records as events, with who acted, not as new decisions', async () => {
    const waived = ['signature_missing'];
    const entity = await render(
      fakeApi({
        getStatus: async () => makeStatus(),
        listEvidence: async () => ({
          items: [
            evidence(7, {
              kind: 'exception.expired',
              actor: 'system',
              decision: 'non_compliant',
              reasonCodes: waived,
            }),
            evidence(6, {
              kind: 'exception.applied',
              actor: 'system',
              decision: 'non_compliant',
              reasonCodes: waived,
            }),
            evidence(5, {
              kind: 'exception.approved',
              actor: 'user:default/pat-platform',
              decision: 'non_compliant',
              reasonCodes: waived,
            }),
            evidence(4, {
              kind: 'exception.requested',
              actor: 'user:default/dana-dev',
              decision: 'non_compliant',
              reasonCodes: waived,
            }),
            evidence(3, {
              kind: 'exception.rejected',
              actor: 'user:default/dora-dpo',
              decision: 'non_compliant',
              reasonCodes: waived,
            }),
            evidence(2, {
              kind: 'exception.revoked',
              actor: 'user:default/pat-platform',
              decision: 'non_compliant',
              reasonCodes: waived,
            }),
            evidence(1, {
              decision: 'non_compliant',
              reasonCodes: waived,
            }),
          ],
        }),
        verifyChain: async () => ({ entityRef: 'x', ok: true, length: 7 }),
      }),
    );
    expect(entity).toBeDefined();
    const timeline = await screen.findByRole('list', {
      name: 'Evidence timeline',
    });
    const entries = within(timeline).getAllByRole('listitem');
    const labels = [
      '#7 Exception expired',
      '#6 Resident by exception applied',
      '#5 Exception approved by pat-platform',
      '#4 Exception requested by dana-dev',
      '#3 Exception rejected by dora-dpo',
      '#2 Exception revoked by pat-platform',
    ];
    labels.forEach((label, i) => {
      const event = entries[i];
      expect(event).toHaveTextContent(label);
      // an event is not presented as a decision of its own
      expect(within(event).queryByTestId('residency-status')).toBeNull();
      expect(event).toHaveTextContent(
        'Not a new decision; the decision in force was Not resident.',
      );
      expect(event).toHaveTextContent(
        'Covers: The image is not signed (signature_missing).',
      );
    });
    // the decision record is shown as before
    expect(entries[6]).not.toHaveTextContent('Not a new decision');
    expect(entries[6]).not.toHaveTextContent('Covers:');
    expect(
      within(entries[6]).getByTestId('residency-status'),
    ).toHaveTextContent('Not resident');
    expect(
      screen.getByRole('heading', { name: 'Decisions and exception events' }),
    ).toBeInTheDocument();
  });

  it('downloads the signed verification summary of a record, and says quietly when there is none', async () => {
    const downloadVsa = jest
      .fn()
      .mockResolvedValueOnce({ filename: 'vsa-2.json', size: 10, count: 1 })
      .mockResolvedValueOnce(undefined);
    const entity = await render(
      fakeApi({
        getStatus: async () => makeStatus(),
        listEvidence: async () => ({ items: [evidence(2), evidence(1)] }),
        verifyChain: async () => ({ entityRef: 'x', ok: true, length: 2 }),
        downloadVsa,
      }),
    );
    await userEvent.click(
      await screen.findByRole('button', {
        name: 'Download verification summary of record 2',
      }),
    );
    expect(downloadVsa).toHaveBeenCalledWith({
      id: 'ev-2',
      entityRef: `component:default/${entity.metadata.name}`,
      sequence: 2,
    });
    expect(await screen.findByText('Saved vsa-2.json')).toBeInTheDocument();
    await userEvent.click(
      screen.getByRole('button', {
        name: 'Download verification summary of record 1',
      }),
    );
    expect(await screen.findByText('No summary')).toBeInTheDocument();
    // no error alert: only the chain result is an alert
    expect(screen.getAllByRole('alert').map(a => a.textContent)).toEqual([
      expect.stringMatching(/^Chain intact/),
    ]);
  });

  it('explains, instead of downloads, when the evidence permission is missing', async () => {
    const listEvidence = jest.fn();
    const verifyChain = jest.fn();
    await render(
      fakeApi({
        getStatus: async () => makeStatus(),
        listEvidence,
        verifyChain,
      }),
      { allowEvidence: false },
    );
    expect(
      await screen.findByText(/available to auditors and platform owners/),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: /Download evidence/ }),
    ).toBeNull();
    expect(
      screen.queryByRole('button', { name: /Download verification summary/ }),
    ).toBeNull();
    expect(listEvidence).not.toHaveBeenCalled();
    expect(verifyChain).not.toHaveBeenCalled();
    // the status itself is still shown
    expect((await screen.findAllByText('Resident')).length).toBeGreaterThan(0);
  });

  it('an auditor expands the checklist of an image: failing checks first, expected vs found', async () => {
    const image = makeStatus().images[0];
    await render(
      fakeApi({
        getStatus: async () =>
          makeStatus({
            decision: 'non_compliant',
            images: [
              {
                ...image,
                decision: 'non_compliant',
                report: {
                  schema: 'https://residency.dev/verification-report/v1',
                  checks: [
                    { id: 'manifest_hashed', outcome: 'pass' },
                    {
                      id: 'requirement',
                      outcome: 'fail',
                      reason: 'attestation_stale:sbom',
                      expected:
                        'sbom: a verified sbom attestation from a trusted in-boundary signer',
                      found: 'verified, but stale',
                    },
                  ],
                },
              },
            ],
          }),
        listEvidence: async () => ({ items: [] }),
        verifyChain: async () => ({ entityRef: 'x', ok: true, length: 0 }),
      }),
    );
    await userEvent.click(
      await screen.findByRole('button', {
        name: `Checks of image ${image.reference}`,
      }),
    );
    const items = within(
      screen.getByRole('list', {
        name: `Checklist of image ${image.reference}`,
      }),
    ).getAllByRole('listitem');
    expect(items[0]).toHaveAccessibleName('Tenant requirement met: failed');
    expect(items[0]).toHaveTextContent('Found: verified, but stale');
    expect(items[1]).toHaveAccessibleName(
      'Manifest bytes match the digest: passed',
    );
  });

  it('reports a broken chain with the first broken record', async () => {
    await render(
      fakeApi({
        getStatus: async () => makeStatus(),
        listEvidence: async () => ({ items: [evidence(1)] }),
        verifyChain: async () => ({
          entityRef: 'x',
          ok: false,
          length: 5,
          brokenAt: {
            sequence: 3,
            problem: 'previous hash does not match record 2',
          },
        }),
      }),
    );
    expect(
      await screen.findByText(
        /Chain broken at record 3: previous hash does not match record 2/,
      ),
    ).toBeInTheDocument();
  });

  it('pages through older evidence with the cursor', async () => {
    const listEvidence = jest
      .fn()
      .mockResolvedValueOnce({
        items: [evidence(3), evidence(2)],
        nextCursor: 'c2',
      })
      .mockResolvedValueOnce({ items: [evidence(1)] });
    await render(
      fakeApi({
        getStatus: async () => makeStatus(),
        listEvidence,
        verifyChain: async () => ({ entityRef: 'x', ok: true, length: 3 }),
      }),
    );
    await userEvent.click(
      await screen.findByRole('button', {
        name: 'Load older evidence records',
      }),
    );
    await waitFor(() =>
      expect(
        within(
          screen.getByRole('list', { name: 'Evidence timeline' }),
        ).getAllByRole('listitem'),
      ).toHaveLength(3),
    );
    expect(listEvidence).toHaveBeenLastCalledWith(
      expect.objectContaining({ cursor: 'c2' }),
    );
    expect(
      screen.queryByRole('button', { name: 'Load older evidence records' }),
    ).toBeNull();
  });

  it('shows a download failure as an alert', async () => {
    await render(
      fakeApi({
        getStatus: async () => makeStatus(),
        listEvidence: async () => ({ items: [evidence(1)] }),
        verifyChain: async () => ({ entityRef: 'x', ok: true, length: 1 }),
        downloadEvidence: async () => {
          throw new Error('Request failed with 403 Forbidden');
        },
      }),
    );
    await userEvent.click(
      await screen.findByRole('button', { name: 'Download evidence record 1' }),
    );
    const alerts = await screen.findAllByRole('alert');
    expect(
      alerts.some(a =>
        a.textContent?.includes(
          'Download of record 1 failed: Request failed with 403 Forbidden',
        ),
      ),
    ).toBe(true);
  });

  it('shows full per-image detail', async () => {
    await render(
      fakeApi({
        getStatus: async () => makeStatus(),
        listEvidence: async () => ({ items: [] }),
        verifyChain: async () => ({ entityRef: 'x', ok: true, length: 0 }),
      }),
    );
    expect(
      await screen.findByText('https://slsa.dev/provenance/v1'),
    ).toBeInTheDocument();
    expect(screen.getByText('No evidence yet')).toBeInTheDocument();
  });
});

describe('EntityResidencyContent with exceptions', () => {
  it('shows "Resident by exception" in the status header once an exception is approved', async () => {
    const digest = `sha256:${'c'.repeat(64)}`;
    const base = makeStatus().images[0];
    const status = makeStatus({
      decision: 'non_compliant',
      images: [
        {
          ...base,
          digest,
          decision: 'non_compliant',
          reasons: [{ code: 'signature_missing', message: 'No signature.' }],
        },
      ],
    });
    let approved = false;
    const request = {
      id: '00000000-0000-4000-8000-000000000002',
      entityRef: 'component:default/payments',
      reasonCodes: ['signature_missing'],
      digests: [digest],
      justification: 'Signing outage',
      reference: 'INC-7',
      requestedBy: 'user:default/dev',
      requestedAt: '2026-12-01T10:00:00Z',
      expiresAt: '2026-12-04T10:00:00Z',
    };
    const decideException = jest.fn(async () => {
      approved = true;
      return { ...request, status: 'approved' as const };
    });
    await render(
      fakeApi({
        getStatus: async () => status,
        listEvidence: async () => ({ items: [] }),
        verifyChain: async () => ({ entityRef: 'x', ok: true, length: 0 }),
        decideException,
        listExceptions: async () => ({
          items: [
            {
              ...request,
              status: approved ? ('approved' as const) : ('requested' as const),
            },
          ],
          canApprove: true,
          viewer: 'user:default/owner',
          verdict: approved
            ? {
                state: 'resident_by_exception' as const,
                validUntil: '2026-12-04T10:00:00Z',
                uncovered: [],
                waived: [
                  {
                    exceptionId: request.id,
                    digest,
                    reasonCodes: ['signature_missing'],
                    requestedBy: 'user:default/dev',
                    approvedBy: 'user:default/owner',
                    expiresAt: '2026-12-04T10:00:00Z',
                  },
                ],
              }
            : {
                state: 'not_resident' as const,
                waived: [],
                uncovered: [{ digest, code: 'signature_missing' }],
              },
        }),
      }),
    );
    const header = screen
      .getByRole('heading', { name: 'Residency status' })
      .closest('.MuiCard-root') as HTMLElement;
    expect(await within(header).findByText('Not resident')).toBeInTheDocument();
    await userEvent.click(
      await screen.findByRole('button', { name: 'Approve' }),
    );
    expect(
      await within(header).findByText('Resident by exception'),
    ).toBeInTheDocument();
    expect(within(header).queryByText('Not resident')).toBeNull();
    expect(decideException).toHaveBeenCalledWith({
      id: request.id,
      action: 'approve',
    });
  });
});

describe('verifyCommandFor', () => {
  it('quotes file names a shell would interpret', () => {
    expect(verifyCommandFor('a b;rm -rf ~.json')).toBe(
      "npx @residency-dev/residency-cli verify-evidence 'a b;rm -rf ~.json'",
    );
    expect(verifyCommandFor("it's.json")).toBe(
      "npx @residency-dev/residency-cli verify-evidence 'it'\\''s.json'",
    );
    expect(verifyCommandFor()).toContain('<file>.json');
  });
});
