/**
 * The Residency backend plugin. Its permission policy with three roles is the separate
 * package `@residency-dev/plugin-permission-backend-module-residency-policy`.
 *
 * @packageDocumentation
 */
export { residencyPlugin as default } from './plugin';
export {
  residencyEngineExtensionPoint,
  type ResidencyEngineExtensionPoint,
} from './extensions';
export { residencySchedulerServiceRef } from './scheduler/residencyScheduler';
