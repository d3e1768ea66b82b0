import { useEffect, useState } from 'react';
import { stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import {
  useEntityList,
  type DefaultEntityFilters,
  type EntityFilter,
} from '@backstage/plugin-catalog-react';
import FormControl from '@material-ui/core/FormControl';
import InputBase from '@material-ui/core/InputBase';
import InputLabel from '@material-ui/core/InputLabel';
import NativeSelect from '@material-ui/core/NativeSelect';
import Box from '@material-ui/core/Box';
import { makeStyles } from '@material-ui/core/styles';
import type {
  Decision,
  EntityStatusSummary,
} from '@residency-dev/plugin-residency-common';
import { isByException } from '../common/status';
import { summaryOf, useResidencyIndex } from './useResidencyIndex';

/**
 * The filter's choices: a stored decision ("not resident" without the ones
 * waived by exceptions), "resident by exception", or "not set up" (no
 * annotations).
 */
export type ResidencyFilterValue =
  | Decision
  | 'resident_by_exception'
  | 'not_set_up';

const OPTIONS: { value: ResidencyFilterValue; label: string }[] = [
  { value: 'compliant', label: 'Resident' },
  { value: 'resident_by_exception', label: 'Resident by exception' },
  { value: 'non_compliant', label: 'Not resident' },
  { value: 'invalid', label: 'Not resident (configuration)' },
  { value: 'unknown', label: 'Unknown' },
  { value: 'not_set_up', label: 'Not set up' },
];

/**
 * Keeps catalog entities whose stored residency decision (or "resident by
 * exception") is the chosen one.
 * Runs in the browser (the status is not part of the entity), so it is meant
 * for the catalog table without server-side pagination.
 *
 * @public
 */
export class EntityResidencyFilter implements EntityFilter {
  constructor(
    readonly value: ResidencyFilterValue,
    private readonly index: Map<string, EntityStatusSummary>,
  ) {}

  filterEntity(entity: Entity): boolean {
    const summary = summaryOf(this.index, stringifyEntityRef(entity));
    if (this.value === 'not_set_up') {
      return summary === undefined;
    }
    if (!summary) return false;
    if (this.value === 'resident_by_exception') return isByException(summary);
    if (this.value === 'non_compliant' && isByException(summary)) return false;
    return summary.decision === this.value;
  }

  toQueryValue(): string {
    return this.value;
  }
}

/** Catalog filters with the residency filter. @public */
export type ResidencyEntityFilters = DefaultEntityFilters & {
  residency?: EntityResidencyFilter;
};

// The look of the catalog's own pickers (Kind, Owner, ...): a bold label above
// a bordered box, in the theme's colours (a native select underneath).
const useStyles = makeStyles(theme => ({
  label: {
    position: 'static',
    transform: 'none',
    marginBottom: theme.spacing(1),
    fontWeight: theme.typography.fontWeightBold as number,
    fontSize: theme.typography.body2.fontSize,
    color: theme.palette.text.primary,
    '&.Mui-focused': { color: theme.palette.text.primary },
  },
  input: {
    borderRadius: theme.shape.borderRadius,
    backgroundColor: theme.palette.background.paper,
    color: theme.palette.text.primary,
    border: `1px solid ${theme.palette.divider}`,
    fontSize: theme.typography.body1.fontSize,
    padding: theme.spacing(1.25, 3.25, 1.25, 1.5),
    '&:focus': {
      borderRadius: theme.shape.borderRadius,
      backgroundColor: theme.palette.background.paper,
      borderColor: theme.palette.primary.main,
    },
  },
}));

/**
 * A "Residency" picker for the catalog's filter column.
 *
 * @public
 */
export function ResidencyCatalogFilter() {
  const { updateFilters, queryParameters } =
    useEntityList<ResidencyEntityFilters>();
  const initial = [queryParameters.residency].flat()[0];
  const [value, setValue] = useState<ResidencyFilterValue | ''>(
    OPTIONS.some(o => o.value === initial)
      ? (initial as ResidencyFilterValue)
      : '',
  );
  const { value: index } = useResidencyIndex();
  useEffect(() => {
    updateFilters({
      residency:
        value && index ? new EntityResidencyFilter(value, index) : undefined,
    });
  }, [value, index, updateFilters]);

  const classes = useStyles();
  return (
    <Box pb={1} pt={1}>
      <FormControl fullWidth>
        <InputLabel
          disableAnimation
          htmlFor="residency-catalog-filter"
          className={classes.label}
        >
          Residency
        </InputLabel>
        <NativeSelect
          value={value}
          onChange={e => setValue(e.target.value as ResidencyFilterValue | '')}
          input={<InputBase classes={{ input: classes.input }} />}
          inputProps={{ id: 'residency-catalog-filter' }}
        >
          <option value="">All</option>
          {OPTIONS.map(o => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </NativeSelect>
      </FormControl>
    </Box>
  );
}
