import { type ReactNode, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import {
  EmptyState,
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { makeStyles } from '@material-ui/core/styles';
import Chip from '@material-ui/core/Chip';
import FormControl from '@material-ui/core/FormControl';
import Grid from '@material-ui/core/Grid';
import InputLabel from '@material-ui/core/InputLabel';
import Select from '@material-ui/core/Select';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import type {
  Mismatch,
  TenantSummary,
} from '@residency-dev/plugin-residency-common';
import { residencyApiRef } from '../../api';
import {
  SECTION_CARD_TITLE_PROPS,
  ShortDigest,
  displayValue,
  formatTime,
} from '../common';
import { EntityLink } from './EntityLink';

const useStyles = makeStyles(theme => ({
  chips: {
    display: 'flex',
    flexWrap: 'wrap',
    gap: theme.spacing(0.5),
    marginBottom: theme.spacing(1),
  },
  mono: { fontFamily: 'monospace', wordBreak: 'break-all', fontSize: '0.8rem' },
  outside: { color: theme.palette.error.main, fontWeight: 600 },
  select: { minWidth: 200, marginBottom: theme.spacing(2) },
}));

const MISMATCH_KIND: Record<Mismatch['kind'], string> = {
  tenant_unknown: 'Unknown tenant',
  declared_region: 'Declared region',
  registry_region: 'Registry region',
  key_region: 'Signing key region',
  build_region: 'Build region',
};

/**
 * Whether a configured registry or key lies inside this tenant's boundary.
 * Keys and registries outside are normal configuration (they serve other
 * tenants; this tenant does not accept them), so they are not shown as errors.
 */
function Inside(props: { inside: boolean }) {
  return props.inside ? (
    <span>inside</span>
  ) : (
    <Typography variant="body2" component="span" color="textSecondary">
      outside (not accepted for this tenant)
    </Typography>
  );
}

function TenantCard(props: { tenant: TenantSummary }) {
  const classes = useStyles();
  const { tenant } = props;
  return (
    <InfoCard
      titleTypographyProps={SECTION_CARD_TITLE_PROPS}
      title={`Tenant ${displayValue(tenant.id)}`}
      subheader={`Boundary: ${displayValue(tenant.boundary.name)}`}
    >
      <Typography variant="subtitle2" component="h4">
        Regions in the boundary
      </Typography>
      <div className={classes.chips}>
        {tenant.boundary.regions.map(r => (
          <Chip key={r} size="small" label={displayValue(r)} />
        ))}
      </div>
      <Typography variant="subtitle2" component="h4">
        Required evidence
      </Typography>
      <Typography variant="body2" paragraph>
        {tenant.require.length ? tenant.require.join(', ') : 'none'}
      </Typography>
      <Typography variant="subtitle2" component="h4">
        Registries and on-disk image stores
      </Typography>
      {tenant.registries.length === 0 && (tenant.layouts ?? []).length === 0 ? (
        <Typography variant="body2">none configured</Typography>
      ) : (
        <Table
          size="small"
          aria-label={`Registries and on-disk image stores of tenant ${tenant.id}`}
        >
          <TableHead>
            <TableRow>
              <TableCell>Location</TableCell>
              <TableCell>Kind</TableCell>
              <TableCell>Region</TableCell>
              <TableCell>Boundary</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {tenant.registries.map(r => (
              <TableRow key={`registry:${r.host}`}>
                <TableCell className={classes.mono}>
                  {displayValue(r.host)}
                </TableCell>
                <TableCell>registry</TableCell>
                <TableCell>{displayValue(r.region)}</TableCell>
                <TableCell>
                  <Inside inside={r.insideBoundary} />
                </TableCell>
              </TableRow>
            ))}
            {/* older backends send no layouts */}
            {(tenant.layouts ?? []).map(l => (
              <TableRow key={`layout:${l.path}`}>
                <TableCell className={classes.mono}>
                  {displayValue(`oci:${l.path}`)}
                </TableCell>
                <TableCell>on-disk image store (OCI layout)</TableCell>
                <TableCell>{displayValue(l.region)}</TableCell>
                <TableCell>
                  <Inside inside={l.insideBoundary} />
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      <Typography variant="subtitle2" component="h4" style={{ marginTop: 8 }}>
        Signing keys
      </Typography>
      {tenant.keys.length === 0 ? (
        <Typography variant="body2">none configured</Typography>
      ) : (
        <Table size="small" aria-label={`Signing keys of tenant ${tenant.id}`}>
          <TableHead>
            <TableRow>
              <TableCell>Key</TableCell>
              <TableCell>Region</TableCell>
              <TableCell>Fingerprint</TableCell>
              <TableCell>Validity</TableCell>
              <TableCell>Boundary</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {tenant.keys.map(k => (
              <TableRow key={k.id}>
                <TableCell className={classes.mono}>
                  {displayValue(k.id)}
                </TableCell>
                <TableCell>
                  {displayValue(k.region)}
                  {k.regionSource === 'explicit' ? ' (explicit)' : ''}
                </TableCell>
                <TableCell>
                  <ShortDigest
                    digest={k.fingerprint}
                    label={`fingerprint of key ${k.id}`}
                  />
                </TableCell>
                <TableCell>
                  {k.revoked
                    ? 'revoked'
                    : `${k.validFrom ? `from ${formatTime(k.validFrom)}` : ''}${
                        k.validUntil ? ` until ${formatTime(k.validUntil)}` : ''
                      }` || 'no limit'}
                </TableCell>
                <TableCell>
                  <Inside inside={k.insideBoundary} />
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </InfoCard>
  );
}

function Mismatches(props: { tenants: TenantSummary[] }) {
  const classes = useStyles();
  const api = useApi(residencyApiRef);
  const [tenant, setTenant] = useState('');
  const loaded = useAsync(
    () => api.listMismatches({ tenant: tenant || undefined }),
    [api, tenant],
  );
  const state = {
    loading: loaded.loading,
    error: loaded.error,
    items: loaded.value?.items,
  };

  return (
    <InfoCard
      titleTypographyProps={SECTION_CARD_TITLE_PROPS}
      title="Mapping mismatches"
    >
      <FormControl className={classes.select}>
        <InputLabel shrink htmlFor="residency-mismatch-tenant">
          Tenant
        </InputLabel>
        <Select
          native
          value={tenant}
          onChange={e => setTenant(e.target.value as string)}
          inputProps={{
            id: 'residency-mismatch-tenant',
            'aria-label': 'Filter mismatches by tenant',
          }}
        >
          <option value="">All tenants</option>
          {props.tenants.map(t => (
            <option key={t.id} value={t.id}>
              {displayValue(t.id)}
            </option>
          ))}
        </Select>
      </FormControl>
      {state.error && (
        <ResponseErrorPanel
          error={state.error}
          title="Could not load mismatches"
        />
      )}
      {!state.error && state.loading && <Progress />}
      {!state.error && !state.loading && state.items?.length === 0 && (
        <EmptyState
          missing="data"
          title="No mismatches"
          description="Every checked entity's tenant, declared region, registries and keys lie inside its boundary."
        />
      )}
      {!state.error && state.items && state.items.length > 0 && (
        <Table size="small" aria-label="Mapping mismatches">
          <TableHead>
            <TableRow>
              <TableCell>Entity</TableCell>
              <TableCell>Tenant</TableCell>
              <TableCell>What lies outside</TableCell>
              <TableCell>Value</TableCell>
              <TableCell>Where</TableCell>
              <TableCell>Boundary</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {state.items.map((m, i) => (
              <TableRow key={`${m.entityRef}-${m.kind}-${i}`}>
                <TableCell>
                  <EntityLink entityRef={m.entityRef} />
                </TableCell>
                <TableCell>{displayValue(m.tenant ?? '—')}</TableCell>
                <TableCell>
                  {MISMATCH_KIND[m.kind] ?? displayValue(m.kind)}
                </TableCell>
                <TableCell className={classes.outside}>
                  {displayValue(m.value)}
                </TableCell>
                <TableCell className={classes.mono}>
                  {displayValue(m.where ?? '—')}
                </TableCell>
                <TableCell>
                  {m.boundary
                    ? `${displayValue(m.boundary.name)} (${m.boundary.regions
                        .map(displayValue)
                        .join(', ')})`
                    : '—'}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </InfoCard>
  );
}

/** Each tenant's boundary, regions, registries and keys, and the mismatches table. */
export function TenantsTab(props: {
  tenants?: TenantSummary[];
  error?: Error;
  allowed: boolean;
}) {
  const { tenants, error, allowed } = props;
  let body: ReactNode;
  if (!allowed) {
    body = (
      <EmptyState
        missing="info"
        title="Tenants are visible to platform owners"
        description="Viewing tenants, their boundaries and the mapping mismatches needs the residency tenants permission."
      />
    );
  } else if (error) {
    body = <ResponseErrorPanel error={error} title="Could not load tenants" />;
  } else if (!tenants) {
    body = <Progress />;
  } else {
    body = (
      <Grid container spacing={3}>
        {tenants.length === 0 && (
          <Grid item xs={12}>
            <EmptyState
              missing="data"
              title="No tenants configured"
              description="Tenants are defined in residency.tenants in app-config.yaml."
            />
          </Grid>
        )}
        {/* what needs action first, then the configuration behind it */}
        <Grid item xs={12}>
          <Mismatches tenants={tenants} />
        </Grid>
        {tenants.map(t => (
          <Grid item xs={12} key={t.id}>
            <TenantCard tenant={t} />
          </Grid>
        ))}
      </Grid>
    );
  }
  return (
    <>
      <Typography variant="h5" component="h2" gutterBottom>
        Tenants and mismatches
      </Typography>
      {body}
    </>
  );
}
