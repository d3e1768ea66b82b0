import {
  coreExtensionData,
  createExtensionInput,
  createFrontendModule,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import {
  Content,
  Header,
  Page,
  type TableColumn,
} from '@backstage/core-components';
import {
  CatalogFilterLayout,
  EntityListProvider,
} from '@backstage/plugin-catalog-react';
import { CatalogTable, type CatalogTableRow } from '@backstage/plugin-catalog';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import CategoryIcon from '@material-ui/icons/Category';
import { createResidencyColumn } from '@residency-dev/plugin-residency';

const residencyColumn = createResidencyColumn<CatalogTableRow>();

/**
 * Columns whose values are short names: kept on one line so that an extra
 * column (ours) does not squeeze them into one letter per line.
 */
const ONE_LINE_FIELDS = new Set([
  'resolved.entityRef',
  'resolved.ownedByRelationsTitle',
  'resolved.partOfSystemRelationTitle',
]);

function withResidencyColumn(
  columns: TableColumn<CatalogTableRow>[],
): TableColumn<CatalogTableRow>[] {
  const oneLine = columns.map(c =>
    typeof c.field === 'string' && ONE_LINE_FIELDS.has(c.field)
      ? { ...c, cellStyle: { whiteSpace: 'nowrap' as const } }
      : c,
  );
  // Residency right after the name, so the verdict is never the column that
  // scrolls out of view on a narrow screen. The default columns start with a
  // hidden title column (for search): count from the first visible one.
  const name = oneLine.findIndex(c => !c.hidden);
  const at = name < 0 ? 0 : name + 1;
  return [...oneLine.slice(0, at), residencyColumn, ...oneLine.slice(at)];
}

export const catalogPageWithResidency = PageBlueprint.makeWithOverrides({
  inputs: {
    filters: createExtensionInput([coreExtensionData.reactElement]),
  },
  factory(originalFactory, { inputs }) {
    const filters = inputs.filters.map(f =>
      f.get(coreExtensionData.reactElement),
    );
    return originalFactory({
      path: '/catalog',
      routeRef: catalogPlugin.routes.catalogIndex,
      title: 'Catalog',
      icon: <CategoryIcon fontSize="inherit" />,
      loader: async () => (
        <Page themeId="home">
          <Header title="Catalog" />
          <Content>
            <EntityListProvider>
              <CatalogFilterLayout>
                <CatalogFilterLayout.Filters>
                  {filters}
                </CatalogFilterLayout.Filters>
                <CatalogFilterLayout.Content>
                  <CatalogTable
                    columns={context =>
                      withResidencyColumn(
                        CatalogTable.defaultColumnsFunc(context),
                      )
                    }
                  />
                </CatalogFilterLayout.Content>
              </CatalogFilterLayout>
            </EntityListProvider>
          </Content>
        </Page>
      ),
    });
  },
});

export const catalogPageModule = createFrontendModule({
  pluginId: 'catalog',
  extensions: [catalogPageWithResidency],
});
