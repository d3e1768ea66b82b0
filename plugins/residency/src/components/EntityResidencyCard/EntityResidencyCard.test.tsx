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
    // raw details are folded until asked for
    await userEvent.click(
      within(image).getByRole('button', {
        name: /Details: digest, keys, attestations/,
      }),
    );
    expect(within(image).getByText(residentImage.digest!)).toBeInTheDocument();
    expect(
      within(image).getByRole('button', {
        name: `Copy digest of ${residentImage.reference}`,
      }),
    ).toBeInTheDocument();
    expect(
      within(image).getAllByText(
        'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/eu-signing',
      ).length,
    ).toBeGreaterThan(0);
    expect(
      within(image).getAllByText('verified (key region eusc-de-east-1)').length,
    ).toBeGreaterThan(0);
    expect(
      within(image).getAllByText('found, not verified').length,
    ).toBeGreaterThan(0);
    expect(within(image).getByText('not found')).toBeInTheDocument();
    expect(
      screen.getAllByText('20 Nov 2026, 10:00 UTC').length,
    ).toBeGreaterThan(0);
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
        "The signing key is outside the tenant's boundary",
      ),
    ).toBeInTheDocument();
    expect(
      within(reasons).getByText(/Fix: Sign the image by digest/),
    ).toBeInTheDocument();
    expect(
      within(reasons).getByText('The provenance attestation is missing'),
    ).toBeInTheDocument();
    expect(
      within(reasons).getByText(/--type slsaprovenance --predicate/),
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
    // the long image line wraps in the theme's text colour instead of clipping
    const example = screen.getByLabelText('Example catalog-info.yaml');
    expect(example.tagName).toBe('PRE');
    expect(window.getComputedStyle(example).whiteSpace).toBe('pre-wrap');
    expect(window.getComputedStyle(example).overflowWrap).toBe('anywhere');
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
    expect(screen.getByRole('status')).toHaveTextContent(
      /Checked again at \d\d:\d\d:\d\d UTC: Not resident\./,
    );
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
    await userEvent.click(
      screen.getByRole('button', {
        name: /Details: digest, keys, attestations/,
      }),
    );
    const js = screen.getByText(scriptUrl);
    expect(js.closest('a')).toBeNull();
    expect(
      screen.getByRole('link', { name: /https:\/\/example\.com\/repo/ }),
    ).toHaveAttribute('href', 'https://example.com/repo');
  });

  it('puts the failing image first, names it in the verdict and folds the passing one', async () => {
    const failing = {
      ...residentImage,
      reference: 'registry.eu.example.com/team/ledger:2.0',
      decision: 'non_compliant' as const,
      reasons: [
        {
          code: 'attestation_missing:sbom' as const,
          message: 'No verified sbom attestation.',
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
    const summary = await screen.findByRole('list', { name: 'Failing images' });
    expect(summary).toHaveTextContent(
      'registry.eu.example.com/team/ledger:2.0: The SBOM attestation is missing',
    );
    expect(screen.getByText('1 of 2 images fails:')).toBeInTheDocument();
    const regions = screen.getAllByRole('region');
    expect(regions[0]).toHaveAccessibleName(`Image ${failing.reference}`);
    const fix = within(regions[0]).getByText(/^cosign attest/);
    expect(fix).toHaveTextContent(
      `cosign attest --key <in-boundary-key> --type cyclonedx --predicate sbom.cdx.json registry.eu.example.com/team/payments@${residentImage.digest}`,
    );
    expect(fix.textContent).not.toContain('slsaprovenance');
    const passing = screen.getByRole('button', { name: /1 image passes/ });
    expect(passing).toHaveAttribute('aria-expanded', 'false');
  });

  it('lists the defined tenants when the tenant is unknown', async () => {
    await render(
      fakeApi({
        getStatus: async () =>
          makeStatus({
            decision: 'invalid',
            images: [],
            reasons: [
              {
                code: 'tenant_unknown',
                message: 'Tenant nope is not defined in residency.tenants.',
                details: { tenant: 'nope' },
              },
            ],
          }),
        listTenants: async () =>
          ({ items: [{ id: 'acme-eu' }, { id: 'acme-us' }] } as any),
      }),
    );
    expect(
      await screen.findByText(
        'Fix: Set residency.dev/tenant to one of the defined tenants: acme-eu, acme-us.',
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByText('The tenant "nope" is not defined'),
    ).toBeInTheDocument();
  });

  it('says a missing tag is missing, not that the registry did not answer, and never "No signature found"', async () => {
    const missing = {
      reference: 'registry.eu.example.com/team/payments:9.9',
      registry: 'registry.eu.example.com',
      repository: 'team/payments',
      tag: '9.9',
      decision: 'unknown' as const,
      reasons: [
        {
          code: 'registry_unreachable' as const,
          message: 'Image manifest not found',
          details: { sourceCode: 'not_found' },
        },
      ],
      signatures: [],
      attestations: [],
    };
    await render(
      fakeApi({
        getStatus: async () =>
          makeStatus({ decision: 'unknown', images: [missing] }),
      }),
    );
    expect(
      await screen.findAllByText(
        /The image \(tag or digest\) does not exist in the registry/,
      ),
    ).not.toHaveLength(0);
    expect(screen.queryByText('The registry did not answer')).toBeNull();
    await userEvent.click(
      screen.getByRole('button', { name: /Details: digest, keys/ }),
    );
    expect(screen.queryByText('No signature found')).toBeNull();
    expect(
      screen.getByText(
        'Not checked: the image could not be read from the registry',
      ),
    ).toBeInTheDocument();
    expect(screen.queryByText(/Signatures fetched/)).toBeNull();
  });

  it('shows Resident by exception, with what was waived, when the backend verdict says so', async () => {
    const digest = `sha256:${'d'.repeat(64)}`;
    await render(
      fakeApi({
        getStatus: async () =>
          makeStatus({
            decision: 'non_compliant',
            images: [
              {
                ...residentImage,
                digest,
                decision: 'non_compliant',
                reasons: [
                  { code: 'signature_missing', message: 'No signature.' },
                ],
              },
            ],
          }),
        listExceptions: async () => ({
          items: [],
          canApprove: false,
          verdict: {
            state: 'resident_by_exception',
            validUntil: '2026-12-05T09:00:00Z',
            uncovered: [],
            waived: [
              {
                exceptionId: 'e1',
                digest,
                reasonCodes: ['signature_missing'],
                requestedBy: 'user:default/dana-dev',
                approvedBy: 'user:default/pat-platform',
                expiresAt: '2026-12-05T09:00:00Z',
              },
            ],
          },
        }),
      }),
    );
    expect(await screen.findByText('Resident by exception')).toHaveAttribute(
      'data-state',
      'resident_by_exception',
    );
    expect(
      screen.getByText(
        'Not resident on its own evidence: an approved exception waives signature_missing (approved by user:default/pat-platform) until 5 Dec 2026, 09:00 UTC.',
      ),
    ).toBeInTheDocument();
    // the entity's headline verdict; the failing image itself still says so
    expect(screen.getAllByTestId('residency-status')[0]).toHaveTextContent(
      /^Resident by exception$/,
    );
    expect(screen.queryByText('Resident')).toBeNull();
  });
});
