/**
 * The Residency backend plugin.
 *
 * @packageDocumentation
 */
export { residencyPlugin as default } from './plugin';
export {
  residencyEngineExtensionPoint,
  type ResidencyEngineExtensionPoint,
} from './extensions';
