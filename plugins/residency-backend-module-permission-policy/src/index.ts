/**
 * A permission policy module for the Backstage permission backend with Residency's three
 * roles (developers, auditors, platform owners), decided from catalog group memberships.
 *
 * @packageDocumentation
 */
export { residencyPermissionPolicyModule as default } from './module';
export {
  ResidencyPermissionPolicy,
  DEFAULT_ROLE_GROUPS,
  readRoleGroups,
  type ResidencyRoleGroups,
} from './ResidencyPermissionPolicy';
