import { useState } from 'react';
import {
  Content,
  Header,
  InfoCard,
  Page,
  ProxiedSignInPage,
} from '@backstage/core-components';
import type { SignInPageProps } from '@backstage/core-plugin-api';
import { createFrontendModule } from '@backstage/frontend-plugin-api';
import { SignInPageBlueprint } from '@backstage/plugin-app-react';
import Button from '@material-ui/core/Button';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';

/** The demo users, one per Residency role (see examples/org.yaml and auth.providers.demo). */
export const DEMO_USERS = [
  {
    id: 'guest',
    title: 'Guest',
    role: 'Every role',
    description:
      'Member of developers, auditors, platform owners and the DPO group: sees every view.',
    button: 'Enter',
  },
  {
    id: 'user:default/dana-dev',
    title: 'Dana',
    role: 'Developer',
    description:
      "Sees every service's status; evidence and Refresh only for services her groups own; no tenant review.",
    button: 'Sign in as Dana (developer)',
  },
  {
    id: 'user:default/ali-auditor',
    title: 'Ali',
    role: 'Auditor',
    description:
      'Browses and downloads the evidence of every service, reviews tenants and mismatches; no Refresh.',
    button: 'Sign in as Ali (auditor)',
  },
  {
    id: 'user:default/pat-platform',
    title: 'Pat',
    role: 'Platform owner',
    description:
      'Every Residency action: Refresh, evidence downloads, tenants and mismatches.',
    button: 'Sign in as Pat (platform owner)',
  },
  {
    id: 'user:default/dora-dpo',
    title: 'Dora',
    role: 'Data protection officer',
    description:
      'Approves or rejects exceptions, reads all evidence and tenants, and gets residency alerts of the demo tenants; no Refresh.',
    button: 'Sign in as Dora (data protection officer)',
  },
] as const;

const CHOICE_KEY = 'residency.demoSignIn';
/** Header the backend's demo provider reads (packages/backend/src/demoSignIn.ts). */
const DEMO_USER_HEADER = 'x-residency-demo-user';

function readChoice(): string | undefined {
  try {
    return window.sessionStorage.getItem(CHOICE_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sign-in for local use and the demo: pick the guest (every role) or one demo
 * user per role. The choice is kept for the browser tab, so reloads sign in
 * again as the same user. Production deployments replace this module with
 * their identity provider (see the README's production section).
 */
export function DemoSignInPage(props: SignInPageProps) {
  const [choice, setChoice] = useState<string | undefined>(readChoice);
  if (choice === 'guest') {
    return <ProxiedSignInPage {...props} provider="guest" />;
  }
  if (choice) {
    return (
      <ProxiedSignInPage
        {...props}
        provider="demo"
        headers={{ [DEMO_USER_HEADER]: choice }}
      />
    );
  }
  const choose = (id: string) => {
    try {
      window.sessionStorage.setItem(CHOICE_KEY, id);
    } catch {
      // private mode: the choice lasts until the next reload
    }
    setChoice(id);
  };
  return (
    <Page themeId="home">
      <Header
        title="Residency demo"
        subtitle="Sign in as one of the roles to see what it may see"
      />
      <Content>
        <Grid container spacing={3}>
          {DEMO_USERS.map(user => (
            <Grid item xs={12} sm={6} md={4} key={user.id}>
              <InfoCard
                title={user.title}
                subheader={user.role}
                titleTypographyProps={{ component: 'h2' }}
              >
                <Typography variant="body2" paragraph>
                  {user.description}
                </Typography>
                <Button
                  variant="contained"
                  color="primary"
                  onClick={() => choose(user.id)}
                >
                  {user.button}
                </Button>
              </InfoCard>
            </Grid>
          ))}
        </Grid>
      </Content>
    </Page>
  );
}

const demoSignInPage = SignInPageBlueprint.make({
  params: {
    loader: async () => props => <DemoSignInPage {...props} />,
  },
});

export const signInModule = createFrontendModule({
  pluginId: 'app',
  extensions: [demoSignInPage],
});
