import { REASON_ADVICE, reasonAdvice } from './reasons';

describe('reasonAdvice', () => {
  it('names the attestation kind in the command for a missing SBOM (not slsaprovenance)', () => {
    const advice = reasonAdvice('attestation_missing:sbom');
    expect(advice).toContain('--type cyclonedx');
    expect(advice).not.toContain('slsaprovenance');
  });

  it('names slsaprovenance for missing provenance and the residency predicate for residency', () => {
    expect(reasonAdvice('attestation_missing:provenance')).toContain(
      '--type slsaprovenance',
    );
    expect(reasonAdvice('attestation_missing:residency')).toContain(
      '--type https://residency.dev/attestation/v1',
    );
  });

  it('falls back to the base advice for other codes and unknown kinds', () => {
    expect(reasonAdvice('signature_missing')).toBe(
      REASON_ADVICE.signature_missing,
    );
    expect(reasonAdvice('attestation_missing')).toBe(
      REASON_ADVICE.attestation_missing,
    );
  });
});
