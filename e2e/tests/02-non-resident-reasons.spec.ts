/*
 * Flow 2: a developer opens a non-resident service and sees each reason in words:
 * every reason the backend recorded is on the Residency tab with its message, code and fix.
 */
import { expect, openAsGuest, test } from '../support/fixtures';
import { api, componentPath, guestToken, statusPath } from '../support/run';

test('a developer sees each reason a service is not resident, in words', async ({
  page,
  run,
}) => {
  const svc = run.services.nonResident;
  const token = await guestToken(run.mainUrl);
  const { status, body } = await api(run.mainUrl, statusPath(svc.name), {
    token,
  });
  expect(status).toBe(200);
  expect(body.decision).toBe('non_compliant');
  const reasons: { code: string; message: string }[] = [
    ...(body.reasons ?? []),
    ...(body.images ?? []).flatMap((i: any) => i.reasons ?? []),
  ];
  const codes = reasons.map(r => r.code);
  // The seeded image is signed by a key outside the boundary, lacks an SBOM, and the
  // service declares a region outside its tenant's boundary.
  expect(codes).toEqual(
    expect.arrayContaining([
      'key_outside_boundary',
      'attestation_missing:sbom',
      'declared_region_outside_boundary',
    ]),
  );

  await openAsGuest(page, run.mainUrl, `${componentPath(svc.name)}/residency`);
  await expect(
    page.getByText('Not resident', { exact: true }).first(),
  ).toBeVisible();
  const image = page.getByRole('region', { name: `Image ${svc.image}` });
  await expect(image).toBeVisible();

  // the SBOM fix attaches an SBOM, never a provenance attestation
  const sbom = page
    .getByRole('listitem')
    .filter({ hasText: '(attestation_missing:sbom)' })
    .first();
  await expect(sbom).toContainText('The SBOM attestation is missing');
  await expect(sbom).toContainText('--type cyclonedx');
  await expect(sbom).not.toContainText('slsaprovenance');

  for (const reason of reasons) {
    const item = page
      .getByRole('listitem')
      .filter({ hasText: reason.message })
      .first();
    await expect(item, `reason ${reason.code} shown in words`).toBeVisible();
    await expect(item).toContainText(`(${reason.code})`);
    await expect(item).toContainText('Fix:');
  }
});
