import { screen } from '@testing-library/react';
import { TestApiProvider, renderInTestApp } from '@backstage/test-utils';
import {
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import type { Entity } from '@backstage/catalog-model';
import { residencyApiRef, type ResidencyApi } from '../../api';
import { EntityResidencySummaryCard } from './EntityResidencySummaryCard';
import {
  annotatedEntity,
  fakeApi,
  makeStatus,
  plainEntity,
  residentImage,
} from '../../__fixtures__/fixtures';

function render(api: ResidencyApi, entity: Entity = annotatedEntity) {
  return renderInTestApp(
    <TestApiProvider apis={[[residencyApiRef, api]]}>
      <EntityProvider entity={entity}>
        <EntityResidencySummaryCard />
      </EntityProvider>
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}

describe('EntityResidencySummaryCard', () => {
  it('shows the verdict, the failing image and its problem, and links to the tab', async () => {
    const failing = {
      ...residentImage,
      reference: 'registry.eu.example.com/team/ledger:2.0',
      decision: 'non_compliant' as const,
      reasons: [
        {
          code: 'key_outside_boundary' as const,
          message: 'Signed in us-east-1.',
        },
      ],
    };
    await render(
      fakeApi({
        getStatus: async () =>
          makeStatus({
            decision: 'non_compliant',
            images: [residentImage, failing],
          }),
      }),
    );
    expect(await screen.findByText('Not resident')).toBeInTheDocument();
    expect(
      screen.getByRole('list', { name: 'Failing images' }),
    ).toHaveTextContent(
      "registry.eu.example.com/team/ledger:2.0: The signing key is outside the tenant's boundary",
    );
    // the passing image is not listed on the compact card
    expect(screen.queryByText(residentImage.reference)).toBeNull();
    expect(
      screen.getByRole('link', { name: 'Details, fixes and evidence' }),
    ).toHaveAttribute('href', '/catalog/default/component/payments/residency');
  });

  it('tells owners of a component without annotations how to onboard, without calling the API', async () => {
    const getStatus = jest.fn();
    await render(fakeApi({ getStatus }), plainEntity);
    expect(
      screen.getByText(/Residency is not set up for this component/),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('link', { name: 'See how to onboard it' }),
    ).toHaveAttribute('href', '/catalog/default/component/plain/residency');
    expect(getStatus).not.toHaveBeenCalled();
  });

  it('says in plain words why a status is stale', async () => {
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
                { code: 'rate_limited', message: 'HTTP 429' },
              ],
            },
          }),
      }),
    );
    const note = await screen.findByRole('note', { name: 'Why stale' });
    expect(note).toHaveTextContent(
      'Stale: the check at 21 Nov 2026, 08:30 UTC could not decide (The registry did not answer; The registry rate-limited the check), so the last good result is shown.',
    );
    // Plain words, not codes or driver messages.
    expect(note.textContent).not.toMatch(/registry_unreachable|ECONNREFUSED/);
  });

  it('names the configuration problem of an unchecked service instead of a generic line', async () => {
    await render(
      fakeApi({
        getStatus: async () =>
          makeStatus({
            decision: 'invalid',
            images: [],
            reasons: [
              {
                code: 'tenant_unknown',
                message: 'Tenant "x" is not configured.',
              },
            ],
          }),
      }),
    );
    expect(
      await screen.findByText(
        'The tenant is not defined, so nothing was checked.',
      ),
    ).toBeInTheDocument();
    expect(screen.queryByText(/configuration problem/)).toBeNull();
  });

  it('shows no stale note for a current status', async () => {
    await render(fakeApi({ getStatus: async () => makeStatus() }));
    await screen.findByText('Resident');
    expect(screen.queryByRole('note', { name: 'Why stale' })).toBeNull();
  });

  describe('resident by exception', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const failing = {
      ...residentImage,
      digest,
      decision: 'non_compliant' as const,
      reasons: [
        { code: 'signature_missing' as const, message: 'No signature.' },
      ],
    };
    const status = makeStatus({ decision: 'non_compliant', images: [failing] });
    const verdict = {
      state: 'resident_by_exception' as const,
      validUntil: '2026-12-04T10:00:00Z',
      uncovered: [],
      waived: [
        {
          exceptionId: 'x',
          digest,
          reasonCodes: ['signature_missing'],
          requestedBy: 'user:default/dev',
          approvedBy: 'user:default/dpo',
          expiresAt: '2026-12-04T10:00:00Z',
        },
      ],
    };

    it('shows its own verdict and what was waived when an approved exception covers the failure', async () => {
      const listExceptions = jest.fn(async () => ({
        items: [],
        canApprove: false,
        verdict,
      }));
      await render(fakeApi({ getStatus: async () => status, listExceptions }));
      const verdictChip = await screen.findByText('Resident by exception');
      expect(verdictChip).toHaveAttribute(
        'data-state',
        'resident_by_exception',
      );
      // never mistaken for resident, and the plain verdict is replaced
      expect(screen.queryByText('Resident')).toBeNull();
      expect(screen.queryByText('Not resident')).toBeNull();
      expect(
        screen.getByText(
          'Not resident on its own evidence: an approved exception waives signature_missing (approved by user:default/dpo) until 4 Dec 2026, 10:00 UTC.',
        ),
      ).toBeInTheDocument();
      expect(listExceptions).toHaveBeenCalledWith({
        entityRef: 'component:default/payments',
      });
    });

    it('stays not resident when the backend verdict is not resident', async () => {
      await render(
        fakeApi({
          getStatus: async () => status,
          listExceptions: async () => ({
            items: [],
            canApprove: false,
            verdict: {
              state: 'not_resident',
              waived: [],
              uncovered: [{ digest, code: 'signature_missing' }],
            },
          }),
        }),
      );
      expect(await screen.findByText('Not resident')).toBeInTheDocument();
      expect(screen.queryByText('Resident by exception')).toBeNull();
    });

    it('shows not resident when the exceptions request fails', async () => {
      await render(
        fakeApi({
          getStatus: async () => status,
          listExceptions: async () => {
            throw new Error('HTTP 500');
          },
        }),
      );
      expect(await screen.findByText('Not resident')).toBeInTheDocument();
      expect(screen.queryByText('Resident by exception')).toBeNull();
    });

    it('does not ask for exceptions of a resident entity', async () => {
      const listExceptions = jest.fn(async () => ({
        items: [],
        canApprove: false,
        verdict,
      }));
      await render(
        fakeApi({ getStatus: async () => makeStatus(), listExceptions }),
      );
      expect(await screen.findByText('Resident')).toBeInTheDocument();
      expect(listExceptions).not.toHaveBeenCalled();
    });
  });
});
