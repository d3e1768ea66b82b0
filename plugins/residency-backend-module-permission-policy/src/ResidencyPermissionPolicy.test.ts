import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import {
  AuthorizeResult,
  createPermission,
} from '@backstage/plugin-permission-common';
import {
  residencyEvidenceReadPermission,
  residencyExceptionApprovePermission,
  residencyRefreshPermission,
  residencyTenantsReadPermission,
} from '@residency-dev/plugin-residency-common';
import {
  DEFAULT_ROLE_GROUPS,
  ResidencyPermissionPolicy,
  readRoleGroups,
} from './ResidencyPermissionPolicy';

const catalogRead = createPermission({
  name: 'catalog.entity.read',
  attributes: { action: 'read' },
  resourceType: 'catalog-entity',
});

function policyFor(groups: string[]) {
  const user = 'user:default/someone';
  const policy = new ResidencyPermissionPolicy({
    groups: DEFAULT_ROLE_GROUPS,
    userInfo: mockServices.userInfo({
      userEntityRef: user,
      ownershipEntityRefs: [user, ...groups],
    }),
  });
  const ask = (permission: any) =>
    policy.handle(
      { permission },
      { credentials: mockCredentials.user(user), info: {} as any },
    );
  return ask;
}

describe('ResidencyPermissionPolicy', () => {
  it('lets platform owners do everything', async () => {
    const ask = policyFor(['group:default/platform-owners']);
    for (const p of [
      residencyEvidenceReadPermission,
      residencyRefreshPermission,
      residencyTenantsReadPermission,
    ]) {
      await expect(ask(p)).resolves.toEqual({ result: AuthorizeResult.ALLOW });
    }
  });

  it('lets auditors read all evidence and tenants, but not refresh', async () => {
    const ask = policyFor(['group:default/auditors']);
    await expect(ask(residencyEvidenceReadPermission)).resolves.toEqual({
      result: AuthorizeResult.ALLOW,
    });
    await expect(ask(residencyTenantsReadPermission)).resolves.toEqual({
      result: AuthorizeResult.ALLOW,
    });
    await expect(ask(residencyRefreshPermission)).resolves.toEqual({
      result: AuthorizeResult.DENY,
    });
  });

  it('lets data protection officers approve exceptions and review as auditors, not refresh', async () => {
    const ask = policyFor(['group:default/dpo']);
    for (const p of [
      residencyExceptionApprovePermission,
      residencyEvidenceReadPermission,
      residencyTenantsReadPermission,
    ]) {
      await expect(ask(p)).resolves.toEqual({ result: AuthorizeResult.ALLOW });
    }
    await expect(ask(residencyRefreshPermission)).resolves.toEqual({
      result: AuthorizeResult.DENY,
    });
  });

  it('lets only platform owners and data protection officers approve exceptions', async () => {
    for (const group of ['auditors', 'developers', 'marketing']) {
      const ask = policyFor([`group:default/${group}`]);
      await expect(ask(residencyExceptionApprovePermission)).resolves.toEqual({
        result: AuthorizeResult.DENY,
      });
    }
    await expect(
      policyFor(['group:default/platform-owners'])(
        residencyExceptionApprovePermission,
      ),
    ).resolves.toEqual({ result: AuthorizeResult.ALLOW });
  });

  it('limits developers to the entities their groups own', async () => {
    const ask = policyFor(['group:default/developers']);
    const evidence = await ask(residencyEvidenceReadPermission);
    expect(evidence).toEqual({
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'catalog',
      resourceType: 'catalog-entity',
      conditions: {
        rule: 'IS_ENTITY_OWNER',
        resourceType: 'catalog-entity',
        params: {
          claims: ['user:default/someone', 'group:default/developers'],
        },
      },
    });
    await expect(ask(residencyRefreshPermission)).resolves.toMatchObject({
      result: AuthorizeResult.CONDITIONAL,
    });
    await expect(ask(residencyTenantsReadPermission)).resolves.toEqual({
      result: AuthorizeResult.DENY,
    });
  });

  it('denies anonymous queries', async () => {
    const policy = new ResidencyPermissionPolicy({
      groups: DEFAULT_ROLE_GROUPS,
      userInfo: mockServices.userInfo(),
    });
    await expect(
      policy.handle({ permission: residencyTenantsReadPermission }),
    ).resolves.toEqual({
      result: AuthorizeResult.DENY,
    });
  });

  it('denies Residency to users without a role and leaves other permissions alone', async () => {
    const ask = policyFor(['group:default/marketing']);
    await expect(ask(residencyEvidenceReadPermission)).resolves.toEqual({
      result: AuthorizeResult.DENY,
    });
    await expect(ask(residencyRefreshPermission)).resolves.toEqual({
      result: AuthorizeResult.DENY,
    });
    await expect(ask(catalogRead)).resolves.toEqual({
      result: AuthorizeResult.ALLOW,
    });
  });

  it('reads the role groups from configuration', () => {
    expect(
      readRoleGroups(
        new ConfigReader({
          residency: { roles: { auditors: ['group:default/Compliance'] } },
        }),
      ),
    ).toEqual({
      ...DEFAULT_ROLE_GROUPS,
      auditors: ['group:default/compliance'],
    });
  });
});
