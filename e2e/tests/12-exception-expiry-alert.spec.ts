/*
 * Flow 12: an exception that expires. Dana (developer, owner of `consent-log`) asks,
 * through the API, for a one-minute exception for its missing signature; Dora (data
 * protection officer) approves it on the Residency tab, which reads "Resident by
 * exception", as does the catalog's Residency column. When the exception's window
 * ends, the backend's exception pass (every 5 s in this run) expires it and re-decides
 * the entity at once: Dora's open tab turns "Not resident" by itself (a signal), and
 * Dana finds the alert on her notifications page, with the reason in plain words and
 * a link to the Residency tab.
 */
import { expect, openAs, test } from '../support/fixtures';
import { api, componentPath } from '../support/run';

/** A demo user's token, as the sign-in page gets it. */
async function demoToken(baseUrl: string, user: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/demo/refresh`, {
    headers: {
      'x-requested-with': 'XMLHttpRequest',
      'x-residency-demo-user': user,
    },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as any).backstageIdentity.token;
}

/** How long the exception lasts: enough to approve it and see it in force. */
const WINDOW_MS = 50_000;

test('an approved exception expires: the entity is re-decided and its owner is told', async ({
  page,
  browser,
  run,
}) => {
  test.setTimeout(200_000);
  const svc = run.services.expiring;
  const ref = `component:default/${svc.name}`;
  const tab = `${componentPath(svc.name)}/residency`;
  const statusCard = (p: typeof page) =>
    p
      .getByRole('heading', { name: 'Residency status', level: 2 })
      .locator('xpath=ancestor::div[contains(@class,"MuiCard-root")][1]');

  // Dana asks for a short exception through the API (the form offers the tenant's
  // longest window; a one-minute window is what an API client may ask for).
  const dana = await demoToken(run.mainUrl, 'user:default/dana-dev');
  const status = await api(
    run.mainUrl,
    `/api/residency/entities/component/default/${svc.name}/status`,
    { token: dana },
  );
  expect(status.status).toBe(200);
  expect(status.body.decision).toBe('non_compliant');
  const digest = status.body.images[0].digest as string;
  const expiresAt = new Date(Date.now() + WINDOW_MS).toISOString();
  const asked = await fetch(
    `${run.mainUrl}/api/residency/entities/component/default/${svc.name}/exceptions`,
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${dana}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        reasonCodes: ['signature_missing'],
        digests: [digest],
        justification: 'Signing service outage; a signature follows today',
        reference: 'INC-4712',
        expiresAt,
      }),
    },
  );
  expect(asked.status).toBe(201);

  // Dora, the data protection officer, approves it on the Residency tab.
  await openAs(
    page,
    run.mainUrl,
    tab,
    'Sign in as Dora (data protection officer)',
  );
  const exceptions = page
    .getByRole('heading', { name: 'Exceptions', level: 2 })
    .locator('xpath=ancestor::div[contains(@class,"MuiCard-root")][1]');
  await expect(
    exceptions.getByText('requested', { exact: true }),
  ).toBeVisible();
  // a DPO reviews; she does not refresh
  await expect(
    page.getByRole('button', { name: 'Refresh residency status' }),
  ).toHaveCount(0);
  await exceptions.getByRole('button', { name: 'Approve' }).click();
  await expect(exceptions.getByText('approved', { exact: true })).toBeVisible();
  const verdict = statusCard(page).getByTestId('residency-status');
  await expect(verdict).toHaveText('Resident by exception');
  await expect(verdict).toHaveAttribute('data-state', 'resident_by_exception');
  await expect(
    statusCard(page).getByText(/approved by user:default\/dora-dpo/),
  ).toBeVisible();
  expect(Date.now(), 'approved inside the window').toBeLessThan(
    Date.parse(expiresAt),
  );

  // Dana's catalog shows the same state in its Residency column, in its own style.
  const context = await browser.newContext({
    viewport: { width: 1440, height: 900 },
  });
  const danaPage = await context.newPage();
  const danaErrors: string[] = [];
  danaPage.on(
    'console',
    m => m.type() === 'error' && danaErrors.push(m.text()),
  );
  danaPage.on('pageerror', e => danaErrors.push(e.message));
  await openAs(
    danaPage,
    run.mainUrl,
    '/catalog',
    'Sign in as Dana (developer)',
  );
  const row = danaPage
    .getByRole('table')
    .first()
    .getByRole('row')
    .filter({
      has: danaPage.getByRole('link', { name: svc.title, exact: true }),
    });
  await expect(row.getByTestId('residency-status')).toHaveAttribute(
    'data-state',
    'resident_by_exception',
  );
  await expect(row.getByTestId('residency-status')).toHaveText(
    'Resident by exception',
  );
  expect(Date.now(), 'seen inside the window').toBeLessThan(
    Date.parse(expiresAt),
  );

  // The window ends. Dora's open tab turns Not resident by itself (no reload).
  await expect(verdict).toHaveText('Not resident', {
    timeout: WINDOW_MS + 45_000,
  });
  await expect(exceptions.getByText('expired', { exact: true })).toBeVisible();
  const list = await api(
    run.mainUrl,
    `/api/residency/entities/component/default/${svc.name}/exceptions`,
    { token: dana },
  );
  expect(list.body.items[0]).toMatchObject({
    status: 'expired',
    decidedBy: 'user:default/dora-dpo',
  });
  expect(list.body.verdict.state).toBe('not_resident');

  // Dana, the owner, finds the alert on her notifications page.
  await danaPage
    .getByRole('navigation', { name: 'sidebar nav' })
    .getByRole('link', { name: /Notifications/ })
    .click();
  await expect(danaPage).toHaveURL(/\/notifications/);
  const alert = danaPage.getByRole('link', {
    name: `${svc.title} is now not resident`,
  });
  await expect(alert).toBeVisible({ timeout: 30_000 });
  await expect(alert).toHaveAttribute(
    'href',
    `${run.mainUrl}/catalog/default/component/${svc.name}/residency`,
  );
  const item = danaPage.getByRole('row').filter({ has: alert }).first();
  await expect(item).toContainText(
    'Residency changed from resident by exception to not resident.',
  );
  // long descriptions are folded
  await item.getByRole('button', { name: 'Show more' }).click();
  // the reason in the engine's words, not a bare code
  await expect(item).toContainText(
    'No signature was found for this image digest.',
  );
  await expect(item).not.toContainText('signature_missing');

  // The link opens the Residency tab, which agrees.
  await danaPage.goto(
    `${run.mainUrl}/catalog/default/component/${svc.name}/residency`,
  );
  await expect(statusCard(danaPage).getByTestId('residency-status')).toHaveText(
    'Not resident',
  );
  expect(danaErrors, 'Dana: browser errors').toEqual([]);
  await context.close();

  // One notification per transition: the owner has exactly one for this entity.
  const notes = await api(
    run.mainUrl,
    `/api/notifications/notifications?limit=50`,
    { token: dana },
  );
  expect(notes.status).toBe(200);
  const mine = (notes.body.notifications as any[]).filter(
    n => n.payload?.scope === `residency:${ref}`,
  );
  expect(mine).toHaveLength(1);
});
