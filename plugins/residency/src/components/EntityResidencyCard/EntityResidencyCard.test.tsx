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
import { ResponseError } from '@backstage/errors';
import type { Entity } from '@backstage/catalog-model';
import { residencyApiRef, type ResidencyApi } from '../../api';
import { EntityResidencyCard } from './EntityResidencyCard';
import {
  annotatedEntity,
  fakeApi,
  makeStatus,
  plainEntity,
  residentImage,
} from '../../__fixtures__/fixtures';

function render(
  api: ResidencyApi,
  options: { entity?: Entity; allow?: boolean } = {},
) {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [residencyApiRef, api],
        [
          permissionApiRef,
          mockApis.permission({
            authorize:
              options.allow === false
                ? AuthorizeResult.DENY
                : AuthorizeResult.ALLOW,
          }),
        ],
      ]}
    >
      <EntityProvider entity={options.entity ?? annotatedEntity}>
        <EntityResidencyCard />
      </EntityProvider>
    </TestApiProvider>,
  );
}

describe('EntityResidencyCard', () => {
  it('shows a resident entity with its tenant, boundary and image evidence', async () => {
    const getStatus = jest.fn().mockResolvedValue(makeStatus());
    await render(fakeApi({ getStatus }));

    const [headline] = await screen.findAllByTestId('residency-status');
    expect(headline).toHaveTextContent('Resident');
    expect(headline.querySelector('[data-testid="status-ok"]')).not.toBeNull();
    expect(getStatus).toHaveBeenCalledWith({
      entityRef: 'component:default/payments',
    });
    expect(screen.getByText('eu-sovereign')).toBeInTheDocument();
    expect(
      screen.getByText('AWS European Sovereign Cloud: eusc-de-east-1'),
    ).toBeInTheDocument();
    const image = screen.getByRole('region', {
      name: `Image ${residentImage.reference}`,
    });
    expect(within(image).getByText('sha256:ab12cd34ef56')).toBeInTheDocument();
    expect(
      within(image).getByRole('button', {
        name: `Copy digest of ${residentImage.reference}`,
      }),
    ).toBeInTheDocument();
    expect(within(image).getByText(/Verified by key/)).toHaveTextContent(
      'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/eu-signing in region eusc-de-east-1',
    );
    expect(
      within(image).getByText(
        'Provenance: verified (key region eusc-de-east-1)',
      ),
    ).toBeInTheDocument();
    expect(
      within(image).getByText('SBOM: found, not verified'),
    ).toBeInTheDocument();
    expect(within(image).getByText('Residency: not found')).toBeInTheDocument();
    expect(screen.getByText('20 Nov 2026, 10:00 UTC')).toBeInTheDocument();
  });

  it('shows a non-resident entity with every reason and its advice', async () => {
    const status = makeStatus({
      decision: 'non_compliant',
      reasons: [
        {
          code: 'key_outside_boundary',
          message: 'The image was signed by a key in us-east-1.',
          details: { keyRegion: 'us-east-1' },
        },
        {
          code: 'attestation_missing:provenance',
          message: 'No verified provenance attestation.',
        },
      ],
    });
    await render(fakeApi({ getStatus: async () => status }));

    expect(await screen.findByText('Not resident')).toBeInTheDocument();
    const reasons = screen.getByRole('list', {
      name: 'Reasons for the entity',
    });
    expect(
      within(reasons).getByText(/The image was signed by a key in us-east-1\./),
    ).toBeInTheDocument();
    expect(
      within(reasons).getByText(
        "What to do: Sign with a key whose region is inside the tenant's boundary.",
      ),
    ).toBeInTheDocument();
    expect(
      within(reasons).getByText(
        /What to do: Attach the required signed attestation/,
      ),
    ).toBeInTheDocument();
    expect(within(reasons).getByText('us-east-1')).toBeInTheDocument();
  });

  it('shows invalid as not resident with configuration wording', async () => {
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
      await screen.findByText('Not resident (configuration)'),
    ).toBeInTheDocument();
    expect(screen.getByText(/configuration problem/)).toBeInTheDocument();
  });

  it('shows unknown, never as resident', async () => {
    await render(
      fakeApi({
        getStatus: async () =>
          makeStatus({
            decision: 'unknown',
            images: [],
            reasons: [{ code: 'registry_unreachable', message: 'Timed out.' }],
          }),
      }),
    );
    expect(await screen.findByText('Unknown')).toBeInTheDocument();
    expect(screen.queryByText('Resident')).not.toBeInTheDocument();
  });

  it('shows stale status with the last good evidence and the failed attempt', async () => {
    await render(
      fakeApi({
        getStatus: async () =>
          makeStatus({
            stale: true,
            lastAttempt: {
              decision: 'unknown',
              checkedAt: '2026-11-21T08:30:00Z',
              reasons: [
                { code: 'rate_limited', message: 'HTTP 429 from registry.' },
              ],
            },
          }),
      }),
    );
    expect(await screen.findByText('Stale')).toBeInTheDocument();
    expect(screen.getByText(/last good evidence is shown/)).toBeInTheDocument();
    expect(
      screen.getByText(
        /latest attempt 21 Nov 2026, 08:30 UTC could not decide/,
      ),
    ).toBeInTheDocument();
    expect(
      within(
        screen.getByRole('list', { name: 'Reasons of the latest attempt' }),
      ).getByText(/HTTP 429 from registry\./),
    ).toBeInTheDocument();
  });

  it('explains how to add the annotations, with a copyable example, without calling the API', async () => {
    const getStatus = jest.fn();
    await render(fakeApi({ getStatus }), { entity: plainEntity });
    expect(
      screen.getByText('Residency is not set up for this entity'),
    ).toBeInTheDocument();
    expect(document.body.textContent).toContain(
      'residency.dev/images: registry.eu.example.com/team/payments@sha256:<digest>',
    );
    expect(screen.getByRole('button', { name: /copy/i })).toBeInTheDocument();
    expect(getStatus).not.toHaveBeenCalled();
  });

  it('shows progress while loading', async () => {
    await render(fakeApi({ getStatus: () => new Promise(() => {}) }));
    expect(screen.getByTestId('progress')).toBeInTheDocument();
  });

  it('shows a backend error (500) as an error panel', async () => {
    const response = new Response(
      JSON.stringify({
        error: { name: 'Error', message: 'database down' },
        response: { statusCode: 500 },
      }),
      { status: 500, statusText: 'Internal Server Error' },
    );
    const error = await ResponseError.fromResponse(response);
    await render(fakeApi({ getStatus: () => Promise.reject(error) }));
    expect(
      await screen.findByText(/Could not load the residency status/),
    ).toBeInTheDocument();
    expect(screen.queryByText('Resident')).not.toBeInTheDocument();
  });

  it('shows "not checked yet" when the backend does not know the entity (404)', async () => {
    await render(fakeApi({ getStatus: async () => undefined }));
    expect(await screen.findByText('Not checked yet')).toBeInTheDocument();
  });

  it('offers Refresh only when allowed and shows the new status', async () => {
    const refresh = jest
      .fn()
      .mockResolvedValue(makeStatus({ decision: 'non_compliant' }));
    await render(fakeApi({ getStatus: async () => makeStatus(), refresh }));
    await userEvent.click(
      await screen.findByRole('button', { name: 'Refresh residency status' }),
    );
    expect(await screen.findByText('Not resident')).toBeInTheDocument();
    expect(refresh).toHaveBeenCalledWith({
      entityRef: 'component:default/payments',
    });
  });

  it('hides Refresh when the permission policy denies it', async () => {
    // another entity, so no permission decision is cached from earlier tests
    const entity = {
      ...annotatedEntity,
      metadata: { ...annotatedEntity.metadata, name: 'ledger' },
    };
    await render(fakeApi({ getStatus: async () => makeStatus() }), {
      allow: false,
      entity,
    });
    expect((await screen.findAllByText('Resident')).length).toBeGreaterThan(0);
    await waitFor(() =>
      expect(
        screen.queryByRole('button', { name: 'Refresh residency status' }),
      ).not.toBeInTheDocument(),
    );
  });

  it('renders hostile reason strings and javascript: links as plain text', async () => {
    const hostile = '<img src=x onerror=alert(1)>';
    // built at run time so the linter's no-script-url rule stays on elsewhere
    const scriptUrl = ['javascript', 'alert(1)'].join(':');
    await render(
      fakeApi({
        getStatus: async () =>
          makeStatus({
            decision: 'non_compliant',
            reasons: [
              {
                code: 'custom_rule:x',
                message: hostile,
                details: { html: hostile },
              },
            ],
            images: [
              {
                ...residentImage,
                claims: {
                  'org.opencontainers.image.source': scriptUrl,
                  'org.opencontainers.image.url': 'https://example.com/repo',
                },
              },
            ],
          }),
      }),
    );
    // the message and the details entry, both as text
    expect(await screen.findAllByText(hostile)).toHaveLength(2);
    expect(document.querySelector('img[src="x"]')).toBeNull();
    const js = screen.getByText(scriptUrl);
    expect(js.closest('a')).toBeNull();
    expect(
      screen.getByRole('link', { name: /https:\/\/example\.com\/repo/ }),
    ).toHaveAttribute('href', 'https://example.com/repo');
  });
});
