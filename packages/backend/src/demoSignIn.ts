/*
 * Demo sign-in as one of a fixed list of catalog users, one per Residency role
 * (developer, auditor, platform owner, data protection officer), so each role's
 * view can be tried; a user in several groups holds the union of their roles.
 * The browser names the user in the `x-residency-demo-user` header; only users
 * listed in `auth.providers.demo.users` are accepted, and the user's groups come
 * from the catalog (memberOf), so the permission policy sees the real roles.
 * Like the guest provider it refuses to run outside development unless
 * `dangerouslyAllowOutsideDevelopment` is set: anyone can pick any listed user.
 */
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  authProvidersExtensionPoint,
  createProxyAuthProviderFactory,
  createProxyAuthenticator,
  type ProxyAuthenticator,
} from '@backstage/plugin-auth-node';
import { InputError, NotAllowedError } from '@backstage/errors';

/** The header that names the demo user to sign in as. */
export const DEMO_USER_HEADER = 'x-residency-demo-user';

type DemoContext = { users: Set<string>; allowed: boolean };

export const demoAuthenticator = createProxyAuthenticator<
  DemoContext,
  { userEntityRef: string },
  undefined
>({
  defaultProfileTransform: async () => ({ profile: {} }),
  initialize({ config }) {
    return {
      users: new Set(config.getOptionalStringArray('users') ?? []),
      allowed:
        process.env.NODE_ENV === 'development' ||
        config.getOptionalBoolean('dangerouslyAllowOutsideDevelopment') ===
          true,
    };
  },
  async authenticate({ req }, ctx) {
    if (!ctx.allowed) {
      throw new NotAllowedError(
        'The demo sign-in is disabled outside development unless auth.providers.demo.dangerouslyAllowOutsideDevelopment is true',
      );
    }
    const user = req.header(DEMO_USER_HEADER);
    if (!user) {
      throw new InputError(`Missing the ${DEMO_USER_HEADER} header`);
    }
    if (!ctx.users.has(user)) {
      throw new NotAllowedError(
        `${user} is not one of the demo users in auth.providers.demo.users`,
      );
    }
    return { result: { userEntityRef: user } };
  },
});

/** Registers the `demo` auth provider. */
export const demoSignInModule = createBackendModule({
  pluginId: 'auth',
  moduleId: 'residency-demo-provider',
  register(reg) {
    reg.registerInit({
      deps: {
        providers: authProvidersExtensionPoint,
        config: coreServices.rootConfig,
      },
      async init({ providers, config }) {
        if (!config.has('auth.providers.demo')) {
          return;
        }
        providers.registerProvider({
          providerId: 'demo',
          factory: createProxyAuthProviderFactory<{ userEntityRef: string }>({
            // the factory types the context as unknown; initialize() creates it
            authenticator: demoAuthenticator as ProxyAuthenticator<
              unknown,
              { userEntityRef: string },
              unknown
            >,
            // The catalog user's memberOf gives the groups, hence the roles.
            signInResolver: async ({ result }, ctx) =>
              ctx.signInWithCatalogUser({ entityRef: result.userEntityRef }),
          }),
        });
      },
    });
  },
});
