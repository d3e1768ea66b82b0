import { useMemo, useRef, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import {
  EmptyState,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { makeStyles } from '@material-ui/core/styles';
import Button from '@material-ui/core/Button';
import FormControl from '@material-ui/core/FormControl';
import InputLabel from '@material-ui/core/InputLabel';
import Paper from '@material-ui/core/Paper';
import Select from '@material-ui/core/Select';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableContainer from '@material-ui/core/TableContainer';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import TableSortLabel from '@material-ui/core/TableSortLabel';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import useDebounce from 'react-use/esm/useDebounce';
import type {
  Decision,
  EntityStatusSummary,
  Page,
} from '@residency-dev/plugin-residency-common';
import { residencyApiRef } from '../../api';
import {
  ResidencyStatus,
  displayValue,
  formatTime,
  isByException,
} from '../common';
import { EntityLink } from './EntityLink';
import { problemFor } from '../common/advice';

const useStyles = makeStyles(theme => ({
  // Reasons are sentences: let them wrap at word boundaries in a readable width.
  reasons: {
    minWidth: 240,
    maxWidth: 420,
    whiteSpace: 'normal',
    overflowWrap: 'break-word',
  },
  // Short values (status chip, tenant id, region) stay on one line.
  nowrap: { whiteSpace: 'nowrap' },
  reasonList: { margin: 0, paddingLeft: theme.spacing(2) },
  code: {
    display: 'block',
    fontFamily: 'monospace',
    fontSize: '0.75rem',
    color: theme.palette.text.secondary,
    overflowWrap: 'anywhere',
  },
  filters: {
    display: 'flex',
    flexWrap: 'wrap',
    gap: theme.spacing(2),
    alignItems: 'flex-end',
    marginBottom: theme.spacing(2),
  },
  select: { minWidth: 180 },
  pager: {
    display: 'flex',
    alignItems: 'center',
    justifyContent: 'flex-end',
    gap: theme.spacing(1),
    padding: theme.spacing(1),
  },
  // Image references break at their separators, not every few characters,
  // in a column wide enough to read a registry host and repository.
  images: { minWidth: 220 },
  mono: {
    fontFamily: 'monospace',
    wordBreak: 'normal',
    overflowWrap: 'anywhere',
  },
  // The service's name on its own line(s), its evidence link below it as a
  // secondary link, so "Billing Worker" does not read as "Billing Worker Evidence".
  entity: { minWidth: 140 },
  evidence: {
    marginTop: theme.spacing(0.5),
    fontSize: theme.typography.caption.fontSize,
  },
}));

export const PAGE_SIZE = 25;

const STATUS_OPTIONS: { value: '' | Decision; label: string }[] = [
  { value: '', label: 'All statuses' },
  { value: 'compliant', label: 'Resident' },
  { value: 'non_compliant', label: 'Not resident' },
  { value: 'invalid', label: 'Not resident (configuration)' },
  { value: 'unknown', label: 'Unknown' },
];

type SortKey = 'entity' | 'status' | 'tenant' | 'region' | 'checked';
const DECISION_ORDER: Record<Decision, number> = {
  non_compliant: 0,
  invalid: 1,
  unknown: 2,
  compliant: 3,
};

function sortValue(row: EntityStatusSummary, key: SortKey): string | number {
  switch (key) {
    case 'status':
      if (row.stale) return 2.5;
      // waived, but not resident on its own: between unknown and resident
      if (isByException(row)) return 2.75;
      return DECISION_ORDER[row.decision] ?? 9;
    case 'tenant':
      return row.tenant ?? '';
    case 'region':
      return row.declaredRegion ?? '';
    case 'checked':
      return Date.parse(row.checkedAt) || 0;
    default:
      return (row.title || row.entityRef).toLocaleLowerCase('en-US');
  }
}

/** Every annotated entity, page by page from the API, with filters and search. */
export function ServicesTab(props: { tenants: string[] }) {
  const classes = useStyles();
  const api = useApi(residencyApiRef);
  const [status, setStatus] = useState<'' | Decision>('');
  const [tenant, setTenant] = useState('');
  const [search, setSearch] = useState('');
  const [q, setQ] = useState('');
  // cursors[i] is the cursor that loads page i; page 0 has none.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [pageIndex, setPageIndex] = useState(0);
  const resetPaging = () => {
    setCursors([undefined]);
    setPageIndex(0);
  };
  useDebounce(
    () => {
      const next = search.trim();
      if (next !== q) {
        resetPaging();
        setQ(next);
      }
    },
    300,
    [search],
  );
  const [sort, setSort] = useState<{ key: SortKey; dir: 'asc' | 'desc' }>({
    key: 'entity',
    dir: 'asc',
  });

  const cursor = cursors[pageIndex];
  const loaded = useAsync(
    () =>
      api.listEntities({
        status: status || undefined,
        tenant: tenant || undefined,
        q: q || undefined,
        cursor,
        limit: PAGE_SIZE,
      }),
    [api, status, tenant, q, cursor],
  );
  // Keep the previous page on screen while the next one loads.
  const lastPage = useRef<Page<EntityStatusSummary> | undefined>(undefined);
  if (loaded.value) {
    lastPage.current = loaded.value;
  }
  const state = {
    loading: loaded.loading,
    error: loaded.error,
    page: loaded.value ?? lastPage.current,
  };

  const rows = useMemo(() => {
    const items = [...(state.page?.items ?? [])];
    items.sort((a, b) => {
      const va = sortValue(a, sort.key);
      const vb = sortValue(b, sort.key);
      let cmp = 0;
      if (va < vb) cmp = -1;
      else if (va > vb) cmp = 1;
      return sort.dir === 'asc' ? cmp : -cmp;
    });
    return items;
  }, [state.page, sort]);

  // Tenants from the tenants API when the user may read it, else from what the list shows.
  const tenantOptions = useMemo(
    () =>
      Array.from(
        new Set([
          ...props.tenants,
          ...(state.page?.items ?? []).flatMap(r =>
            r.tenant ? [r.tenant] : [],
          ),
          ...(tenant ? [tenant] : []),
        ]),
      ).sort(),
    [props.tenants, state.page, tenant],
  );

  const nextCursor = state.page?.nextCursor;
  const goNext = () => {
    if (!nextCursor) return;
    setCursors(prev => [...prev.slice(0, pageIndex + 1), nextCursor]);
    setPageIndex(i => i + 1);
  };
  const goPrevious = () => setPageIndex(i => Math.max(0, i - 1));

  const header = (key: SortKey, label: string) => (
    <TableCell
      className={classes.nowrap}
      sortDirection={sort.key === key ? sort.dir : false}
    >
      <TableSortLabel
        active={sort.key === key}
        direction={sort.key === key ? sort.dir : 'asc'}
        onClick={() =>
          setSort(prev => ({
            key,
            dir: prev.key === key && prev.dir === 'asc' ? 'desc' : 'asc',
          }))
        }
        aria-label={`Sort by ${label}`}
      >
        {label}
      </TableSortLabel>
    </TableCell>
  );

  const total = state.page?.totalCount;
  return (
    <>
      <Typography variant="h5" component="h2" gutterBottom>
        Services
      </Typography>
      <div
        className={classes.filters}
        role="search"
        aria-label="Filter services"
      >
        <FormControl className={classes.select}>
          <InputLabel shrink htmlFor="residency-status-filter">
            Status
          </InputLabel>
          <Select
            native
            value={status}
            onChange={e => {
              resetPaging();
              setStatus(e.target.value as '' | Decision);
            }}
            inputProps={{
              id: 'residency-status-filter',
              'aria-label': 'Filter by status',
            }}
          >
            {STATUS_OPTIONS.map(o => (
              <option key={o.value || 'all'} value={o.value}>
                {o.label}
              </option>
            ))}
          </Select>
        </FormControl>
        <FormControl className={classes.select}>
          <InputLabel shrink htmlFor="residency-tenant-filter">
            Tenant
          </InputLabel>
          <Select
            native
            value={tenant}
            onChange={e => {
              resetPaging();
              setTenant(e.target.value as string);
            }}
            inputProps={{
              id: 'residency-tenant-filter',
              'aria-label': 'Filter by tenant',
            }}
          >
            <option value="">All tenants</option>
            {tenantOptions.map(t => (
              <option key={t} value={t}>
                {displayValue(t)}
              </option>
            ))}
          </Select>
        </FormControl>
        <TextField
          label="Search services"
          value={search}
          onChange={e => setSearch(e.target.value)}
          inputProps={{ 'aria-label': 'Search services' }}
        />
      </div>
      {state.error && (
        <ResponseErrorPanel
          error={state.error}
          title="Could not load services"
        />
      )}
      {!state.error && state.loading && !state.page && <Progress />}
      {!state.error && state.page && rows.length === 0 && !state.loading && (
        <EmptyState
          missing="data"
          title="No services match"
          description="No annotated entity matches these filters. Entities appear here once they carry the residency.dev/images annotation and have been checked."
        />
      )}
      {!state.error && rows.length > 0 && (
        <TableContainer component={Paper}>
          {state.loading && <Progress />}
          <Table size="small" aria-label="Services and their residency status">
            <TableHead>
              <TableRow>
                {header('entity', 'Entity')}
                {header('status', 'Status')}
                {header('tenant', 'Tenant')}
                {header('region', 'Declared region')}
                <TableCell>Images</TableCell>
                <TableCell>Reasons</TableCell>
                {header('checked', 'Last checked')}
              </TableRow>
            </TableHead>
            <TableBody>
              {rows.map(row => (
                <TableRow key={row.entityRef}>
                  <TableCell className={classes.entity}>
                    <EntityLink entityRef={row.entityRef} title={row.title} />
                    <div className={classes.evidence}>
                      <EntityLink
                        entityRef={row.entityRef}
                        title={row.title}
                        subPath="residency"
                      >
                        Evidence
                      </EntityLink>
                    </div>
                  </TableCell>
                  <TableCell className={classes.nowrap}>
                    <ResidencyStatus
                      decision={row.decision}
                      stale={row.stale}
                      byException={isByException(row)}
                    />
                  </TableCell>
                  <TableCell className={classes.nowrap}>
                    {displayValue(row.tenant ?? '—')}
                  </TableCell>
                  <TableCell className={classes.nowrap}>
                    {displayValue(row.declaredRegion ?? '—')}
                  </TableCell>
                  <TableCell className={classes.images}>
                    {row.images.slice(0, 3).map((image, i) => (
                      <div key={i} className={classes.mono}>
                        {displayValue(image)}
                      </div>
                    ))}
                    {row.images.length > 3 &&
                      `and ${row.images.length - 3} more`}
                  </TableCell>
                  <TableCell className={classes.reasons}>
                    {row.reasonCodes.length ? (
                      <ul className={classes.reasonList}>
                        {row.reasonCodes.map((code, i) => (
                          <li key={`${code}-${i}`}>
                            {problemFor(code)}{' '}
                            <span className={classes.code}>
                              {displayValue(code)}
                            </span>
                          </li>
                        ))}
                      </ul>
                    ) : (
                      '—'
                    )}
                  </TableCell>
                  <TableCell>{formatTime(row.checkedAt)}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
          <div className={classes.pager}>
            <Typography variant="body2" aria-live="polite">
              Page {pageIndex + 1}
              {total !== undefined &&
                ` · ${total} service${total === 1 ? '' : 's'} in total`}
              {' · sorting applies within this page'}
            </Typography>
            <Button
              size="small"
              onClick={goPrevious}
              disabled={pageIndex === 0 || state.loading}
              aria-label="Previous page"
            >
              Previous
            </Button>
            <Button
              size="small"
              onClick={goNext}
              disabled={!nextCursor || state.loading}
              aria-label="Next page"
            >
              Next
            </Button>
          </div>
        </TableContainer>
      )}
    </>
  );
}
