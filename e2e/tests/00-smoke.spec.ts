/*
 * Smoke: the production build served by the backend opens in Chromium, the guest
 * signs in, and the catalog lists the seeded services and the example groups.
 */
import { expect, openAsGuest, test } from '../support/fixtures';

test('the portal opens after guest sign-in and the catalog lists the services', async ({
  page,
  run,
}) => {
  await openAsGuest(page, run.mainUrl, '/catalog');
  for (const s of Object.values(run.services)) {
    await expect(
      page.getByRole('link', { name: s.title, exact: true }),
    ).toBeVisible();
  }
});
