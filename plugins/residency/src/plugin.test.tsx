import { screen } from '@testing-library/react';
import {
  TestApiProvider,
  mockApis,
  renderInTestApp,
} from '@backstage/test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { Route, Routes } from 'react-router-dom';
import {
  EntityResidencyCard,
  EntityResidencyContent,
  ResidencyPage,
  isResidencyAvailable,
  residencyApiRef,
  residencyPlugin,
} from './index';
import {
  annotatedEntity,
  fakeApi,
  makeStatus,
  plainEntity,
} from './__fixtures__/fixtures';

describe('legacy exports', () => {
  it('registers the API factory on the plugin', () => {
    expect(residencyPlugin.getId()).toBe('residency');
    const apis = Array.from(residencyPlugin.getApis());
    expect(apis.map(a => a.api.id)).toEqual([residencyApiRef.id]);
  });

  it('checks the images annotation, ignoring blank values', () => {
    expect(isResidencyAvailable(annotatedEntity)).toBe(true);
    expect(isResidencyAvailable(plainEntity)).toBe(false);
    expect(
      isResidencyAvailable({
        ...plainEntity,
        metadata: { name: 'x', annotations: { 'residency.dev/images': '  ' } },
      }),
    ).toBe(false);
  });

  it('lazy-loads the card and the tab', async () => {
    const api = fakeApi({
      getStatus: async () => makeStatus(),
      listEvidence: async () => ({ items: [] }),
      verifyChain: async () => ({ entityRef: 'x', ok: true, length: 0 }),
    });
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [residencyApiRef, api],
          [permissionApiRef, mockApis.permission()],
        ]}
      >
        <EntityProvider entity={annotatedEntity}>
          <EntityResidencyCard />
          <EntityResidencyContent />
        </EntityProvider>
      </TestApiProvider>,
    );
    expect(
      await screen.findByRole('heading', { name: 'Residency', level: 2 }),
    ).toBeInTheDocument();
    expect(
      await screen.findByRole('heading', {
        name: 'Evidence history',
        level: 2,
      }),
    ).toBeInTheDocument();
  });

  it('mounts the page', async () => {
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [
            residencyApiRef,
            fakeApi({
              listEntities: async () => ({ items: [], totalCount: 0 }),
              listTenants: async () => ({ items: [] }),
              listMismatches: async () => ({ items: [] }),
            }),
          ],
          [permissionApiRef, mockApis.permission()],
        ]}
      >
        <Routes>
          <Route path="/*" element={<ResidencyPage />} />
        </Routes>
      </TestApiProvider>,
    );
    expect(
      await screen.findByRole('tab', { name: 'Services' }),
    ).toBeInTheDocument();
  });
});
