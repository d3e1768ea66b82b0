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
  unionOfDecisions,
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

  it('gives a user in several roles the union of their permissions', async () => {
    const owned = (groups: string[]) => ({
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'catalog',
      resourceType: 'catalog-entity',
      conditions: {
        rule: 'IS_ENTITY_OWNER',
        resourceType: 'catalog-entity',
        params: { claims: ['user:default/someone', ...groups] },
      },
    });
    // A data protection officer who is also a developer refreshes (and requests
    // exceptions for) the services their groups own, and still does DPO things.
    const dpoDev = ['group:default/dpo', 'group:default/developers'];
    for (const groups of [dpoDev, [...dpoDev].reverse()]) {
      const ask = policyFor(groups);
      await expect(ask(residencyRefreshPermission)).resolves.toEqual(
        owned(groups),
      );
      for (const p of [
        residencyExceptionApprovePermission,
        residencyEvidenceReadPermission,
        residencyTenantsReadPermission,
      ]) {
        await expect(ask(p)).resolves.toEqual({
          result: AuthorizeResult.ALLOW,
        });
      }
    }
    // An auditor who is also a developer: refresh of owned entities, no approval.
    const auditorDev = policyFor([
      'group:default/auditors',
      'group:default/developers',
    ]);
    await expect(auditorDev(residencyRefreshPermission)).resolves.toMatchObject(
      { result: AuthorizeResult.CONDITIONAL },
    );
    await expect(
      auditorDev(residencyExceptionApprovePermission),
    ).resolves.toEqual({ result: AuthorizeResult.DENY });
    await expect(auditorDev(residencyEvidenceReadPermission)).resolves.toEqual({
      result: AuthorizeResult.ALLOW,
    });
    // A plain DPO, or a DPO who is also an auditor, still refreshes nothing.
    for (const groups of [
      ['group:default/dpo'],
      ['group:default/dpo', 'group:default/auditors'],
    ]) {
      await expect(
        policyFor(groups)(residencyRefreshPermission),
      ).resolves.toEqual({ result: AuthorizeResult.DENY });
    }
  });

  it('grants no one a permission that none of their roles grants', async () => {
    const roles = {
      platformOwners: 'group:default/platform-owners',
      dataProtectionOfficers: 'group:default/dpo',
      auditors: 'group:default/auditors',
      developers: 'group:default/developers',
    };
    const permissions = [
      residencyEvidenceReadPermission,
      residencyRefreshPermission,
      residencyTenantsReadPermission,
      residencyExceptionApprovePermission,
    ];
    const rank = {
      [AuthorizeResult.DENY]: 0,
      [AuthorizeResult.CONDITIONAL]: 1,
      [AuthorizeResult.ALLOW]: 2,
    } as Record<string, number>;
    const groups = Object.values(roles);
    const conditional: { held: string[]; together: unknown }[] = [];
    // Every combination of roles (the 15 non-empty subsets).
    for (let mask = 1; mask < 1 << groups.length; mask++) {
      const held = groups.filter((_, i) => mask & (1 << i));
      for (const p of permissions) {
        const alone = await Promise.all(held.map(g => policyFor([g])(p)));
        const together = await policyFor(held)(p);
        const best = Math.max(...alone.map(d => rank[d.result]));
        // as good as the best single role, never better
        expect({ held, p: p.name, r: rank[together.result] }).toEqual({
          held,
          p: p.name,
          r: best,
        });
        if (together.result === AuthorizeResult.CONDITIONAL)
          conditional.push({ held, together });
      }
    }
    // Conditional only for owners of the entity, with the claims of the user.
    expect(conditional.length).toBeGreaterThan(0);
    for (const { held, together } of conditional) {
      expect(together).toMatchObject({
        pluginId: 'catalog',
        resourceType: 'catalog-entity',
        conditions: {
          rule: 'IS_ENTITY_OWNER',
          params: { claims: ['user:default/someone', ...held] },
        },
      });
    }
  });

  it('combines the conditions of several roles with anyOf', () => {
    const owner = (claims: string[]) =>
      ({
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'catalog',
        resourceType: 'catalog-entity',
        conditions: {
          rule: 'IS_ENTITY_OWNER',
          resourceType: 'catalog-entity',
          params: { claims },
        },
      } as const);
    const a = owner(['group:default/team-a']);
    const b = owner(['group:default/team-b']);
    const deny = { result: AuthorizeResult.DENY } as const;
    const allow = { result: AuthorizeResult.ALLOW } as const;
    const refresh = residencyRefreshPermission;
    expect(unionOfDecisions(refresh, [a, deny, b])).toEqual({
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'catalog',
      resourceType: 'catalog-entity',
      conditions: { anyOf: [a.conditions, b.conditions] },
    });
    expect(unionOfDecisions(refresh, [deny, a])).toEqual(a);
    expect(unionOfDecisions(refresh, [a, allow])).toEqual(allow);
    expect(unionOfDecisions(refresh, [deny, deny])).toEqual(deny);
    expect(unionOfDecisions(refresh, [])).toEqual(deny);
    // Conditions of another plugin cannot be combined with the catalog's: denied.
    expect(unionOfDecisions(refresh, [a, { ...b, pluginId: 'other' }])).toEqual(
      deny,
    );
    // A permission without the entity resource is never conditional.
    expect(unionOfDecisions(residencyTenantsReadPermission, [a])).toEqual(deny);
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
