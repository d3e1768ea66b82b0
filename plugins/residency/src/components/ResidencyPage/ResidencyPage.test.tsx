import {
  act,
  fireEvent,
  screen,
  waitFor,
  within,
} from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  TestApiProvider,
  mockApis,
  renderInTestApp,
} from '@backstage/test-utils';
import { entityRouteRef } from '@backstage/plugin-catalog-react';
import {
  permissionApiRef,
  usePermission,
} from '@backstage/plugin-permission-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type {
  EntityStatusSummary,
  Mismatch,
  TenantSummary,
} from '@residency-dev/plugin-residency-common';
import { residencyApiRef, type ResidencyApi } from '../../api';
import { fakeApi } from '../../__fixtures__/fixtures';
import { ResidencyPage } from './ResidencyPage';
import { problemFor } from '../common/advice';

// usePermission caches decisions globally (swr) across tests; decide per test here.
jest.mock('@backstage/plugin-permission-react', () => ({
  ...jest.requireActual('@backstage/plugin-permission-react'),
  usePermission: jest.fn(),
}));
const usePermissionMock = usePermission as jest.Mock;

const tenant: TenantSummary = {
  id: 'eu-sovereign',
  boundary: {
    name: 'AWS European Sovereign Cloud',
    regions: ['eusc-de-east-1'],
  },
  require: ['signature', 'provenance'],
  registries: [
    {
      host: 'registry.eu.example.com',
      region: 'eusc-de-east-1',
      insideBoundary: true,
    },
    {
      host: 'registry.us.example.com',
      region: 'us-east-1',
      insideBoundary: false,
    },
  ],
  layouts: [
    {
      path: '/var/lib/residency/images-eu',
      region: 'eusc-de-east-1',
      insideBoundary: true,
    },
  ],
  keys: [
    {
      id: 'awskms:///arn:aws-eusc:kms:eusc-de-east-1:1:key/eu',
      fingerprint: 'ab'.repeat(32),
      region: 'eusc-de-east-1',
      regionSource: 'id',
      algorithm: 'ecdsa-p256',
      revoked: false,
      insideBoundary: true,
    },
  ],
  counts: { compliant: 3, non_compliant: 4, unknown: 0, invalid: 2 },
  // 3 of the 4 non_compliant decisions are waived by exceptions in force
  residentByException: 3,
};

const mismatch: Mismatch = {
  entityRef: 'component:default/ledger',
  tenant: 'eu-sovereign',
  kind: 'registry_region',
  value: 'us-east-1',
  where: 'registry.us.example.com/team/ledger:2',
  boundary: tenant.boundary,
};

function row(
  name: string,
  overrides: Partial<EntityStatusSummary> = {},
): EntityStatusSummary {
  return {
    entityRef: `component:default/${name}`,
    tenant: 'eu-sovereign',
    declaredRegion: 'eusc-de-east-1',
    decision: 'compliant',
    stale: false,
    reasonCodes: [],
    images: [`registry.eu.example.com/team/${name}:1`],
    checkedAt: '2026-11-20T10:00:00Z',
    ...overrides,
  };
}

async function render(
  api: ResidencyApi,
  options: { allowTenants?: boolean } = {},
) {
  const allowed = options.allowTenants !== false;
  usePermissionMock.mockReturnValue({ loading: false, allowed });
  await renderInTestApp(
    <TestApiProvider
      apis={[
        [residencyApiRef, api],
        [
          permissionApiRef,
          mockApis.permission({
            authorize:
              options.allowTenants === false
                ? AuthorizeResult.DENY
                : AuthorizeResult.ALLOW,
          }),
        ],
      ]}
    >
      <ResidencyPage />
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}

function pageApi(overrides: Partial<ResidencyApi> = {}) {
  return fakeApi({
    listTenants: jest.fn().mockResolvedValue({ items: [tenant] }),
    listMismatches: jest.fn().mockResolvedValue({ items: [mismatch] }),
    listEntities: jest.fn().mockImplementation(async options => ({
      items: options?.limit === 1 ? [] : [row('payments')],
      totalCount: options?.status === 'non_compliant' ? 1 : 4,
    })),
    listEvidence: jest.fn().mockResolvedValue({ items: [] }),
    getComplianceHistory: jest.fn().mockResolvedValue({
      days: [
        {
          day: '2026-11-19',
          resident: 1,
          notResident: 1,
          unknown: 0,
          unchecked: 2,
        },
        {
          day: '2026-11-20',
          resident: 2,
          notResident: 1,
          unknown: 1,
          unchecked: 0,
        },
      ],
    }),
    ...overrides,
  });
}

describe('ResidencyPage', () => {
  it('builds the compliance chart from one aggregate request', async () => {
    const api = pageApi();
    await render(api);
    await waitFor(() =>
      expect(document.querySelectorAll('[title="2026-11-20"]')).toHaveLength(1),
    );
    expect(api.getComplianceHistory).toHaveBeenCalledTimes(1);
    expect(api.getComplianceHistory).toHaveBeenCalledWith({ days: 14 });
    expect(api.listEvidence).not.toHaveBeenCalled();
  });

  it('has a heading and named tabs', async () => {
    await render(pageApi());
    expect(
      screen.getByRole('heading', { name: 'Residency', level: 1 }),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('tablist', { name: 'Residency views' }),
    ).toBeInTheDocument();
    for (const name of ['Overview', 'Services', 'Tenants & mismatches']) {
      expect(screen.getByRole('tab', { name })).toBeInTheDocument();
    }
  });

  it('overview shows counts per status and tenant, and the tenant-by-region matrix', async () => {
    const api = pageApi();
    await render(api);
    expect(
      await screen.findByLabelText('4 services in total'),
    ).toBeInTheDocument();
    expect(screen.getByLabelText('1 Not resident')).toBeInTheDocument();
    expect(api.listEntities).toHaveBeenCalledWith({
      status: 'non_compliant',
      state: 'not_resident',
      limit: 1,
    });

    const byTenant = await screen.findByRole('table', {
      name: 'Services by tenant and status',
    });
    const tenantRow = within(byTenant).getByRole('row', {
      name: /eu-sovereign/,
    });
    expect(
      within(tenantRow)
        .getAllByRole('cell')
        .map(c => c.textContent),
    ).toEqual(['eu-sovereign', '3', '3', '1', '2', '0']);
    expect(
      within(byTenant)
        .getAllByRole('columnheader')
        .map(c => c.textContent),
    ).toEqual([
      'Tenant',
      'Resident',
      'Resident by exception',
      'Not resident',
      'Not resident (configuration)',
      'Unknown',
    ]);
    // headings wrap between words ("Not resident"), never inside one ("Reside|nt")
    for (const cell of within(byTenant).getAllByRole('columnheader')) {
      expect(window.getComputedStyle(cell).wordBreak).toBe('normal');
    }
    expect(
      window.getComputedStyle(within(tenantRow).getAllByRole('cell')[0])
        .whiteSpace,
    ).toBe('nowrap');

    const matrix = screen.getByRole('table', {
      name: 'Tenant by region matrix',
    });
    expect(
      within(matrix).getByRole('columnheader', { name: 'us-east-1' }),
    ).toBeInTheDocument();
    expect(
      within(matrix).getByText('1 registry · 1 mismatch (outside boundary)'),
    ).toBeInTheDocument();
    expect(
      within(matrix).getByText('in boundary · 1 registry · 1 key'),
    ).toBeInTheDocument();
  });

  it('overview counts services waived by exceptions as Resident by exception, not as Not resident', async () => {
    // 3 non_compliant decisions, 2 of them waived by exceptions in force
    const listEntities = jest.fn().mockImplementation(async options => {
      let totalCount = 6;
      if (options?.state === 'resident_by_exception') totalCount = 2;
      else if (options?.status === 'non_compliant')
        totalCount = options?.state === 'not_resident' ? 1 : 3;
      else if (options?.status) totalCount = 1;
      return { items: [], totalCount };
    });
    await render(pageApi({ listEntities }));
    expect(
      await screen.findByLabelText('6 services in total'),
    ).toBeInTheDocument();
    const byException = screen.getByLabelText('2 Resident by exception');
    expect(byException.parentElement).toHaveTextContent(
      '2Resident by exception',
    );
    expect(
      byException.parentElement!.querySelector(
        '[data-state="resident_by_exception"]',
      ),
    ).not.toBeNull();
    expect(screen.getByLabelText('1 Not resident')).toBeInTheDocument();
    expect(screen.queryByLabelText('3 Not resident')).toBeNull();
    expect(screen.getByLabelText('1 Resident')).toBeInTheDocument();
    expect(listEntities).toHaveBeenCalledWith({
      state: 'resident_by_exception',
      limit: 1,
    });
    expect(listEntities).toHaveBeenCalledWith({
      status: 'non_compliant',
      state: 'not_resident',
      limit: 1,
    });
  });

  it('services tab sends status, tenant and search filters to the API', async () => {
    const api = pageApi();
    await render(api);
    await userEvent.click(screen.getByRole('tab', { name: 'Services' }));
    expect(
      await screen.findByRole('heading', { name: 'Services' }),
    ).toBeInTheDocument();
    const link = await screen.findByRole('link', {
      name: 'component:default/payments',
    });
    expect(link).toHaveAttribute('href', '/catalog/default/component/payments');
    expect(
      screen.getByRole('link', {
        name: 'Evidence of component:default/payments',
      }),
    ).toHaveAttribute('href', '/catalog/default/component/payments/residency');

    (api.listEntities as jest.Mock).mockClear();
    await userEvent.selectOptions(
      screen.getByRole('combobox', { name: 'Filter by status' }),
      'Not resident',
    );
    await waitFor(() =>
      expect(api.listEntities).toHaveBeenLastCalledWith({
        status: 'non_compliant',
        tenant: undefined,
        q: undefined,
        cursor: undefined,
        limit: 25,
      }),
    );

    await userEvent.selectOptions(
      screen.getByRole('combobox', { name: 'Filter by tenant' }),
      'eu-sovereign',
    );
    await waitFor(() =>
      expect(api.listEntities).toHaveBeenLastCalledWith(
        expect.objectContaining({
          status: 'non_compliant',
          tenant: 'eu-sovereign',
        }),
      ),
    );

    fireEvent.change(screen.getByRole('textbox', { name: 'Search services' }), {
      target: { value: 'pay' },
    });
    await waitFor(
      () =>
        expect(api.listEntities).toHaveBeenLastCalledWith(
          expect.objectContaining({ q: 'pay', tenant: 'eu-sovereign' }),
        ),
      { timeout: 2000 },
    );
  });

  it('services tab shows "Resident by exception" as its own state', async () => {
    const listEntities = jest.fn().mockResolvedValue({
      items: [
        row('waived', {
          decision: 'non_compliant',
          reasonCodes: ['signature_missing'],
          state: 'resident_by_exception',
        }),
        row('failing', {
          decision: 'non_compliant',
          reasonCodes: ['signature_missing'],
          state: 'not_resident',
        }),
      ],
      totalCount: 2,
    });
    await render(pageApi({ listEntities }));
    await userEvent.click(screen.getByRole('tab', { name: 'Services' }));
    const waived = (
      await screen.findByRole('link', { name: 'component:default/waived' })
    ).closest('tr')!;
    expect(within(waived).getByTestId('residency-status')).toHaveAttribute(
      'data-state',
      'resident_by_exception',
    );
    expect(within(waived).getByTestId('residency-status')).toHaveTextContent(
      /^Resident by exception$/,
    );
    const failing = screen
      .getByRole('link', { name: 'component:default/failing' })
      .closest('tr')!;
    expect(within(failing).getByTestId('residency-status')).toHaveTextContent(
      /^Not resident$/,
    );
  });

  it('services tab pages forward and back with the server cursor', async () => {
    const listEntities = jest.fn().mockImplementation(async options => {
      if (options?.cursor === 'page-2') {
        return { items: [row('zeta')], totalCount: 2 };
      }
      return { items: [row('alpha')], nextCursor: 'page-2', totalCount: 2 };
    });
    await render(pageApi({ listEntities }));
    await userEvent.click(screen.getByRole('tab', { name: 'Services' }));
    expect(
      await screen.findByRole('link', { name: 'component:default/alpha' }),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('button', { name: 'Previous page' }),
    ).toBeDisabled();

    await userEvent.click(screen.getByRole('button', { name: 'Next page' }));
    expect(
      await screen.findByRole('link', { name: 'component:default/zeta' }),
    ).toBeInTheDocument();
    expect(listEntities).toHaveBeenLastCalledWith(
      expect.objectContaining({ cursor: 'page-2', limit: 25 }),
    );
    expect(
      screen.getByText(/Page 2 · 2 services in total/),
    ).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Next page' })).toBeDisabled();

    await userEvent.click(
      screen.getByRole('button', { name: 'Previous page' }),
    );
    expect(
      await screen.findByRole('link', { name: 'component:default/alpha' }),
    ).toBeInTheDocument();
    expect(listEntities).toHaveBeenLastCalledWith(
      expect.objectContaining({ cursor: undefined }),
    );
  });

  it('services tab shows reasons in plain words that wrap, short columns on one line', async () => {
    const listEntities = jest.fn().mockResolvedValue({
      items: [
        row('ledger', {
          decision: 'non_compliant',
          tenant: 'eu-sovereign-payments',
          reasonCodes: ['registry_outside_boundary'],
        }),
      ],
    });
    await render(pageApi({ listEntities }));
    await userEvent.click(screen.getByRole('tab', { name: 'Services' }));
    const table = await screen.findByRole('table', {
      name: 'Services and their residency status',
    });
    const [ledger] = within(table).getAllByRole('row').slice(1);
    const cells = within(ledger).getAllByRole('cell');
    const headers = within(table)
      .getAllByRole('columnheader')
      .map(h => h.textContent);
    const cellOf = (name: string) =>
      cells[headers.findIndex(h => h?.startsWith(name))];
    // the reason reads as words; the raw code is only a secondary hint
    const reasons = cellOf('Reasons');
    expect(reasons).toHaveTextContent(problemFor('registry_outside_boundary'));
    expect(problemFor('registry_outside_boundary')).toMatch(/ /);
    expect(
      within(reasons).getByText('registry_outside_boundary'),
    ).toBeInTheDocument();
    expect(window.getComputedStyle(reasons).whiteSpace).toBe('normal');
    expect(window.getComputedStyle(reasons).maxWidth).toBe('420px');
    // status and tenant are not squeezed onto several lines
    expect(cellOf('Tenant')).toHaveTextContent('eu-sovereign-payments');
    expect(window.getComputedStyle(cellOf('Tenant')).whiteSpace).toBe('nowrap');
    expect(window.getComputedStyle(cellOf('Status')).whiteSpace).toBe('nowrap');
    // image references break at any point only when a part is longer than
    // the column, in a column wide enough to read them
    const images = cellOf('Images');
    expect(window.getComputedStyle(images).minWidth).toBe('220px');
    const firstImage = images.firstElementChild as HTMLElement;
    expect(window.getComputedStyle(firstImage).wordBreak).toBe('normal');
    expect(window.getComputedStyle(firstImage).overflowWrap).toBe('anywhere');
    expect(window.getComputedStyle(cellOf('Entity')).minWidth).toBe('140px');
  });

  it('services tab sorts the page and shows an empty state', async () => {
    const listEntities = jest.fn().mockImplementation(async options =>
      options?.limit === 1
        ? { items: [], totalCount: 0 }
        : {
            items: [row('bravo'), row('alpha', { decision: 'non_compliant' })],
          },
    );
    await render(pageApi({ listEntities }));
    await userEvent.click(screen.getByRole('tab', { name: 'Services' }));
    const table = await screen.findByRole('table', {
      name: 'Services and their residency status',
    });
    // the accessible name is the full entity ref; the visible text its short name
    const names = () =>
      within(table)
        .getAllByRole('link')
        .map(a => a.getAttribute('aria-label') ?? a.textContent)
        .filter(text => !text?.startsWith('Evidence'));
    expect(names()).toEqual([
      'component:default/alpha',
      'component:default/bravo',
    ]);
    expect(
      within(table).getByRole('link', { name: 'component:default/alpha' }),
    ).toHaveTextContent(/^alpha$/);
    await userEvent.click(
      screen.getByRole('button', { name: 'Sort by Entity' }),
    );
    expect(names()).toEqual([
      'component:default/bravo',
      'component:default/alpha',
    ]);

    listEntities.mockResolvedValue({ items: [], totalCount: 0 });
    await userEvent.selectOptions(
      screen.getByRole('combobox', { name: 'Filter by status' }),
      'Unknown',
    );
    expect(await screen.findByText('No services match')).toBeInTheDocument();
  });

  it('services tab shows backend errors', async () => {
    const listEntities = jest.fn().mockRejectedValue(new Error('backend down'));
    await render(pageApi({ listEntities }));
    await userEvent.click(screen.getByRole('tab', { name: 'Services' }));
    expect(
      await screen.findByText(/Could not load services/),
    ).toBeInTheDocument();
  });

  it('tenants tab shows boundaries, registries, on-disk image stores, keys and mismatches linking to entities', async () => {
    const api = pageApi();
    await render(api);
    await userEvent.click(
      screen.getByRole('tab', { name: 'Tenants & mismatches' }),
    );
    expect(
      await screen.findByRole('heading', { name: 'Tenants and mismatches' }),
    ).toBeInTheDocument();
    const registries = await screen.findByRole('table', {
      name: 'Registries and on-disk image stores of tenant eu-sovereign',
    });
    // configured OCI layouts are listed beside the registries, marked as such
    const storeRow = within(registries).getByRole('row', {
      name: /oci:\/var\/lib\/residency\/images-eu/,
    });
    expect(storeRow).toHaveTextContent('on-disk image store (OCI layout)');
    expect(storeRow).toHaveTextContent('eusc-de-east-1');
    expect(storeRow).toHaveTextContent('inside');
    expect(storeRow).not.toHaveTextContent('outside');
    const usRow = within(registries).getByRole('row', {
      name: /registry\.us\.example\.com/,
    });
    expect(usRow).toHaveTextContent('us-east-1');
    expect(usRow).toHaveTextContent('registry');
    expect(usRow).toHaveTextContent('outside (not accepted for this tenant)');
    // configuration outside the boundary is normal, not an error colour
    expect(within(usRow).getByText(/outside/).className).toMatch(
      /MuiTypography-colorTextSecondary/,
    );
    // what needs action comes first: the mismatches table precedes the tenant cards
    const mismatchesTitle = await screen.findByText('Mapping mismatches');
    expect(
      mismatchesTitle.compareDocumentPosition(registries) &
        Node.DOCUMENT_POSITION_FOLLOWING,
    ).toBeTruthy();
    expect(
      screen.getByRole('table', {
        name: 'Signing keys of tenant eu-sovereign',
      }),
    ).toHaveTextContent('awskms:///arn:aws-eusc:kms:eusc-de-east-1:1:key/eu');

    const mismatches = await screen.findByRole('table', {
      name: 'Mapping mismatches',
    });
    expect(
      within(mismatches).getByRole('link', {
        name: 'component:default/ledger',
      }),
    ).toHaveAttribute('href', '/catalog/default/component/ledger');
    expect(mismatches).toHaveTextContent('Registry region');

    await userEvent.selectOptions(
      screen.getByRole('combobox', { name: 'Filter mismatches by tenant' }),
      'eu-sovereign',
    );
    await waitFor(() =>
      expect(api.listMismatches).toHaveBeenLastCalledWith({
        tenant: 'eu-sovereign',
      }),
    );
  });

  it('explains the tenants view to people without the tenants permission', async () => {
    const api = pageApi();
    await render(api, { allowTenants: false });
    await userEvent.click(
      screen.getByRole('tab', { name: 'Tenants & mismatches' }),
    );
    expect(
      await screen.findByText('Tenants are visible to platform owners'),
    ).toBeInTheDocument();
    await act(async () => {});
    expect(api.listTenants).not.toHaveBeenCalled();

    // the tenant filter still offers the tenants seen in the list
    await userEvent.click(screen.getByRole('tab', { name: 'Services' }));
    await screen.findByRole('link', { name: 'component:default/payments' });
    expect(
      within(
        screen.getByRole('combobox', { name: 'Filter by tenant' }),
      ).getByRole('option', { name: 'eu-sovereign' }),
    ).toBeInTheDocument();
  });
});
