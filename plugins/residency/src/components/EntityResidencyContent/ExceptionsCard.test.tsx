import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { TestApiProvider, renderInTestApp } from '@backstage/test-utils';
import type { ResidencyException } from '@residency-dev/plugin-residency-common';
import { residencyApiRef } from '../../api';
import { fakeApi, makeStatus } from '../../__fixtures__/fixtures';
import { ExceptionsCard } from './ExceptionsCard';

const DIGEST = `sha256:${'a'.repeat(64)}`;

function exception(over: Partial<ResidencyException>): ResidencyException {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    entityRef: 'component:default/payments',
    status: 'requested',
    reasonCodes: ['signature_missing'],
    digests: [DIGEST],
    justification: 'Signing outage',
    reference: 'INC-1',
    requestedBy: 'user:default/dev',
    requestedAt: '2026-12-01T10:00:00Z',
    expiresAt: '2026-12-04T10:00:00Z',
    ...over,
  };
}

async function render(api: ReturnType<typeof fakeApi>) {
  await renderInTestApp(
    <TestApiProvider apis={[[residencyApiRef, api]]}>
      <ExceptionsCard
        entityRef="component:default/payments"
        status={makeStatus({
          decision: 'non_compliant',
          images: [
            {
              ...makeStatus().images[0],
              digest: DIGEST,
              decision: 'non_compliant',
              reasons: [
                { code: 'signature_missing', message: 'No signature.' },
              ],
            },
          ],
        })}
      />
    </TestApiProvider>,
  );
}

describe('ExceptionsCard', () => {
  it('shows resident by exception, what was waived, by whom and until when', async () => {
    await render(
      fakeApi({
        listExceptions: async () => ({
          items: [
            exception({
              status: 'approved',
              decidedBy: 'user:default/dpo',
              envelope: '{"payloadType":"x"}',
            }),
          ],
          canApprove: false,
          viewer: 'user:default/dev',
          verdict: {
            state: 'resident_by_exception',
            validUntil: '2026-12-04T10:00:00Z',
            uncovered: [],
            waived: [
              {
                exceptionId: 'x',
                digest: DIGEST,
                reasonCodes: ['signature_missing'],
                requestedBy: 'user:default/dev',
                approvedBy: 'user:default/dpo',
                expiresAt: '2026-12-04T10:00:00Z',
              },
            ],
          },
        }),
      }),
    );
    expect(
      await screen.findByText(
        /Resident by exception — not resident without it/,
      ),
    ).toBeInTheDocument();
    const waived = screen.getByRole('list', { name: 'What was waived' });
    expect(waived).toHaveTextContent(
      /Waived signature_missing .* requested by user:default\/dev, approved by user:default\/dpo, until/,
    );
    // Not an approver: no approve button; the requester may revoke.
    expect(screen.queryByRole('button', { name: 'Approve' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Revoke' })).toBeInTheDocument();
    // The signed statement, for `residency verify --exception`.
    const download = screen.getByRole('link', {
      name: 'Download signed exception',
    });
    expect(download).toHaveAttribute(
      'href',
      `data:application/json;charset=utf-8,${encodeURIComponent(
        '{"payloadType":"x"}',
      )}`,
    );
  });

  it('lets an approver approve another person’s request, never their own', async () => {
    const decideException = jest.fn(async () =>
      exception({ status: 'approved' }),
    );
    await render(
      fakeApi({
        listExceptions: async () => ({
          items: [
            exception({}),
            exception({
              id: '00000000-0000-4000-8000-000000000002',
              requestedBy: 'user:default/platform',
              reference: 'OWN-1',
            }),
          ],
          canApprove: true,
          viewer: 'user:default/platform',
        }),
        decideException,
      }),
    );
    const approve = await screen.findAllByRole('button', { name: 'Approve' });
    expect(approve).toHaveLength(1);
    await userEvent.click(approve[0]);
    await waitFor(() =>
      expect(decideException).toHaveBeenCalledWith({
        id: '00000000-0000-4000-8000-000000000001',
        action: 'approve',
      }),
    );
  });

  it('requests an exception for the failing codes and digests', async () => {
    const requestException = jest.fn(async () => exception({}));
    await render(
      fakeApi({
        listExceptions: async () => ({ items: [], canApprove: false }),
        requestException,
      }),
    );
    await screen.findByText('No exceptions.');
    const submit = screen.getByRole('button', { name: 'Request exception' });
    expect(submit).toBeDisabled();
    await userEvent.type(screen.getByLabelText('Justification'), 'Outage');
    await userEvent.type(
      screen.getByLabelText('Ticket or legal reference'),
      'INC-9',
    );
    await userEvent.click(submit);
    await waitFor(() =>
      expect(requestException).toHaveBeenCalledWith({
        entityRef: 'component:default/payments',
        request: {
          reasonCodes: ['signature_missing'],
          digests: [DIGEST],
          justification: 'Outage',
          reference: 'INC-9',
        },
      }),
    );
  });
});
