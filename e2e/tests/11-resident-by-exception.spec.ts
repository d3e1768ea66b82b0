/*
 * Flow 10: a developer (Dana, who owns `audit-export`) requests an exception for the
 * failing signature of its image; she cannot approve it herself. A platform owner (Pat)
 * approves it, and the Residency tab's status header reads "Resident by exception",
 * never "Resident". Dana then sees the same verdict on the entity's overview card.
 */
import { expect, openAs, test } from '../support/fixtures';
import { api, componentPath, guestToken } from '../support/run';

test('a developer requests, a platform owner approves, the tab shows Resident by exception', async ({
  page,
  browser,
  run,
}) => {
  const svc = run.services.byException;
  const tab = `${componentPath(svc.name)}/residency`;
  const exceptionsPath = `/api/residency/entities/component/default/${svc.name}/exceptions`;
  const statusCard = (p: typeof page) =>
    p
      .getByRole('heading', { name: 'Residency status', level: 2 })
      .locator('xpath=ancestor::div[contains(@class,"MuiCard-root")][1]');

  // Dana, the developer owning the service, requests an exception.
  await openAs(page, run.mainUrl, tab, 'Sign in as Dana (developer)');
  await expect(
    statusCard(page).getByText('Not resident', { exact: true }),
  ).toBeVisible();
  const form = page.getByRole('form', { name: 'Request an exception' });
  await expect(
    form.getByRole('checkbox', { name: 'signature_missing' }),
  ).toBeChecked();
  await form
    .getByRole('textbox', { name: 'Justification' })
    .fill('Signing service outage; signature follows after INC-4711 is fixed');
  await form
    .getByRole('textbox', { name: 'Ticket or legal reference' })
    .fill('INC-4711');
  await form.getByRole('button', { name: 'Request exception' }).click();
  const exceptions = page
    .getByRole('heading', { name: 'Exceptions', level: 2 })
    .locator('xpath=ancestor::div[contains(@class,"MuiCard-root")][1]');
  await expect(
    exceptions.getByText('requested', { exact: true }),
  ).toBeVisible();
  // The requester never approves her own request (no button; the API refuses it too).
  await expect(exceptions.getByRole('button', { name: 'Approve' })).toHaveCount(
    0,
  );
  await expect(
    statusCard(page).getByText('Not resident', { exact: true }),
  ).toBeVisible();

  // Through the API too: Dana's own approval is refused.
  const demo = await fetch(`${run.mainUrl}/api/auth/demo/refresh`, {
    headers: {
      'x-requested-with': 'XMLHttpRequest',
      'x-residency-demo-user': 'user:default/dana-dev',
    },
  });
  expect(demo.status).toBe(200);
  const danaToken = ((await demo.json()) as any).backstageIdentity.token;
  const requested = await api(run.mainUrl, exceptionsPath, {
    token: danaToken,
  });
  expect(requested.status).toBe(200);
  expect(requested.body.items).toHaveLength(1);
  expect(requested.body.items[0]).toMatchObject({
    status: 'requested',
    requestedBy: 'user:default/dana-dev',
    reasonCodes: ['signature_missing'],
  });
  const selfApproval = await api(
    run.mainUrl,
    `/api/residency/exceptions/${encodeURIComponent(
      requested.body.items[0].id,
    )}/approve`,
    { token: danaToken, method: 'POST' },
  );
  expect(selfApproval.status).toBe(403);

  // Pat, a platform owner, approves it in another browser.
  const context = await browser.newContext({
    viewport: { width: 1440, height: 900 },
  });
  const pat = await context.newPage();
  const errors: string[] = [];
  pat.on('console', m => m.type() === 'error' && errors.push(m.text()));
  pat.on('pageerror', e => errors.push(e.message));
  await openAs(pat, run.mainUrl, tab, 'Sign in as Pat (platform owner)');
  const patExceptions = pat
    .getByRole('heading', { name: 'Exceptions', level: 2 })
    .locator('xpath=ancestor::div[contains(@class,"MuiCard-root")][1]');
  await expect(
    patExceptions.getByText('requested', { exact: true }),
  ).toBeVisible();
  await patExceptions.getByRole('button', { name: 'Approve' }).click();
  await expect(
    patExceptions.getByText('approved', { exact: true }),
  ).toBeVisible();
  const verdict = statusCard(pat).getByTestId('residency-status');
  await expect(verdict).toHaveText('Resident by exception');
  await expect(verdict).toHaveAttribute('data-state', 'resident_by_exception');
  await expect(
    statusCard(pat).getByText(
      /an approved exception waives signature_missing \(approved by user:default\/pat-platform\)/,
    ),
  ).toBeVisible();
  await expect(
    statusCard(pat).getByText('Resident', { exact: true }),
  ).toHaveCount(0);
  expect(errors, 'Pat: browser errors').toEqual([]);
  await context.close();

  // The backend's verdict agrees; the stored decision stays not resident.
  const token = await guestToken(run.mainUrl);
  const list = await api(run.mainUrl, exceptionsPath, { token });
  expect(list.status).toBe(200);
  expect(list.body.verdict.state).toBe('resident_by_exception');
  expect(list.body.items[0]).toMatchObject({
    status: 'approved',
    requestedBy: 'user:default/dana-dev',
    decidedBy: 'user:default/pat-platform',
  });

  // Dana sees it on the overview's summary card too.
  await page.goto(`${run.mainUrl}${componentPath(svc.name)}`);
  await expect(
    page.getByText('Resident by exception', { exact: true }).first(),
  ).toBeVisible();
});
