import { useSearchParams } from 'react-router-dom';
import useAsync from 'react-use/esm/useAsync';
import { Content, Header, Page } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import Box from '@material-ui/core/Box';
import Tab from '@material-ui/core/Tab';
import Tabs from '@material-ui/core/Tabs';
import { makeStyles } from '@material-ui/core/styles';
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

// Backstage's tab style paints a near-white hover background (lighten(link, 0.95))
// and MUI a pulsating focus ripple in the text colour: in the dark theme the
// selected tab under the mouse or keyboard focus became light text on a light box.
// Hover and focus use the theme's action colours and an outline instead.
const useTabStyles = makeStyles(theme => ({
  tab: {
    '&:hover': {
      backgroundColor: theme.palette.action.hover,
      color: theme.palette.text.primary,
    },
    '&.Mui-focusVisible': {
      outline: `2px solid ${theme.palette.primary.main}`,
      outlineOffset: -2,
      backgroundColor: theme.palette.action.focus,
      color: theme.palette.text.primary,
    },
  },
}));

/** The tabs of the Residency page, without the page header. */
export function ResidencyPageContent(props: { initialTab?: TabId }) {
  const api = useApi(residencyApiRef);
  // The selected tab lives in the URL (?tab=services) so reloads and shared links keep it.
  const [searchParams, setSearchParams] = useSearchParams();
  const fromUrl = searchParams.get('tab');
  const tab: TabId = TABS.some(t => t.id === fromUrl)
    ? (fromUrl as TabId)
    : props.initialTab ?? 'overview';
  const setTab = (next: TabId) => {
    const params = new URLSearchParams(searchParams);
    params.set('tab', next);
    setSearchParams(params);
  };
  const permission = usePermission({
    permission: residencyTenantsReadPermission,
  });
  const loaded = useAsync(async () => {
    if (!permission.allowed) {
      return undefined;
    }
    const [t, m] = await Promise.all([api.listTenants(), api.listMismatches()]);
    return { items: t.items, mismatches: m.items };
  }, [api, permission.allowed]);
  const tenants: {
    items?: TenantSummary[];
    mismatches?: Mismatch[];
    error?: Error;
  } = loaded.error ? { error: loaded.error } : loaded.value ?? {};

  const tenantsAllowed = !permission.loading && permission.allowed;
  const tabClasses = useTabStyles();
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
              className={tabClasses.tab}
              disableFocusRipple
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
