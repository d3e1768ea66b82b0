/*
 * Flow 7: the portal as its three users see it. Landing after sign-in, the
 * summary card at the top of the overview, the failing image first with its fix,
 * nothing clipped in the cards (light and dark), onboarding for a service without
 * annotations, the Residency page's tab in the URL, and one demo user per role
 * seeing only what the permission policy allows. Saves the README's screenshots.
 */
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import {
  clippedElements,
  expect,
  openAs,
  openAsGuest,
  test,
} from '../support/fixtures';
import { componentPath, SCREENSHOTS_DIR } from '../support/run';

/** Every card on the page, once loading has finished. */
async function expectNothingClipped(page: Page, what: string) {
  await expect(page.getByRole('progressbar')).toHaveCount(0);
  const clipped = await clippedElements(page.locator('.MuiCard-root'));
  expect(clipped, `${what}: content wider than its box`).toEqual([]);
}

async function useDarkTheme(page: Page) {
  // the user-settings plugin's theme choice, as the Settings page stores it
  await page.addInitScript(() => window.localStorage.setItem('theme', 'dark'));
}

test('sign-in lands on the catalog, not a 404', async ({ page, run }) => {
  await openAsGuest(page, run.mainUrl, '/');
  await expect(page).toHaveURL(/\/catalog/);
  await expect(page.getByText(/page not found/i)).toHaveCount(0);
});

for (const theme of ['light', 'dark'] as const) {
  test(`a developer sees the failing service's verdict, image and fix first, nothing clipped (${theme})`, async ({
    page,
    run,
  }) => {
    if (theme === 'dark') await useDarkTheme(page);
    const svc = run.services.nonResident;
    await openAsGuest(page, run.mainUrl, componentPath(svc.name));

    // The summary card is the first card of the overview and names the failing image.
    const firstCard = page.locator('main .MuiCard-root').first();
    await expect(
      firstCard.getByRole('heading', { name: 'Residency', level: 2 }),
    ).toBeVisible();
    await expect(
      firstCard.getByText('Not resident', { exact: true }),
    ).toBeVisible();
    await expect(
      firstCard.getByRole('list', { name: 'Failing images' }),
    ).toContainText(svc.image);
    const box = await firstCard.boundingBox();
    expect(box!.y, 'the summary card starts above the fold').toBeLessThan(450);
    await expectNothingClipped(page, `overview (${theme})`);
    await page.screenshot({
      path: join(SCREENSHOTS_DIR, `overview-${theme}.png`),
    });

    await firstCard
      .getByRole('link', { name: 'Details, fixes and evidence' })
      .click();
    await expect(page).toHaveURL(/\/residency$/);
    const status = page
      .getByRole('heading', { name: 'Residency status' })
      .locator('xpath=ancestor::*[contains(@class,"MuiCard-root")][1]');
    await expect(
      status.getByRole('list', { name: 'Failing images' }),
    ).toContainText(svc.image);
    const image = page.getByRole('region', { name: `Image ${svc.image}` });
    await expect(image).toContainText('Fix:');
    // raw details open on demand; long key ids and URIs wrap instead of clipping
    await image
      .getByRole('button', { name: /Details: digest, keys, attestations/ })
      .click();
    await expect(image.getByText(run.keys.us.id).first()).toBeVisible();
    await expectNothingClipped(page, `Residency tab (${theme})`);
    await page.screenshot({
      path: join(SCREENSHOTS_DIR, `tab-${theme}.png`),
      fullPage: true,
    });
  });
}

test('an unknown tenant lists the defined tenants', async ({ page, run }) => {
  const svc = run.services.unknownTenant;
  await openAsGuest(page, run.mainUrl, `${componentPath(svc.name)}/residency`);
  await expect(
    page.getByText(
      /Fix: Set residency\.dev\/tenant to one of the defined tenants: \S+/,
    ),
  ).toBeVisible();
});

test('a service without annotations shows how to onboard, reachable from its page', async ({
  page,
  run,
}) => {
  await openAsGuest(page, run.mainUrl, componentPath('plain-service'));
  await expect(
    page.getByText(/Residency is not set up for this component/),
  ).toBeVisible();
  await page.getByRole('link', { name: 'See how to onboard it' }).click();
  await expect(page).toHaveURL(/plain-service\/residency$/);
  await expect(
    page.getByText('Residency is not set up for this entity'),
  ).toBeVisible();
  await expect(page.locator('pre').first()).toContainText(
    'residency.dev/images:',
  );
  await expect(page.locator('pre').first()).toContainText(
    'residency.dev/tenant:',
  );
  await expect(page.getByText(/404|not found/i)).toHaveCount(0);
});

test('the Residency page keeps its tab in the URL', async ({ page, run }) => {
  await openAsGuest(page, run.mainUrl, '/residency?tab=tenants');
  await expect(
    page.getByRole('tab', { name: 'Tenants & mismatches' }),
  ).toHaveAttribute('aria-selected', 'true');
  await page.getByRole('tab', { name: 'Services' }).click();
  await expect(page).toHaveURL(/tab=services/);
  await page.reload();
  await expect(page.getByRole('tab', { name: 'Services' })).toHaveAttribute(
    'aria-selected',
    'true',
  );
});

test('each demo role sees only what its permissions allow', async ({
  browser,
  run,
}) => {
  const svc = run.services.resident;
  const tab = `${componentPath(svc.name)}/residency`;
  const roles = [
    {
      button: 'Sign in as Dana (developer)' as const,
      file: 'role-developer.png',
      refresh: 0,
      download: 0,
    },
    {
      button: 'Sign in as Ali (auditor)' as const,
      file: 'role-auditor.png',
      refresh: 0,
      download: 1,
    },
    {
      button: 'Sign in as Pat (platform owner)' as const,
      file: 'role-platform-owner.png',
      refresh: 1,
      download: 1,
    },
  ];
  for (const role of roles) {
    const context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', m => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', e => errors.push(e.message));
    await openAs(page, run.mainUrl, tab, role.button);
    await expect(
      page.getByText('Resident', { exact: true }).first(),
    ).toBeVisible();
    await expect(page.getByRole('progressbar')).toHaveCount(0);
    await expect(
      page.getByRole('button', { name: 'Refresh residency status' }),
      `${role.button}: Refresh`,
    ).toHaveCount(role.refresh);
    const downloads = page.getByRole('button', {
      name: /^Download evidence record/,
    });
    if (role.download) {
      await expect(downloads.first()).toBeVisible();
    } else {
      await expect(downloads, `${role.button}: downloads`).toHaveCount(0);
    }
    await page.screenshot({ path: join(SCREENSHOTS_DIR, role.file) });
    expect(errors, `${role.button}: browser errors`).toEqual([]);
    await context.close();
  }
});

test('the catalog shows each service’s residency and filters by it', async ({
  page,
  run,
}) => {
  await openAsGuest(page, run.mainUrl, '/catalog');
  const table = page.getByRole('table').first();
  await expect(
    table.getByRole('columnheader', { name: 'Residency' }),
  ).toBeVisible();
  const row = (title: string) =>
    table.getByRole('row').filter({
      has: page.getByRole('link', { name: title, exact: true }),
    });
  await expect(row(run.services.resident.title)).toContainText('Resident');
  await expect(row(run.services.nonResident.title)).toContainText(
    'Not resident',
  );
  await expect(row('Plain service')).toContainText('Not set up');

  await page
    .getByRole('combobox', { name: 'Residency' })
    .selectOption('non_compliant');
  await expect(
    page.getByRole('link', {
      name: run.services.nonResident.title,
      exact: true,
    }),
  ).toBeVisible();
  await expect(
    page.getByRole('link', { name: run.services.resident.title, exact: true }),
  ).toHaveCount(0);
  await expectNothingClipped(page, 'catalog');
  await page.screenshot({ path: join(SCREENSHOTS_DIR, 'catalog.png') });
});
