/*
 * Flow 3: a platform owner opens the Residency page, goes to "Tenants & mismatches"
 * and finds the mismatched services. Saves docs/screenshots/page.png and mismatches.png.
 */
import { join } from 'node:path';
import { expect, openAsGuest, test } from '../support/fixtures';
import { SCREENSHOTS_DIR } from '../support/run';

test('a platform owner finds the mismatched services', async ({
  page,
  run,
}) => {
  await openAsGuest(page, run.mainUrl, '/catalog');
  await page
    .getByRole('navigation', { name: 'sidebar nav' })
    .getByRole('link', { name: 'Residency' })
    .click();
  await expect(page).toHaveURL(/\/residency/);
  await expect(page.getByRole('tab', { name: 'Overview' })).toBeVisible();
  await expect(page.getByRole('tabpanel')).toBeVisible();
  // Counts loaded (the overview labels its total), nothing still loading.
  await expect(page.getByLabel(/\d+ services in total/)).toBeVisible();
  await expect(page.getByRole('progressbar')).toHaveCount(0);
  await page.screenshot({ path: join(SCREENSHOTS_DIR, 'page.png') });

  await page.getByRole('tab', { name: 'Tenants & mismatches' }).click();
  const table = page.getByRole('table', { name: 'Mapping mismatches' });
  await expect(table).toBeVisible();
  for (const svc of [run.services.nonResident, run.services.unknownTenant]) {
    const row = table
      .getByRole('row')
      .filter({ has: page.getByRole('link', { name: new RegExp(svc.name) }) });
    await expect(row.first(), `${svc.name} listed as a mismatch`).toBeVisible();
  }
  // The resident service lies inside its boundary: not a mismatch.
  await expect(
    table.getByRole('link', { name: new RegExp(run.services.resident.name) }),
  ).toHaveCount(0);
  // The non-resident one shows what lies outside, e.g. the key's or the declared region.
  const ledger = table.getByRole('row').filter({
    has: page.getByRole('link', {
      name: new RegExp(run.services.nonResident.name),
    }),
  });
  await expect(ledger.filter({ hasText: 'us-east-1' }).first()).toBeVisible();

  // The README's mismatches screenshot: the card around the table (the table's nearest
  // ancestor that also holds the card title).
  const card = table.locator(
    'xpath=ancestor::*[.//*[normalize-space(text())="Mapping mismatches"]][1]',
  );
  await card.screenshot({ path: join(SCREENSHOTS_DIR, 'mismatches.png') });

  // The link leads to the entity.
  await table
    .getByRole('link', { name: new RegExp(run.services.nonResident.name) })
    .first()
    .click();
  await expect(page).toHaveURL(
    new RegExp(`/catalog/default/component/${run.services.nonResident.name}`),
  );
});
