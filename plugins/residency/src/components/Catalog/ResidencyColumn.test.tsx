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

  it('shows "Resident by exception" in its own style, never as Resident or Not resident', async () => {
    const listEntities = jest.fn().mockResolvedValue({
      items: [{ ...summary('non_compliant'), state: 'resident_by_exception' }],
    });
    await renderInTestApp(
      <TestApiProvider apis={[[residencyApiRef, fakeApi({ listEntities })]]}>
        <EntityResidencyStatusCell entity={annotatedEntity} />
      </TestApiProvider>,
    );
    const cell = await screen.findByTestId('residency-status');
    expect(cell).toHaveTextContent(/^Resident by exception$/);
    expect(cell).toHaveAttribute('data-state', 'resident_by_exception');
    expect(screen.queryByText('Not resident')).toBeNull();
    expect(screen.queryByText('Resident')).toBeNull();
  });

  it('ignores a "by exception" state on a decision that cannot have one', async () => {
    const listEntities = jest.fn().mockResolvedValue({
      items: [
        {
          ...summary('non_compliant'),
          stale: true,
          state: 'resident_by_exception',
        },
      ],
    });
    await renderInTestApp(
      <TestApiProvider apis={[[residencyApiRef, fakeApi({ listEntities })]]}>
        <EntityResidencyStatusCell entity={annotatedEntity} />
      </TestApiProvider>,
    );
    expect(await screen.findByText('Not resident')).toBeInTheDocument();
    expect(screen.queryByText('Resident by exception')).toBeNull();
  });

  it('filters "Resident by exception" apart from "Not resident"', () => {
    const index = new Map([
      [
        'component:default/payments',
        { ...summary('non_compliant'), state: 'resident_by_exception' },
      ],
    ]);
    expect(
      new EntityResidencyFilter('resident_by_exception', index).filterEntity(
        annotatedEntity,
      ),
    ).toBe(true);
    expect(
      new EntityResidencyFilter('non_compliant', index).filterEntity(
        annotatedEntity,
      ),
    ).toBe(false);
    const plain = new Map([
      ['component:default/payments', summary('non_compliant')],
    ]);
    expect(
      new EntityResidencyFilter('resident_by_exception', plain).filterEntity(
        annotatedEntity,
      ),
    ).toBe(false);
    expect(
      new EntityResidencyFilter('non_compliant', plain).filterEntity(
        annotatedEntity,
      ),
    ).toBe(true);
  });
});
