/*
 * The registry trust-boundary keys of the configuration (helper `source`): kept in
 * their own file so the configuration loader's own tests can move independently.
 */
import { configReaderFromObject, loadResidencySettings } from './config';
import { ResidencyConfigError } from './errors';
import { residencyConfig } from './__testUtils__/world';

function load(residency: unknown) {
  return loadResidencySettings(
    configReaderFromObject({ residency }, { env: {} }),
  );
}

function registry(extra: Record<string, unknown>) {
  return residencyConfig({
    registries: [
      { host: 'registry.eu.example.com', region: 'eusc-de-east-1', ...extra },
    ],
  });
}

describe('registry trust boundaries in configuration', () => {
  it('tokenRealms and blobHosts are read as exact origins', () => {
    const s = load(
      registry({
        tokenRealms: ['https://auth.eu.example.com:8443'],
        blobHosts: ['https://bucket.s3.eusc-de-east-1.amazonaws.com/'],
      }),
    );
    expect(s.registries[0].tokenRealms).toEqual([
      'https://auth.eu.example.com:8443',
    ]);
    expect(s.registries[0].blobHosts).toEqual([
      'https://bucket.s3.eusc-de-east-1.amazonaws.com',
    ]);
  });

  it.each([
    ['a plain-http origin', 'http://auth.eu.example.com'],
    ['a URL with a path', 'https://auth.eu.example.com/token'],
    ['userinfo', 'https://u:p@auth.eu.example.com'],
    ['not a URL', 'auth.eu.example.com'],
  ])(
    'attack: %s as a token realm or blob host -> registry_invalid',
    (_n, v) => {
      for (const key of ['tokenRealms', 'blobHosts']) {
        let err: unknown;
        try {
          load(registry({ [key]: [v] }));
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(ResidencyConfigError);
        expect((err as ResidencyConfigError).code).toBe('registry_invalid');
        expect((err as Error).message).toContain(key);
      }
    },
  );

  it('limits.imageTimeoutSeconds defaults to 120 and is read', () => {
    expect(load(registry({})).limits.imageTimeoutSeconds).toBe(120);
    expect(
      load({ ...registry({}), limits: { imageTimeoutSeconds: 30 } }).limits
        .imageTimeoutSeconds,
    ).toBe(30);
  });
});
