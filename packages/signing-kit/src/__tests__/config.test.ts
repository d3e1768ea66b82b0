import { ResidencyConfigBuilder } from '../config';

describe('ResidencyConfigBuilder (one builder for tests, bench, demo and e2e)', () => {
  it('builds the residency: block in config.d.ts shape; each build is a fresh copy', () => {
    const b = ResidencyConfigBuilder.create()
      .boundary('eu', ['eusc-de-east-1'])
      .registry({ host: 'r.example', region: 'eusc-de-east-1' })
      .layout('/tmp/oci', 'eusc-de-east-1')
      .key({ id: 'k', region: 'eusc-de-east-1', publicKeyFile: 'k.pem' })
      .tenant('t', { boundary: 'eu', require: ['signature'] })
      .limits({ imagesPerEntity: 3 })
      .backend({ revalidateAfter: { minutes: 30 } });
    const first = b.build();
    expect(first).toEqual({
      boundaries: { eu: ['eusc-de-east-1'] },
      registries: [{ host: 'r.example', region: 'eusc-de-east-1' }],
      layouts: [{ path: '/tmp/oci', region: 'eusc-de-east-1' }],
      keys: [{ id: 'k', region: 'eusc-de-east-1', publicKeyFile: 'k.pem' }],
      tenants: { t: { boundary: 'eu', require: ['signature'] } },
      limits: { imagesPerEntity: 3 },
      revalidateAfter: { minutes: 30 },
    });
    first.tenants.t.require!.push('sbom');
    expect(b.build().tenants.t.require).toEqual(['signature']);
  });
});
