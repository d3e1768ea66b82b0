import { screen } from '@testing-library/react';
import { TestApiProvider, renderInTestApp } from '@backstage/test-utils';
import { residencyApiRef } from '../../api';
import { EntityResidencyStatusCell } from './ResidencyColumn';
import { EntityResidencyFilter } from './ResidencyCatalogFilter';
import {
  annotatedEntity,
  fakeApi,
  plainEntity,
} from '../../__fixtures__/fixtures';

const summary = (decision: 'compliant' | 'non_compliant') =>
  ({
    entityRef: 'component:default/payments',
    decision,
    stale: false,
    reasonCodes: [],
    images: [],
    checkedAt: '2026-11-20T10:00:00Z',
  } as any);

describe('catalog column and filter', () => {
  it('shows the stored status of an annotated entity and "Not set up" otherwise', async () => {
    const listEntities = jest
      .fn()
      .mockResolvedValue({ items: [summary('non_compliant')] });
    await renderInTestApp(
      <TestApiProvider apis={[[residencyApiRef, fakeApi({ listEntities })]]}>
        <EntityResidencyStatusCell entity={annotatedEntity} />
        <EntityResidencyStatusCell entity={plainEntity} />
      </TestApiProvider>,
    );
    expect(await screen.findByText('Not resident')).toBeInTheDocument();
    expect(screen.getByText('Not set up')).toBeInTheDocument();
    // one paged request for the whole table
    expect(listEntities).toHaveBeenCalledTimes(1);
  });

  it('filters entities by their stored decision, or by having none', () => {
    const index = new Map([
      ['component:default/payments', summary('compliant')],
    ]);
    expect(
      new EntityResidencyFilter('compliant', index).filterEntity(
        annotatedEntity,
      ),
    ).toBe(true);
    expect(
      new EntityResidencyFilter('non_compliant', index).filterEntity(
        annotatedEntity,
      ),
    ).toBe(false);
    expect(
      new EntityResidencyFilter('not_set_up', index).filterEntity(plainEntity),
    ).toBe(true);
    expect(new EntityResidencyFilter('compliant', index).toQueryValue()).toBe(
      'compliant',
    );
  });
});
