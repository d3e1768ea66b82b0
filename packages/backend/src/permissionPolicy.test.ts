import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import {
  AuthorizeResult,
  createPermission,
  type PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  residencyEvidenceReadPermission,
  residencyRefreshPermission,
  residencyTenantsReadPermission,
} from '@residency-dev/plugin-residency-common';
import { ResidencyRolePolicy, readRoles } from './permissionPolicy';

const catalogRead = createPermission({
  name: 'catalog.entity.read',
  attributes: { action: 'read' },
  resourceType: 'catalog-entity',
});

function policyFor(ownershipEntityRefs: string[]) {
  const userInfo = mockServices.userInfo.mock({
    getUserInfo: async () => ({
      userEntityRef: ownershipEntityRefs[0] ?? 'user:default/nobody',
      ownershipEntityRefs,
    }),
  });
  return new ResidencyRolePolicy({
    roles: readRoles(new ConfigReader({})),
    userInfo,
  });
}

const user = {
  credentials: mockCredentials.user('user:default/someone'),
  info: { userEntityRef: 'user:default/someone', ownershipEntityRefs: [] },
};

async function decide(groups: string[], permission: any): Promise<PolicyDecision> {
  return policyFor(['user:default/someone', ...groups]).handle({ permission }, user);
}

describe('ResidencyRolePolicy', () => {
  it('lets platform owners do everything residency defines', async () => {
    for (const p of [
      residencyEvidenceReadPermission,
      residencyRefreshPermission,
      residencyTenantsReadPermission,
    ]) {
      expect((await decide(['group:default/platform-owners'], p)).result).toBe(
        AuthorizeResult.ALLOW,
      );
    }
  });

  it('lets auditors read evidence and tenants but not refresh', async () => {
    const g = ['group:default/auditors'];
    expect((await decide(g, residencyEvidenceReadPermission)).result).toBe(
      AuthorizeResult.ALLOW,
    );
    expect((await decide(g, residencyTenantsReadPermission)).result).toBe(
      AuthorizeResult.ALLOW,
    );
    expect((await decide(g, residencyRefreshPermission)).result).toBe(
      AuthorizeResult.DENY,
    );
  });

  it('limits developers to the entities their groups own', async () => {
    const g = ['group:default/developers'];
    const evidence = await decide(g, residencyEvidenceReadPermission);
    expect(evidence.result).toBe(AuthorizeResult.CONDITIONAL);
    expect(JSON.stringify(evidence)).toContain('IS_ENTITY_OWNER');
    expect(JSON.stringify(evidence)).toContain('group:default/developers');
    expect((await decide(g, residencyTenantsReadPermission)).result).toBe(
      AuthorizeResult.DENY,
    );
  });

  it('denies residency permissions to users without a role, and to no user at all', async () => {
    expect((await decide([], residencyEvidenceReadPermission)).result).toBe(
      AuthorizeResult.DENY,
    );
    const decision = await policyFor([]).handle({
      permission: residencyRefreshPermission,
    });
    expect(decision.result).toBe(AuthorizeResult.DENY);
  });

  it('leaves catalog permissions alone', async () => {
    expect((await decide([], catalogRead)).result).toBe(AuthorizeResult.ALLOW);
  });

  it('reads role groups from residency.roles', async () => {
    const roles = readRoles(
      new ConfigReader({
        residency: { roles: { auditors: ['group:default/compliance'] } },
      }),
    );
    expect(roles.auditors).toEqual(['group:default/compliance']);
    expect(roles.platformOwners).toEqual(['group:default/platform-owners']);
  });
});
