/*
 * Flow 1: a developer opens a resident service: the summary card at the top of the
 * overview says Resident; the Residency tab shows the image, and its details show
 * the key that signed it and the key's region. Saves docs/screenshots/card.png.
 */
import { join } from 'node:path';
import { expect, openAsGuest, test } from '../support/fixtures';
import { componentPath, SCREENSHOTS_DIR } from '../support/run';

test('a developer sees the resident card with the key region', async ({
  page,
  run,
}) => {
  const svc = run.services.resident;
  await openAsGuest(page, run.mainUrl, componentPath(svc.name));

  await expect(page.getByRole('heading', { name: svc.title })).toBeVisible();
  const summary = page
    .getByRole('heading', { name: 'Residency', level: 2 })
    .locator('xpath=ancestor::*[contains(@class,"MuiCard-root")][1]');
  await expect(summary.getByText('Resident', { exact: true })).toBeVisible();
  await expect(
    page.getByText('Every image is signed by an in-boundary key'),
  ).toBeVisible();
  await summary.screenshot({ path: join(SCREENSHOTS_DIR, 'summary.png') });

  await summary
    .getByRole('link', { name: 'Details, fixes and evidence' })
    .click();
  await expect(page).toHaveURL(/\/residency$/);
  const image = page.getByRole('region', { name: `Image ${svc.image}` });
  // a single passing image is shown open
  await expect(image).toBeVisible();
  await expect(page.getByText('Not resident')).toHaveCount(0);
  await image
    .getByRole('button', { name: /Details: digest, keys, attestations/ })
    .click();
  await expect(image.getByText(run.keys.eu.id).first()).toBeVisible();
  await expect(
    image.getByText(`Verified, key in region ${run.keys.eu.region}`),
  ).toBeVisible();
  await expect(
    image.getByRole('button', { name: `Copy digest of ${svc.image}` }),
  ).toBeVisible();

  const card = page
    .getByRole('heading', { name: 'Images', level: 2 })
    .locator('xpath=ancestor::*[contains(@class,"MuiCard-root")][1]');
  await card.screenshot({ path: join(SCREENSHOTS_DIR, 'card.png') });
});
