/**
 * The Residency backend plugin, and a permission policy module with three roles.
 *
 * @packageDocumentation
 */
export { residencyPlugin as default } from './plugin';
export {
  residencyEngineExtensionPoint,
  type ResidencyEngineExtensionPoint,
} from './extensions';
export {
  residencyPermissionPolicyModule,
  ResidencyPermissionPolicy,
  DEFAULT_ROLE_GROUPS,
  readRoleGroups,
  type ResidencyRoleGroups,
} from './policy';
export { residencySchedulerServiceRef } from './scheduler/residencyScheduler';
