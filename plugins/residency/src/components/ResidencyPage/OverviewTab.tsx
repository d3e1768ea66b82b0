import type { ReactNode } from 'react';
import useAsync from 'react-use/esm/useAsync';
import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { makeStyles } from '@material-ui/core/styles';
import Grid from '@material-ui/core/Grid';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import type {
  Decision,
  Mismatch,
  TenantSummary,
} from '@residency-dev/plugin-residency-common';
import { residencyApiRef, type ListEntitiesOptions } from '../../api';
import {
  BY_EXCEPTION_LABEL,
  SECTION_CARD_TITLE_PROPS,
  ResidencyStatus,
  decisionLabel,
  displayValue,
} from '../common';
import { ComplianceChart } from './ComplianceChart';

const useStyles = makeStyles(theme => ({
  counts: { display: 'flex', flexWrap: 'wrap', gap: theme.spacing(3) },
  count: { minWidth: 120 },
  number: { fontSize: '2rem', fontWeight: 600, lineHeight: 1.2 },
  inside: { color: theme.palette.text.primary },
  outside: { color: theme.palette.error.main, fontWeight: 600 },
  cell: { fontSize: '0.8rem' },
  nowrap: { whiteSpace: 'nowrap' },
  // a narrow screen scrolls the five status columns instead of cutting them off
  scroll: { overflowX: 'auto' },
}));

// Backstage's tables break words anywhere ("Reside|nt"); in the
// "Services by tenant" card, headings wrap between words instead (inline, as
// the theme's table cell style would otherwise win over a class).
const WHOLE_WORDS = { wordBreak: 'normal', overflowWrap: 'normal' } as const;

export const CHART_DAYS = 14;

/**
 * The counts of "Services by status": one per decision, except that services
 * whose failures are all waived by exceptions in force are counted as Resident
 * by exception and not as Not resident (the list's `state` filter).
 */
const STATUS_COUNTS: {
  key: string;
  label: string;
  filter: ListEntitiesOptions;
  chip: ReactNode;
}[] = [
  {
    key: 'compliant',
    label: decisionLabel('compliant'),
    filter: { status: 'compliant' },
    chip: <ResidencyStatus decision="compliant" />,
  },
  {
    key: 'resident_by_exception',
    label: BY_EXCEPTION_LABEL,
    filter: { state: 'resident_by_exception' },
    chip: <ResidencyStatus decision="non_compliant" byException />,
  },
  {
    key: 'non_compliant',
    label: decisionLabel('non_compliant'),
    filter: { status: 'non_compliant', state: 'not_resident' },
    chip: <ResidencyStatus decision="non_compliant" />,
  },
  {
    key: 'invalid',
    label: decisionLabel('invalid'),
    filter: { status: 'invalid' },
    chip: <ResidencyStatus decision="invalid" />,
  },
  {
    key: 'unknown',
    label: decisionLabel('unknown'),
    filter: { status: 'unknown' },
    chip: <ResidencyStatus decision="unknown" />,
  },
];

/** A tenant's count for one of {@link STATUS_COUNTS}. */
function tenantCount(t: TenantSummary, key: string): number {
  const byException = t.residentByException ?? 0;
  if (key === 'resident_by_exception') return byException;
  const n = t.counts?.[key as Decision] ?? 0;
  return key === 'non_compliant' ? Math.max(0, n - byException) : n;
}

function StatusCounts() {
  const classes = useStyles();
  const api = useApi(residencyApiRef);
  const state = useAsync(async () => {
    const [all, ...pages] = await Promise.all([
      api.listEntities({ limit: 1 }),
      ...STATUS_COUNTS.map(c => api.listEntities({ ...c.filter, limit: 1 })),
    ]);
    const byKey: Record<string, number | undefined> = {};
    STATUS_COUNTS.forEach((c, i) => {
      byKey[c.key] = pages[i].totalCount;
    });
    return { total: all.totalCount, byKey };
  }, [api]);
  if (state.loading) return <Progress />;
  if (state.error || !state.value) {
    return (
      <ResponseErrorPanel
        error={state.error ?? new Error('No counts')}
        title="Could not load the counts"
      />
    );
  }
  const counts = state.value;
  return (
    <div className={classes.counts}>
      <div className={classes.count}>
        <div
          className={classes.number}
          aria-label={`${counts.total ?? 'unknown'} services in total`}
        >
          {counts.total ?? '?'}
        </div>
        <Typography variant="body2">Services</Typography>
      </div>
      {STATUS_COUNTS.map(c => (
        <div key={c.key} className={classes.count}>
          <div
            className={classes.number}
            aria-label={`${counts.byKey[c.key] ?? 'unknown'} ${c.label}`}
          >
            {counts.byKey[c.key] ?? '?'}
          </div>
          {c.chip}
        </div>
      ))}
    </div>
  );
}

function ComplianceOverTime() {
  const api = useApi(residencyApiRef);
  // One aggregate request (GET /compliance/history) instead of one per entity.
  const loaded = useAsync(
    () => api.getComplianceHistory({ days: CHART_DAYS }),
    [api],
  );
  const state = {
    loading: loaded.loading,
    error: loaded.error,
    ...loaded.value,
  };
  if (state.loading) return <Progress />;
  if (state.error) {
    const status = (state.error as any)?.response?.status;
    return (
      <Typography variant="body2">
        {status === 403
          ? 'The chart covers the whole catalog, which needs the residency tenants permission (platform owners and auditors).'
          : `The chart could not be built: ${state.error.message}`}
      </Typography>
    );
  }
  const days = state.days ?? [];
  if (!days.some(d => d.resident + d.notResident + d.unknown > 0)) {
    return (
      <Typography variant="body2">
        No services have been checked yet.
      </Typography>
    );
  }
  return (
    <>
      <ComplianceChart days={days} />
    </>
  );
}

/** Tenants as rows, every region that appears as a column. */
export function TenantRegionMatrix(props: {
  tenants: TenantSummary[];
  mismatches: Mismatch[];
}) {
  const classes = useStyles();
  const { tenants, mismatches } = props;
  const regions = Array.from(
    new Set(
      tenants.flatMap(t => [
        ...t.boundary.regions,
        ...t.registries.map(r => r.region),
        ...t.keys.map(k => k.region),
      ]),
    ),
  ).sort();
  if (tenants.length === 0) {
    return <Typography variant="body2">No tenants are configured.</Typography>;
  }
  return (
    <Table size="small" aria-label="Tenant by region matrix">
      <TableHead>
        <TableRow>
          <TableCell component="th" scope="col">
            Tenant
          </TableCell>
          {regions.map(r => (
            <TableCell key={r} component="th" scope="col">
              {displayValue(r)}
            </TableCell>
          ))}
        </TableRow>
      </TableHead>
      <TableBody>
        {tenants.map(t => (
          <TableRow key={t.id}>
            <TableCell component="th" scope="row">
              {displayValue(t.id)}
            </TableCell>
            {regions.map(r => {
              const inBoundary = t.boundary.regions.includes(r);
              const registries = t.registries.filter(
                x => x.region === r,
              ).length;
              const keys = t.keys.filter(x => x.region === r).length;
              const outside = mismatches.filter(
                m => m.tenant === t.id && m.value === r,
              ).length;
              const parts = [
                inBoundary ? 'in boundary' : undefined,
                registries
                  ? `${registries} registr${registries === 1 ? 'y' : 'ies'}`
                  : undefined,
                keys ? `${keys} key${keys === 1 ? '' : 's'}` : undefined,
                outside
                  ? `${outside} mismatch${outside === 1 ? '' : 'es'}`
                  : undefined,
              ].filter(Boolean);
              const problem =
                !inBoundary && (registries > 0 || keys > 0 || outside > 0);
              return (
                <TableCell
                  key={r}
                  className={`${classes.cell} ${
                    problem ? classes.outside : classes.inside
                  }`}
                >
                  {parts.length ? parts.join(' · ') : '—'}
                  {problem ? ' (outside boundary)' : ''}
                </TableCell>
              );
            })}
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

/** Counts per status and tenant, compliance over time, tenant-by-region matrix. */
export function OverviewTab(props: {
  tenants?: TenantSummary[];
  mismatches?: Mismatch[];
  tenantsError?: Error;
  tenantsAllowed: boolean;
}) {
  const { tenants, mismatches, tenantsError, tenantsAllowed } = props;
  const classes = useStyles();
  let tenantBody: ReactNode;
  if (!tenantsAllowed) {
    tenantBody = (
      <Typography variant="body2">
        Tenant details are available to platform owners (residency tenants
        permission).
      </Typography>
    );
  } else if (tenantsError) {
    tenantBody = (
      <ResponseErrorPanel error={tenantsError} title="Could not load tenants" />
    );
  } else if (!tenants) {
    tenantBody = <Progress />;
  }
  return (
    <>
      <Typography variant="h5" component="h2" gutterBottom>
        Overview
      </Typography>
      <Grid container spacing={3}>
        <Grid item xs={12}>
          <InfoCard
            titleTypographyProps={SECTION_CARD_TITLE_PROPS}
            title="Services by status"
          >
            <StatusCounts />
          </InfoCard>
        </Grid>
        <Grid item xs={12}>
          <InfoCard
            titleTypographyProps={SECTION_CARD_TITLE_PROPS}
            title="Services by tenant"
          >
            {tenantBody ?? (
              <div className={classes.scroll}>
                <Table size="small" aria-label="Services by tenant and status">
                  <TableHead>
                    <TableRow>
                      <TableCell style={WHOLE_WORDS}>Tenant</TableCell>
                      {STATUS_COUNTS.map(c => (
                        <TableCell key={c.key} style={WHOLE_WORDS}>
                          {c.label}
                        </TableCell>
                      ))}
                    </TableRow>
                  </TableHead>
                  <TableBody>
                    {tenants!.map(t => (
                      <TableRow key={t.id}>
                        <TableCell className={classes.nowrap}>
                          {displayValue(t.id)}
                        </TableCell>
                        {STATUS_COUNTS.map(c => (
                          <TableCell key={c.key}>
                            {tenantCount(t, c.key)}
                          </TableCell>
                        ))}
                      </TableRow>
                    ))}
                  </TableBody>
                </Table>
              </div>
            )}
          </InfoCard>
        </Grid>
        <Grid item xs={12}>
          <InfoCard
            titleTypographyProps={SECTION_CARD_TITLE_PROPS}
            title="Compliance over time"
          >
            <ComplianceOverTime />
          </InfoCard>
        </Grid>
        <Grid item xs={12}>
          <InfoCard
            titleTypographyProps={SECTION_CARD_TITLE_PROPS}
            title="Tenants by region"
          >
            {tenantBody ?? (
              <TenantRegionMatrix
                tenants={tenants!}
                mismatches={mismatches ?? []}
              />
            )}
          </InfoCard>
        </Grid>
      </Grid>
    </>
  );
}
