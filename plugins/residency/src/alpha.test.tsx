import { screen } from '@testing-library/react';
import {
  createExtensionTester,
  renderInTestApp,
} from '@backstage/frontend-test-utils';
import {
  ApiBlueprint,
  coreExtensionData,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import residencyPlugin, {
  residencyApi,
  residencyEntityCard,
  residencyEntityContent,
  residencyEntitySummaryCard,
  residencyPage,
} from './alpha';
import { residencyApiRef, ResidencyClient } from './api';
import {
  annotatedEntity,
  fakeApi,
  makeStatus,
  plainEntity,
} from './__fixtures__/fixtures';

const permissionApi = {
  authorize: async () => ({ result: AuthorizeResult.ALLOW }),
};

describe('residency /alpha', () => {
  it('is a frontend plugin with id residency and its five extensions', () => {
    expect(residencyPlugin.pluginId).toBe('residency');
    const ids = [
      createExtensionTester(residencyApi).snapshot().id,
      createExtensionTester(residencyEntityCard).snapshot().id,
      createExtensionTester(residencyEntityContent).snapshot().id,
      createExtensionTester(residencyPage).snapshot().id,
    ];
    expect(ids).toEqual([
      'api:test',
      'entity-card:residency',
      'entity-content:residency',
      'page:test',
    ]);
    for (const id of [
      'api:residency',
      'entity-card:residency/residency',
      'entity-card:residency/summary',
      'entity-content:residency/residency',
      'page:residency',
    ]) {
      expect(residencyPlugin.getExtension(id as any)).toBeDefined();
    }
    expect(() => residencyPlugin.getExtension('page:other' as any)).toThrow();
  });

  it('provides the ResidencyApi built on discovery and fetch', () => {
    const factory = createExtensionTester(residencyApi).get(
      ApiBlueprint.dataRefs.factory,
    );
    expect(factory.api.id).toBe(residencyApiRef.id);
    expect(Object.keys(factory.deps).sort()).toEqual([
      'discoveryApi',
      'fetchApi',
    ]);
    expect(factory.deps.discoveryApi).toBe(discoveryApiRef);
    expect(factory.deps.fetchApi).toBe(fetchApiRef);
    const client = factory.factory({
      discoveryApi: { getBaseUrl: async () => 'http://x' },
      fetchApi: { fetch: jest.fn() },
    });
    expect(client).toBeInstanceOf(ResidencyClient);
  });

  it('shows the card only on entities with the images annotation', () => {
    const tester = createExtensionTester(residencyEntityCard);
    const filter = tester.get(EntityCardBlueprint.dataRefs.filterFunction);
    expect(filter).toBeDefined();
    expect(filter!(annotatedEntity)).toBe(true);
    expect(filter!(plainEntity)).toBe(false);
  });

  it('ships the full card disabled and the summary card enabled for every component', () => {
    expect((residencyEntityCard as any).disabled).toBe(true);
    expect((residencyEntitySummaryCard as any).disabled).toBe(false);
    const tester = createExtensionTester(residencyEntitySummaryCard);
    const filter = tester.get(EntityCardBlueprint.dataRefs.filterFunction);
    expect(filter!(annotatedEntity)).toBe(true);
    expect(filter!(plainEntity)).toBe(true);
    expect(filter!({ ...plainEntity, kind: 'Group' })).toBe(false);
  });

  it('renders the card from its loader', async () => {
    const tester = createExtensionTester(residencyEntityCard);
    await renderInTestApp(
      <EntityProvider entity={annotatedEntity}>
        {tester.reactElement()}
      </EntityProvider>,
      {
        apis: [
          [residencyApiRef, fakeApi({ getStatus: async () => makeStatus() })],
          [permissionApiRef, permissionApi],
        ],
      },
    );
    expect((await screen.findAllByText('Resident')).length).toBeGreaterThan(0);
  });

  it('adds a "Residency" entity tab at path residency', () => {
    const tester = createExtensionTester(residencyEntityContent);
    expect(tester.get(coreExtensionData.routePath)).toBe('residency');
    expect(tester.get(EntityContentBlueprint.dataRefs.title)).toBe('Residency');
    const filter = tester.get(EntityContentBlueprint.dataRefs.filterFunction);
    expect(filter!(annotatedEntity)).toBe(true);
    // components without annotations get the onboarding steps, not a 404
    expect(filter!(plainEntity)).toBe(true);
    expect(filter!({ ...plainEntity, kind: 'Group' })).toBe(false);
  });

  it('adds the /residency page with a title and icon for the sidebar, and renders it', async () => {
    const tester = createExtensionTester(residencyPage);
    expect(tester.get(coreExtensionData.routePath)).toBe('/residency');
    expect(tester.get(coreExtensionData.title)).toBe('Residency');
    expect(tester.get(coreExtensionData.icon)).toBeTruthy();
    await renderInTestApp(tester.reactElement(), {
      apis: [
        [
          residencyApiRef,
          fakeApi({
            listEntities: async () => ({ items: [], totalCount: 0 }),
            listTenants: async () => ({ items: [] }),
            listMismatches: async () => ({ items: [] }),
          }),
        ],
        [permissionApiRef, permissionApi],
      ],
    });
    expect(
      await screen.findByRole('tab', { name: 'Tenants & mismatches' }),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('heading', { name: 'Residency', level: 1 }),
    ).toBeInTheDocument();
  });
});
