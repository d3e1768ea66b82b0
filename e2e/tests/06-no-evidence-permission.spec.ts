/*
 * Flow 6: a user without the evidence permission (dana-dev: a developer who does not
 * own the service) sees the status but no download button, and the API refuses the
 * download with 403. Dana uses the second backend replica, which shares the database
 * with the first: she sees the statuses that replica one recorded.
 */
import { expect, openAsGuest, test } from '../support/fixtures';
import { api, componentPath, guestToken, statusPath } from '../support/run';

test('without the evidence permission there is no download and the API refuses it', async ({
  page,
  run,
}) => {
  const svc = run.services.resident;
  await openAsGuest(
    page,
    run.noEvidenceUrl,
    `${componentPath(svc.name)}/residency`,
  );

  await expect(
    page.getByText('Resident', { exact: true }).first(),
  ).toBeVisible();
  await expect(
    page.getByText(/Evidence history and downloads are available to auditors/),
  ).toBeVisible();
  await expect(
    page.getByRole('button', { name: /^Download evidence record/ }),
  ).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Download/ })).toHaveCount(0);
  // Dana does not own the service: no refresh either.
  await expect(
    page.getByRole('button', { name: 'Refresh residency status' }),
  ).toHaveCount(0);

  // An evidence id, as an auditor on replica one sees it.
  const auditorToken = await guestToken(run.mainUrl);
  const list = await api(
    run.mainUrl,
    `/api/residency/entities/component/default/${svc.name}/evidence`,
    {
      token: auditorToken,
    },
  );
  expect(list.status).toBe(200);
  const id = list.body.items?.[0]?.id;
  expect(id, 'an evidence record exists').toBeTruthy();

  const danaToken = await guestToken(run.noEvidenceUrl);
  const refused = await api(
    run.noEvidenceUrl,
    `/api/residency/evidence/${encodeURIComponent(id)}`,
    { token: danaToken },
  );
  expect(refused.status).toBe(403);
  const history = await api(
    run.noEvidenceUrl,
    `/api/residency/entities/component/default/${svc.name}/evidence`,
    {
      token: danaToken,
    },
  );
  expect(history.status).toBe(403);
  // Reading the status stays allowed, from the shared database.
  const statusRes = await api(run.noEvidenceUrl, statusPath(svc.name), {
    token: danaToken,
  });
  expect(statusRes.status).toBe(200);
  expect(statusRes.body.decision).toBe('compliant');
  // The same download works for the auditor (the refusal is the permission, not a bad id).
  const allowed = await api(
    run.mainUrl,
    `/api/residency/evidence/${encodeURIComponent(id)}`,
    { token: auditorToken },
  );
  expect(allowed.status).toBe(200);
});
