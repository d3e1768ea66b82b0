/*
 * Flow 8: an auditor downloads the signed SLSA verification summary (VSA) of an
 * evidence record from the entity's Residency tab; its DSSE signature verifies
 * against the portal's pinned public key and it says PASSED for the resident service.
 */
import { readFileSync } from 'node:fs';
import { createPublicKey, verify } from 'node:crypto';
import { expect, openAsGuest, test } from '../support/fixtures';
import { componentPath } from '../support/run';

/** DSSE v1 pre-authentication encoding (what the signature covers). */
function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${payload.length} `, 'utf8'),
    payload,
  ]);
}

test('an auditor downloads a signed VSA that verifies against the portal key', async ({
  page,
  run,
}, testInfo) => {
  const svc = run.services.resident;
  await openAsGuest(page, run.mainUrl, componentPath(svc.name));
  await page
    .getByRole('navigation', { name: 'Content navigation' })
    .getByRole('link', { name: 'Residency' })
    .click();

  const timeline = page.getByRole('list', { name: 'Evidence timeline' });
  await expect(timeline).toBeVisible();
  const button = timeline
    .getByRole('button', {
      name: /^Download verification summary of record \d+$/,
    })
    .first();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    button.click(),
  ]);
  const name = download.suggestedFilename();
  expect(name).toMatch(/^residency-vsa-.*\.json$/);
  expect(name).toContain(svc.name);
  const file = testInfo.outputPath(name);
  await download.saveAs(file);
  await testInfo.attach('vsa', { path: file, contentType: 'application/json' });
  await expect(timeline.getByText(`Saved ${name}`)).toBeVisible();

  const body = JSON.parse(readFileSync(file, 'utf8')) as {
    items: Array<{
      digest: string;
      verificationResult: string;
      envelope: {
        payloadType: string;
        payload: string;
        signatures: Array<{ sig: string }>;
      };
    }>;
  };
  expect(body.items.length).toBeGreaterThan(0);
  const portalKey = createPublicKey(
    readFileSync(run.keys.vsa.publicKeyFile, 'utf8'),
  );
  for (const item of body.items) {
    const { envelope } = item;
    expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
    const payload = Buffer.from(envelope.payload, 'base64');
    expect(envelope.signatures.length).toBeGreaterThan(0);
    const signed = pae(envelope.payloadType, payload);
    for (const s of envelope.signatures) {
      expect(
        verify('sha256', signed, portalKey, Buffer.from(s.sig, 'base64')),
        'DSSE signature by the portal key',
      ).toBe(true);
    }
    // A flipped payload byte must not verify (the check can fail).
    const tampered = Buffer.from(payload);
    tampered[tampered.length - 2] ^= 1;
    expect(
      verify(
        'sha256',
        pae(envelope.payloadType, tampered),
        portalKey,
        Buffer.from(envelope.signatures[0].sig, 'base64'),
      ),
    ).toBe(false);

    const statement = JSON.parse(payload.toString('utf8'));
    expect(statement.predicateType).toBe(
      'https://slsa.dev/verification_summary/v1',
    );
    expect(statement.predicate.verificationResult).toBe('PASSED');
    expect(item.verificationResult).toBe('PASSED');
    expect(statement.subject[0].digest.sha256).toBe(
      item.digest.replace(/^sha256:/, ''),
    );
    expect(statement.predicate.resourceUri).toContain(svc.repository);
  }
});
