import type { TableColumn } from '@backstage/core-components';
import { stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import Typography from '@material-ui/core/Typography';
import { isResidencyAvailable } from '../../helpers';
import { ResidencyStatus, isByException } from '../common/status';
import { summaryOf, useResidencyIndex } from './useResidencyIndex';

/** The residency status of one catalog row, in colour and words. */
export function EntityResidencyStatusCell(props: { entity: Entity }) {
  const { value, loading, error } = useResidencyIndex();
  if (!isResidencyAvailable(props.entity)) {
    return (
      <Typography variant="body2" color="textSecondary">
        Not set up
      </Typography>
    );
  }
  if (loading) {
    return null;
  }
  if (error) {
    return (
      <Typography variant="body2" color="textSecondary">
        Unavailable
      </Typography>
    );
  }
  const summary = summaryOf(value, stringifyEntityRef(props.entity));
  if (!summary) {
    return (
      <Typography variant="body2" color="textSecondary">
        Not checked yet
      </Typography>
    );
  }
  return (
    <ResidencyStatus
      decision={summary.decision}
      byException={isByException(summary)}
    />
  );
}

/**
 * A "Residency" column for the catalog table (`CatalogTable` columns): each
 * row's stored status, read with one paged request for the whole table, with
 * "Resident by exception" in its own colour and words where approved exceptions
 * waive a not-resident decision.
 *
 * @public
 */
export function createResidencyColumn<
  T extends { entity: Entity },
>(): TableColumn<T> {
  return {
    title: 'Residency',
    field: 'entity.metadata.annotations',
    sorting: false,
    // the status words stay on one line ("Not resident", not "Not residen t")
    cellStyle: { whiteSpace: 'nowrap' },
    render: row => <EntityResidencyStatusCell entity={row.entity} />,
  };
}
