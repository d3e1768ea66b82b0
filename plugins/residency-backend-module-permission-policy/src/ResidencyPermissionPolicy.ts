import type { UserInfoService } from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import {
  AuthorizeResult,
  isPermission,
  isResourcePermission,
  type ConditionalPolicyDecision,
  type PermissionCondition,
  type PermissionCriteria,
  type PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
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

type Role = 'platformOwner' | 'dpo' | 'auditor' | 'developer';

/**
 * Residency's roles, decided from the caller's catalog group memberships:
 * - platform owner: every Residency permission;
 * - data protection officer: approves exceptions, and what auditors may;
 * - auditor: evidence of every entity, tenants and mismatches; no refresh;
 * - developer: evidence and refresh of the entities their groups own.
 * A user in several roles holds the union of their permissions: each request is
 * decided for every role the user holds, and is allowed if one role allows it; the
 * conditions of several roles that allow it conditionally combine with `anyOf`.
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
    return unionOfDecisions(
      permission,
      this.#rolesOf(ownershipEntityRefs).map(role =>
        decideFor(role, permission, ownershipEntityRefs),
      ),
    );
  }

  /** Every role the memberships give (none: an empty list, hence DENY). */
  #rolesOf(ownershipEntityRefs: string[]): Role[] {
    const refs = new Set(
      ownershipEntityRefs.map(r => r.toLocaleLowerCase('en-US')),
    );
    const inAny = (groups: string[]) => groups.some(g => refs.has(g));
    const roles: Role[] = [];
    if (inAny(this.#groups.platformOwners)) roles.push('platformOwner');
    if (inAny(this.#groups.dataProtectionOfficers)) roles.push('dpo');
    if (inAny(this.#groups.auditors)) roles.push('auditor');
    if (inAny(this.#groups.developers)) roles.push('developer');
    return roles;
  }
}

/**
 * The decision for a user holding several roles, from each role's decision: allowed
 * if one role allows; else allowed where any role's condition holds (`anyOf`);
 * else denied (also for no role at all).
 */
export function unionOfDecisions(
  permission: PolicyQuery['permission'],
  decisions: readonly PolicyDecision[],
): PolicyDecision {
  if (decisions.some(d => d.result === AuthorizeResult.ALLOW)) {
    return { result: AuthorizeResult.ALLOW };
  }
  const conditional = decisions.filter(
    d => d.result === AuthorizeResult.CONDITIONAL,
  );
  // Only the catalog's entity conditions are given (and can be combined).
  const catalog = conditional.filter(isCatalogConditional);
  if (
    catalog.length === 0 ||
    catalog.length !== conditional.length ||
    !isResourcePermission(permission, 'catalog-entity')
  ) {
    return { result: AuthorizeResult.DENY };
  }
  if (catalog.length === 1) return catalog[0];
  const [first, ...rest] = catalog.map(d => d.conditions);
  return createCatalogConditionalDecision(permission, {
    anyOf: [first, ...rest],
  });
}

/** A conditional decision the catalog evaluates, on its entities. */
function isCatalogConditional(
  d: PolicyDecision,
): d is ConditionalPolicyDecision & {
  conditions: PermissionCriteria<PermissionCondition<'catalog-entity'>>;
} {
  return (
    d.result === AuthorizeResult.CONDITIONAL &&
    d.pluginId === 'catalog' &&
    d.resourceType === 'catalog-entity'
  );
}

/** What one role alone may do with one Residency permission. */
function decideFor(
  role: Role,
  permission: PolicyQuery['permission'],
  ownershipEntityRefs: string[],
): PolicyDecision {
  const allow: PolicyDecision = { result: AuthorizeResult.ALLOW };
  const deny: PolicyDecision = { result: AuthorizeResult.DENY };
  if (role === 'platformOwner') return allow;
  // a data protection officer reviews as an auditor does
  const reviewer = role === 'auditor' || role === 'dpo';
  const ownedOnly = (): PolicyDecision =>
    isResourcePermission(permission, 'catalog-entity')
      ? createCatalogConditionalDecision(
          permission,
          catalogConditions.isEntityOwner({ claims: ownershipEntityRefs }),
        )
      : deny;
  if (isPermission(permission, residencyExceptionApprovePermission)) {
    return role === 'dpo' ? allow : deny;
  }
  if (isPermission(permission, residencyTenantsReadPermission)) {
    return reviewer ? allow : deny;
  }
  if (isPermission(permission, residencyEvidenceReadPermission)) {
    if (reviewer) return allow;
    return role === 'developer' ? ownedOnly() : deny;
  }
  if (isPermission(permission, residencyRefreshPermission)) {
    return role === 'developer' ? ownedOnly() : deny;
  }
  return deny;
}
