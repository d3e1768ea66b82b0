/*
 * Flow 1: a developer opens a resident service and sees the resident card with the
 * region of the key that signed its image. Saves docs/screenshots/card.png.
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
  const image = page.getByRole('region', { name: `Image ${svc.image}` });
  await expect(image).toBeVisible();
  await expect(
    page.getByText('Resident', { exact: true }).first(),
  ).toBeVisible();
  await expect(page.getByText('Not resident')).toHaveCount(0);
  // The signature line names the key and its region.
  const signature = image.getByText(/^Verified by key/);
  await expect(signature).toContainText(run.keys.eu.id);
  await expect(signature).toContainText(`in region ${run.keys.eu.region}`);
  await expect(image).toContainText(`region ${run.keys.eu.region}`);

  // The README's card screenshot: the card is the nearest ancestor of the image that
  // also holds the card's Refresh button.
  const card = image.locator(
    'xpath=ancestor::*[.//button[@aria-label="Refresh residency status"]][1]',
  );
  await card.screenshot({ path: join(SCREENSHOTS_DIR, 'card.png') });
});
