/*
 * Issue 12 ("Also"): the backend and the CLI behave the same on the same
 * configuration. Backstage's loader drops a value whose ${VAR} is unset; the plugin
 * must refuse to start, naming the path and the variable, as `residency verify` does.
 * Real app-config files, read by Backstage's own root config service.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSources } from '@backstage/config-loader';
import { rootConfigServiceFactory } from '@backstage/backend-defaults/rootConfig';
import {
  mockCredentials,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import request from 'supertest';
import { residencyPlugin } from './plugin';
import { schedulerFromCoreServices } from './__testUtils__/harness';
import { findDroppedResidencyValues } from './unsetVariables';

jest.setTimeout(60_000);

const UNSET = 'RESIDENCY_TEST_UNSET_TOKEN_12';
const SET = 'RESIDENCY_TEST_SET_HOST_12';

describe('an unset ${VAR} in residency: (issue 12, backend and CLI agree)', () => {
  let dir: string;
  const argvFor = (file: string) => ['node', 'backend', '--config', file];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'residency-unset-'));
    delete process.env[UNSET];
    process.env[SET] = 'registry.eu.example';
    writeFileSync(
      join(dir, 'unset.yaml'),
      `backend:
  baseUrl: http://localhost:7007
residency:
  boundaries: { eusc: [eusc-de-east-1] }
  registries:
    - host: \${${SET}}
      region: eusc-de-east-1
      credentials:
        token: \${${UNSET}}
  tenants:
    eu: { boundary: eusc, allowedHosts: ['\${${UNSET}:-git.eu.example}'] }
`,
    );
    writeFileSync(
      join(dir, 'ok.yaml'),
      `residency:
  boundaries: { eusc: [eusc-de-east-1] }
  registries:
    - host: \${${SET}}
      region: eusc-de-east-1
  tenants:
    eu: { boundary: eusc, allowedHosts: ['\${${UNSET}:-git.eu.example}'] }
`,
    );
  });
  afterAll(() => {
    delete process.env[SET];
    rmSync(dir, { recursive: true, force: true });
  });

  it("Backstage's own loader drops the value silently (the behaviour we guard against)", async () => {
    const config = await ConfigSources.toConfig(
      ConfigSources.default({ argv: argvFor(join(dir, 'unset.yaml')) }),
    );
    try {
      expect(config.getOptional('residency.registries')).toEqual([
        {
          host: 'registry.eu.example',
          region: 'eusc-de-east-1',
          credentials: {},
        },
      ]);
    } finally {
      config.close();
    }
  });

  it('finds the dropped value with its path and variable; a fallback or a set variable is not reported', async () => {
    const argv = argvFor(join(dir, 'unset.yaml'));
    const config = await ConfigSources.toConfig(
      ConfigSources.default({ argv }),
    );
    try {
      expect(await findDroppedResidencyValues({ config, argv })).toEqual([
        { path: 'residency.registries[0].credentials.token', names: [UNSET] },
      ]);
      // Once the variable is set nothing is missing.
      const env: Record<string, string | undefined> = {
        ...process.env,
        [UNSET]: 't0ken',
      };
      const full = await ConfigSources.toConfig(
        ConfigSources.default({
          argv,
          substitutionFunc: async n => env[n]?.trim(),
        }),
      );
      try {
        expect(
          await findDroppedResidencyValues({ config: full, argv, env }),
        ).toEqual([]);
      } finally {
        full.close();
      }
    } finally {
      config.close();
    }
  });

  it('also finds $env references and array elements that Backstage removes', async () => {
    const file = join(dir, 'env.yaml');
    writeFileSync(
      file,
      `residency:
  registries:
    - host: registry.eu.example
      region: eusc-de-east-1
      credentials:
        username: robot
        password: { $env: ${UNSET} }
  tenants:
    eu: { boundary: eusc, allowedHosts: ['\${${UNSET}}', git.eu.example] }
`,
    );
    const argv = argvFor(file);
    const config = await ConfigSources.toConfig(
      ConfigSources.default({ argv }),
    );
    try {
      expect(config.getOptional('residency.tenants.eu.allowedHosts')).toEqual([
        'git.eu.example',
      ]);
      expect(await findDroppedResidencyValues({ config, argv })).toEqual([
        {
          path: 'residency.registries[0].credentials.password',
          names: [UNSET],
        },
        { path: 'residency.tenants.eu.allowedHosts[0]', names: [UNSET] },
      ]);
    } finally {
      config.close();
    }
  });

  async function start(file: string) {
    const saved = process.argv;
    process.argv = argvFor(file);
    try {
      return await startTestBackend({
        features: [
          residencyPlugin,
          rootConfigServiceFactory,
          catalogServiceMock.factory({ entities: [] }),
          schedulerFromCoreServices,
        ],
      });
    } finally {
      process.argv = saved;
    }
  }

  it('the plugin refuses to start, naming the path and the variable', async () => {
    await expect(start(join(dir, 'unset.yaml'))).rejects.toThrow(
      `residency.registries[0].credentials.token: environment variable ${UNSET} is not set`,
    );
  });

  it('the same configuration with every variable set or defaulted starts', async () => {
    const backend = await start(join(dir, 'ok.yaml'));
    try {
      // The plugin is mounted: its API answers (401 without credentials).
      const res = await request(backend.server)
        .get('/api/residency/tenants')
        .set('Authorization', mockCredentials.none.header());
      expect(res.status).toBe(401);
    } finally {
      await backend.stop();
    }
  });
});
