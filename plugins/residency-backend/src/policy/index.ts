export { residencyPermissionPolicyModule } from './module';
export {
  ResidencyPermissionPolicy,
  DEFAULT_ROLE_GROUPS,
  readRoleGroups,
  type ResidencyRoleGroups,
} from './ResidencyPermissionPolicy';
