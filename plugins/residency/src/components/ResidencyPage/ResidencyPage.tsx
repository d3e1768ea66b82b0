import { useEffect, useState } from 'react';
import { Content, Header, Page } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import Box from '@material-ui/core/Box';
import Tab from '@material-ui/core/Tab';
import Tabs from '@material-ui/core/Tabs';
import {
  residencyTenantsReadPermission,
  type Mismatch,
  type TenantSummary,
} from '@residency-dev/plugin-residency-common';
import { residencyApiRef } from '../../api';
import { OverviewTab } from './OverviewTab';
import { ServicesTab } from './ServicesTab';
import { TenantsTab } from './TenantsTab';

const TABS = [
  { id: 'overview', label: 'Overview' },
  { id: 'services', label: 'Services' },
  { id: 'tenants', label: 'Tenants & mismatches' },
] as const;

type TabId = (typeof TABS)[number]['id'];

/** The tabs of the Residency page, without the page header. */
export function ResidencyPageContent(props: { initialTab?: TabId }) {
  const api = useApi(residencyApiRef);
  const [tab, setTab] = useState<TabId>(props.initialTab ?? 'overview');
  const permission = usePermission({
    permission: residencyTenantsReadPermission,
  });
  const [tenants, setTenants] = useState<{
    items?: TenantSummary[];
    mismatches?: Mismatch[];
    error?: Error;
  }>({});

  useEffect(() => {
    if (!permission.allowed) {
      return undefined;
    }
    let cancelled = false;
    Promise.all([api.listTenants(), api.listMismatches()]).then(
      ([t, m]) =>
        !cancelled && setTenants({ items: t.items, mismatches: m.items }),
      error => !cancelled && setTenants({ error }),
    );
    return () => {
      cancelled = true;
    };
  }, [api, permission.allowed]);

  const tenantsAllowed = !permission.loading && permission.allowed;
  return (
    <>
      <Box mb={2}>
        <Tabs
          value={tab}
          onChange={(_, value) => setTab(value)}
          aria-label="Residency views"
          indicatorColor="primary"
          textColor="primary"
        >
          {TABS.map(t => (
            <Tab
              key={t.id}
              value={t.id}
              label={t.label}
              id={`residency-tab-${t.id}`}
              aria-controls={`residency-tabpanel-${t.id}`}
            />
          ))}
        </Tabs>
      </Box>
      <div
        role="tabpanel"
        id={`residency-tabpanel-${tab}`}
        aria-labelledby={`residency-tab-${tab}`}
      >
        {tab === 'overview' && (
          <OverviewTab
            tenants={tenants.items}
            mismatches={tenants.mismatches}
            tenantsError={tenants.error}
            tenantsAllowed={tenantsAllowed}
          />
        )}
        {tab === 'services' && (
          <ServicesTab tenants={(tenants.items ?? []).map(t => t.id)} />
        )}
        {tab === 'tenants' && (
          <TenantsTab
            tenants={tenants.items}
            error={tenants.error}
            allowed={permission.loading || permission.allowed}
          />
        )}
      </div>
    </>
  );
}

/**
 * The Residency page for platform owners and auditors.
 *
 * @public
 */
export function ResidencyPage(props: { hideHeader?: boolean } = {}) {
  if (props.hideHeader) {
    return (
      <Content>
        <ResidencyPageContent />
      </Content>
    );
  }
  return (
    <Page themeId="tool">
      <Header
        title="Residency"
        subtitle="Where your services' container images are proven to stay"
      />
      <Content>
        <ResidencyPageContent />
      </Content>
    </Page>
  );
}
