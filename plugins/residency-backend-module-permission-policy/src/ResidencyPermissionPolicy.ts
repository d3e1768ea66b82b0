import type { UserInfoService } from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import {
  AuthorizeResult,
  isPermission,
  isResourcePermission,
  type PolicyDecision,
} from '@backstage/plugin-permission-common';
import type {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import {
  residencyEvidenceReadPermission,
  residencyExceptionApprovePermission,
  residencyRefreshPermission,
  residencyTenantsReadPermission,
} from '@residency-dev/plugin-residency-common';

/** Catalog group refs behind each role. @public */
export interface ResidencyRoleGroups {
  /** Evidence and refresh of the entities their groups own. */
  developers: string[];
  /** Evidence of every entity, tenants and mismatches; no refresh. */
  auditors: string[];
  /** Every Residency permission. */
  platformOwners: string[];
  /**
   * Data protection officers: approve or reject exceptions (never their own; the
   * backend refuses that whatever the policy says), and everything auditors may.
   */
  dataProtectionOfficers: string[];
}

/** The groups of the demo organisation: developers, auditors, platform-owners, dpo. @public */
export const DEFAULT_ROLE_GROUPS: ResidencyRoleGroups = {
  developers: ['group:default/developers'],
  auditors: ['group:default/auditors'],
  platformOwners: ['group:default/platform-owners'],
  dataProtectionOfficers: ['group:default/dpo'],
};

/**
 * Reads `residency.roles.{developers,auditors,platformOwners,dataProtectionOfficers}`
 * (group refs). @public
 */
export function readRoleGroups(config: Config): ResidencyRoleGroups {
  const roles = config.getOptionalConfig('residency.roles');
  const read = (key: keyof ResidencyRoleGroups) =>
    (roles?.getOptionalStringArray(key) ?? DEFAULT_ROLE_GROUPS[key]).map(g =>
      g.toLocaleLowerCase('en-US'),
    );
  return {
    developers: read('developers'),
    auditors: read('auditors'),
    platformOwners: read('platformOwners'),
    dataProtectionOfficers: read('dataProtectionOfficers'),
  };
}

type Role = 'platformOwner' | 'dpo' | 'auditor' | 'developer' | 'none';

/**
 * Residency's roles, decided from the caller's catalog group memberships:
 * - platform owner: every Residency permission;
 * - data protection officer: approves exceptions, and what auditors may;
 * - auditor: evidence of every entity, tenants and mismatches; no refresh;
 * - developer: evidence and refresh of the entities their groups own.
 * Non-Residency permissions are allowed, so the catalog works as usual.
 *
 * @public
 */
export class ResidencyPermissionPolicy implements PermissionPolicy {
  readonly #groups: ResidencyRoleGroups;
  readonly #userInfo: UserInfoService;

  constructor(options: {
    groups: ResidencyRoleGroups;
    userInfo: UserInfoService;
  }) {
    this.#groups = options.groups;
    this.#userInfo = options.userInfo;
  }

  /** Decides one permission request for one user. */
  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;
    if (!permission.name.startsWith('residency.')) {
      return { result: AuthorizeResult.ALLOW };
    }
    // Service-to-service calls never reach the policy (the permission client
    // allows them); a query without a user is an anonymous one.
    if (!user) {
      return { result: AuthorizeResult.DENY };
    }
    const { ownershipEntityRefs } = await this.#userInfo.getUserInfo(
      user.credentials,
    );
    const role = this.#roleOf(ownershipEntityRefs);

    if (role === 'platformOwner') {
      return { result: AuthorizeResult.ALLOW };
    }
    if (isPermission(permission, residencyExceptionApprovePermission)) {
      return {
        result: role === 'dpo' ? AuthorizeResult.ALLOW : AuthorizeResult.DENY,
      };
    }
    // a data protection officer reviews as an auditor does
    const reviewer = role === 'auditor' || role === 'dpo';
    if (isPermission(permission, residencyTenantsReadPermission)) {
      return {
        result: reviewer ? AuthorizeResult.ALLOW : AuthorizeResult.DENY,
      };
    }
    const ownedOnly = (): PolicyDecision =>
      isResourcePermission(permission, 'catalog-entity')
        ? {
            result: AuthorizeResult.CONDITIONAL,
            pluginId: 'catalog',
            resourceType: 'catalog-entity',
            conditions: {
              rule: 'IS_ENTITY_OWNER',
              resourceType: 'catalog-entity',
              params: { claims: ownershipEntityRefs },
            },
          }
        : { result: AuthorizeResult.DENY };
    if (isPermission(permission, residencyEvidenceReadPermission)) {
      if (reviewer) {
        return { result: AuthorizeResult.ALLOW };
      }
      return role === 'developer'
        ? ownedOnly()
        : { result: AuthorizeResult.DENY };
    }
    if (isPermission(permission, residencyRefreshPermission)) {
      return role === 'developer'
        ? ownedOnly()
        : { result: AuthorizeResult.DENY };
    }
    return { result: AuthorizeResult.DENY };
  }

  #roleOf(ownershipEntityRefs: string[]): Role {
    const refs = new Set(
      ownershipEntityRefs.map(r => r.toLocaleLowerCase('en-US')),
    );
    const inAny = (groups: string[]) => groups.some(g => refs.has(g));
    if (inAny(this.#groups.platformOwners)) return 'platformOwner';
    if (inAny(this.#groups.dataProtectionOfficers)) return 'dpo';
    if (inAny(this.#groups.auditors)) return 'auditor';
    if (inAny(this.#groups.developers)) return 'developer';
    return 'none';
  }
}
