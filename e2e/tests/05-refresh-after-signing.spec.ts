/*
 * Flow 5: an image without a signature is not resident; a new signature by the
 * in-boundary key is pushed to the registry (cosign's .sig tag scheme), and Refresh
 * on the Residency tab turns the service resident, with a confirmation.
 */
import { readFileSync } from 'node:fs';
import {
  keyFromPrivatePem,
  publishSignedImage,
} from '@residency-dev/signing-kit';
import { expect, openAsGuest, test } from '../support/fixtures';
import { api, componentPath, guestToken, statusPath } from '../support/run';

test('a new signature and Refresh turn a service resident', async ({
  page,
  run,
}) => {
  const svc = run.services.unsigned;
  await openAsGuest(page, run.mainUrl, `${componentPath(svc.name)}/residency`);
  const image = page.getByRole('region', { name: `Image ${svc.image}` });
  await expect(image).toBeVisible();
  await expect(
    page.getByText('Not resident', { exact: true }).first(),
  ).toBeVisible();
  await expect(
    image.getByRole('listitem').filter({ hasText: '(signature_missing)' }),
  ).toBeVisible();

  const token = await guestToken(run.mainUrl);
  const before = await api(run.mainUrl, statusPath(svc.name), { token });
  const digest = before.body.images?.[0]?.digest;

  const key = keyFromPrivatePem(
    readFileSync(run.keys.eu.privateKeyFile, 'utf8'),
  );
  const published = await publishSignedImage({
    target: { registry: run.registry.host },
    repository: svc.repository,
    tag: svc.tag,
    key,
  });
  expect(
    published.digest,
    'the signature is for the image the service runs',
  ).toBe(digest);

  const refresh = page.getByRole('button', {
    name: 'Refresh residency status',
  });
  await refresh.click();
  // The refresh is over when the button reads "Refresh" again (it says "Checking…").
  await expect(refresh).toHaveText('Refresh');
  await expect(refresh).toBeEnabled();
  await expect(
    page.getByText('Resident', { exact: true }).first(),
    'after Refresh the card shows Resident: Refresh must verify the digest now, ' +
      'not reuse the result of a few seconds ago (younger than residency.revalidateAfter)',
  ).toBeVisible();
  // (the evidence timeline below still lists the earlier Not resident record)
  const statusCard = page
    .getByRole('heading', { name: 'Residency status' })
    .locator('xpath=ancestor::*[contains(@class,"MuiCard-root")][1]');
  await expect(statusCard.getByText('Not resident')).toHaveCount(0);
  await expect(image.getByText('Not resident')).toHaveCount(0);
  // the refresh is confirmed in words
  await expect(
    page.getByRole('status').filter({ hasText: 'Checked again' }),
  ).toContainText(/Checked again at \d\d:\d\d:\d\d UTC: Resident\./);
  // a service whose only image passes shows it open
  await image
    .getByRole('button', { name: /Details: digest, keys, attestations/ })
    .click();
  await expect(
    image.getByText(`Verified, key in region ${run.keys.eu.region}`),
  ).toBeVisible();
});
