import {
  createPermission,
  type ResourcePermission,
} from '@backstage/plugin-permission-common';

/**
 * Read an entity's evidence history and download evidence bundles.
 * A catalog-entity resource permission, so policies can decide per entity.
 *
 * @public
 */
export const residencyEvidenceReadPermission: ResourcePermission<'catalog-entity'> =
  createPermission({
    name: 'residency.evidence.read',
    attributes: { action: 'read' },
    resourceType: 'catalog-entity',
  });

/** Trigger an on-demand refresh of an entity's residency status. @public */
export const residencyRefreshPermission: ResourcePermission<'catalog-entity'> =
  createPermission({
    name: 'residency.refresh',
    attributes: { action: 'update' },
    resourceType: 'catalog-entity',
  });

/** Read tenants, their boundaries and the mapping mismatches. @public */
export const residencyTenantsReadPermission = createPermission({
  name: 'residency.tenants.read',
  attributes: { action: 'read' },
});

/**
 * Approve, reject or revoke an entity's residency exception. Never granted to the
 * requester of the exception itself (checked by the backend, whatever the policy).
 *
 * @public
 */
export const residencyExceptionApprovePermission: ResourcePermission<'catalog-entity'> =
  createPermission({
    name: 'residency.exception.approve',
    attributes: { action: 'update' },
    resourceType: 'catalog-entity',
  });

/** Every permission Residency defines. @public */
export const residencyPermissions = [
  residencyEvidenceReadPermission,
  residencyRefreshPermission,
  residencyTenantsReadPermission,
  residencyExceptionApprovePermission,
];
