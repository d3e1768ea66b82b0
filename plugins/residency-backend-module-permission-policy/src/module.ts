import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import {
  ResidencyPermissionPolicy,
  readRoleGroups,
} from './ResidencyPermissionPolicy';

/**
 * Installs {@link ResidencyPermissionPolicy} as the permission backend's policy.
 *
 * @public
 */
export const residencyPermissionPolicyModule = createBackendModule({
  pluginId: 'permission',
  moduleId: 'residency-policy',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        userInfo: coreServices.userInfo,
        policy: policyExtensionPoint,
      },
      async init({ config, userInfo, policy }) {
        policy.setPolicy(
          new ResidencyPermissionPolicy({
            groups: readRoleGroups(config),
            userInfo,
          }),
        );
      },
    });
  },
});
