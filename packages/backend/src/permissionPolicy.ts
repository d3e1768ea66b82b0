/*
 * Residency's permission policy: three roles mapped from catalog groups.
 *
 * - platform owners: everything, including tenants and mismatches, and refresh;
 * - auditors: read and download evidence of every entity, read tenants; no refresh;
 * - developers: evidence and refresh for the entities their groups own.
 *
 * Everything that is not a Residency permission (catalog reads, ...) is allowed,
 * so the catalog keeps working as in a stock Backstage app. The group refs are
 * configurable under `residency.roles` so a company maps its own groups.
 */
import {
  coreServices,
  createBackendModule,
  type UserInfoService,
} from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import {
  AuthorizeResult,
  isPermission,
  type PolicyDecision,
} from '@backstage/plugin-permission-common';
import type {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import {
  residencyEvidenceReadPermission,
  residencyRefreshPermission,
  residencyTenantsReadPermission,
} from '@residency-dev/plugin-residency-common';

/** Group refs that make up each role. */
export interface ResidencyRoles {
  platformOwners: string[];
  auditors: string[];
  developers: string[];
}

export const DEFAULT_ROLES: ResidencyRoles = {
  platformOwners: ['group:default/platform-owners'],
  auditors: ['group:default/auditors'],
  developers: ['group:default/developers'],
};

export function readRoles(config: Config): ResidencyRoles {
  const roles = config.getOptionalConfig('residency.roles');
  return {
    platformOwners:
      roles?.getOptionalStringArray('platformOwners') ??
      DEFAULT_ROLES.platformOwners,
    auditors: roles?.getOptionalStringArray('auditors') ?? DEFAULT_ROLES.auditors,
    developers:
      roles?.getOptionalStringArray('developers') ?? DEFAULT_ROLES.developers,
  };
}

const ALLOW: PolicyDecision = { result: AuthorizeResult.ALLOW };
const DENY: PolicyDecision = { result: AuthorizeResult.DENY };

export class ResidencyRolePolicy implements PermissionPolicy {
  constructor(
    private readonly options: { roles: ResidencyRoles; userInfo: UserInfoService },
  ) {}

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;
    const isResidency = permission.name.startsWith('residency.');
    if (!isResidency) {
      return ALLOW;
    }
    if (!user) {
      return DENY;
    }
    const { ownershipEntityRefs } = await this.options.userInfo.getUserInfo(
      user.credentials,
    );
    const has = (groups: string[]) =>
      ownershipEntityRefs.some(ref => groups.includes(ref.toLocaleLowerCase('en-US')));
    const { roles } = this.options;

    if (has(roles.platformOwners)) {
      return ALLOW;
    }
    if (isPermission(permission, residencyTenantsReadPermission)) {
      return has(roles.auditors) ? ALLOW : DENY;
    }
    if (isPermission(permission, residencyEvidenceReadPermission)) {
      if (has(roles.auditors)) {
        return ALLOW;
      }
      if (has(roles.developers)) {
        return createCatalogConditionalDecision(
          permission,
          catalogConditions.isEntityOwner({ claims: ownershipEntityRefs }),
        );
      }
      return DENY;
    }
    if (isPermission(permission, residencyRefreshPermission)) {
      if (has(roles.developers)) {
        return createCatalogConditionalDecision(
          permission,
          catalogConditions.isEntityOwner({ claims: ownershipEntityRefs }),
        );
      }
      return DENY;
    }
    return DENY;
  }
}

/** Installs {@link ResidencyRolePolicy} as the permission policy. */
export const residencyPermissionPolicyModule = createBackendModule({
  pluginId: 'permission',
  moduleId: 'residency-role-policy',
  register(reg) {
    reg.registerInit({
      deps: {
        policy: policyExtensionPoint,
        config: coreServices.rootConfig,
        userInfo: coreServices.userInfo,
      },
      async init({ policy, config, userInfo }) {
        policy.setPolicy(
          new ResidencyRolePolicy({ roles: readRoles(config), userInfo }),
        );
      },
    });
  },
});
