import {
  declaresResidency,
  readResidencyAnnotations,
  readResidencyInputs,
  splitImagesAnnotation,
} from './entity';

const entity = (annotations: Record<string, string>) => ({
  kind: 'Component',
  metadata: { name: 'shop', title: 'Shop', annotations },
});

describe('entity -> residency inputs (one rule for backend, CLI and frontend)', () => {
  it('reads images, tenant and declared region; blank annotations count as absent', () => {
    const e = entity({
      'residency.dev/images': 'a.example/x:1,\n b.example/y@sha256:00 ,',
      'residency.dev/tenant': ' acme-eu ',
      'residency.dev/region': '  ',
    });
    expect(readResidencyInputs(e)).toEqual({
      entityRef: 'component:default/shop',
      title: 'Shop',
      images: ['a.example/x:1', 'b.example/y@sha256:00'],
      tenant: 'acme-eu',
    });
  });

  it('an entity without images, or with a blank images annotation, declares nothing', () => {
    expect(declaresResidency(entity({}))).toBe(false);
    expect(declaresResidency(entity({ 'residency.dev/images': ' \n ' }))).toBe(
      false,
    );
    expect(readResidencyInputs(entity({}))).toBeUndefined();
    // A list of only separators is declared (and decided invalid: no images).
    expect(
      readResidencyInputs(entity({ 'residency.dev/images': ',' })),
    ).toMatchObject({ images: [] });
    expect(readResidencyAnnotations(entity({})).images).toEqual([]);
    expect(splitImagesAnnotation(undefined)).toEqual([]);
  });
});
