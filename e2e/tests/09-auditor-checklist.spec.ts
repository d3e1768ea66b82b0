/*
 * Flow 9 (issue 19): an auditor expands the verification checklist of an image on the
 * Residency tab: every check the engine performed, failing checks first, expected vs
 * found in words; the same checks the status API serves in `detail.images[].report`.
 */
import { expect, openAsGuest, test } from '../support/fixtures';
import { api, componentPath, guestToken, statusPath } from '../support/run';

test('an auditor expands the checklist of an image: failing checks first, expected vs found', async ({
  page,
  run,
}) => {
  const svc = run.services.nonResident;
  const token = await guestToken(run.mainUrl);
  const { status, body } = await api(run.mainUrl, statusPath(svc.name), {
    token,
  });
  expect(status).toBe(200);
  const image = (body.images ?? []).find((i: any) => i.reference === svc.image);
  expect(image.report.schema).toBe(
    'https://residency.dev/verification-report/v1',
  );
  const checks: { id: string; outcome: string; found?: string }[] =
    image.report.checks;
  // the seeded image is signed by a key in us-east-1: the key region check fails
  const keyRegion = checks.find(
    c => c.id === 'key_region' && c.outcome === 'fail',
  );
  expect(keyRegion?.found).toBe('us-east-1');
  expect(checks.find(c => c.id === 'manifest_hashed')?.outcome).toBe('pass');
  const failing = checks.filter(c => c.outcome === 'fail').length;

  await openAsGuest(page, run.mainUrl, `${componentPath(svc.name)}/residency`);
  const region = page.getByRole('region', { name: `Image ${svc.image}` });
  await expect(region).toBeVisible();
  const summary = region.getByRole('button', {
    name: `Checks of image ${svc.image}`,
  });
  await expect(summary).toContainText(`${failing} failed`);
  await expect(summary).toHaveAttribute('aria-expanded', 'false');
  await summary.click();
  await expect(summary).toHaveAttribute('aria-expanded', 'true');

  const list = region.getByRole('list', {
    name: `Checklist of image ${svc.image}`,
  });
  const items = list.getByRole('listitem');
  await expect(items).toHaveCount(checks.length);
  // failing checks first, each with its failed icon
  for (let i = 0; i < failing; i++) {
    await expect(items.nth(i)).toHaveAttribute('aria-label', /: failed$/);
    await expect(
      items.nth(i).getByRole('img', { name: 'failed' }),
    ).toBeVisible();
  }
  await expect(items.nth(failing)).not.toHaveAttribute(
    'aria-label',
    /: failed$/,
  );
  const keyItem = list.getByRole('listitem', {
    name: 'Key region is inside the boundary: failed',
  });
  await expect(keyItem.first()).toContainText('Expected: a region of boundary');
  await expect(keyItem.first()).toContainText('Found: us-east-1');
  await expect(
    list.getByRole('listitem', {
      name: 'Manifest bytes match the digest: passed',
    }),
  ).toContainText(`Found: `);
});
