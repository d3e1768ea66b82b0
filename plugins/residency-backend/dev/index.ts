/*
 * A standalone backend for developing this plugin: catalog, permissions with the
 * Residency policy, and the plugin. `npx backstage-cli package start --config dev/app-config.yaml`
 */
import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@backstage/plugin-permission-backend'));
backend.add(
  import('@residency-dev/plugin-permission-backend-module-residency-policy'),
);
backend.add(import('../src'));
backend.start();
