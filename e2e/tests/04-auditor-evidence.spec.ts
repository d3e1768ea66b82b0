/*
 * Flow 4: an auditor downloads an evidence bundle from the entity's Residency tab and
 * the downloaded file re-verifies offline with the command-line tool.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { expect, openAsGuest, test } from '../support/fixtures';
import { componentPath, REPO_ROOT, runDir } from '../support/run';

const CLI = join(REPO_ROOT, 'packages', 'residency-cli', 'bin', 'residency');

test('an auditor downloads an evidence bundle that re-verifies with the CLI', async ({
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
    .getByRole('button', { name: /^Download evidence record \d+$/ })
    .first();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    button.click(),
  ]);
  const name = download.suggestedFilename();
  expect(name).toMatch(/\.json$/);
  expect(name).toContain(svc.name);
  const file = testInfo.outputPath(name);
  await download.saveAs(file);
  await testInfo.attach('evidence-bundle', {
    path: file,
    contentType: 'application/json',
  });

  const verify = spawnSync(process.execPath, [CLI, 'verify-evidence', file], {
    encoding: 'utf8',
    cwd: REPO_ROOT,
  });
  await testInfo.attach('verify-evidence output', {
    body: `${verify.stdout}\n${verify.stderr}`,
  });
  expect(
    verify.status,
    `residency verify-evidence: ${verify.stdout}${verify.stderr}`,
  ).toBe(0);

  // The command the page shows after the download works exactly as shown (run
  // with this checkout's CLI in place of npx, in the download's folder), and it is
  // the README's form.
  const shown = (
    await page
      .locator('pre')
      .filter({ hasText: 'verify-evidence' })
      .last()
      .innerText()
  ).trim();
  expect(shown).toBe(
    `npx @residency-dev/residency-cli verify-evidence ${name}`,
  );
  const asShown = spawnSync(
    process.execPath,
    [CLI, ...shown.replace('npx @residency-dev/residency-cli ', '').split(' ')],
    { encoding: 'utf8', cwd: dirname(file) },
  );
  expect(
    asShown.status,
    `the command as shown: ${asShown.stdout}${asShown.stderr}`,
  ).toBe(0);

  const strict = spawnSync(
    process.execPath,
    [CLI, 'verify-evidence', '--require-compliant', file],
    {
      encoding: 'utf8',
      cwd: REPO_ROOT,
    },
  );
  // Without the auditor's own trust, only internal consistency was checked:
  // --require-compliant must not pass (exit 2, "could not decide").
  expect(
    strict.status,
    `--require-compliant: ${strict.stdout}${strict.stderr}`,
  ).toBe(2);
  expect(`${strict.stdout}${strict.stderr}`).toContain('NOT CHECKED');

  // An auditor compares the recorded keys with their own copy of the trust
  // configuration (here: the portal's own app-config of this run).
  const trust = spawnSync(
    process.execPath,
    [
      CLI,
      'verify-evidence',
      '--require-compliant',
      '--config',
      join(runDir(), 'app-config.e2e.yaml'),
      file,
    ],
    { encoding: 'utf8', cwd: REPO_ROOT },
  );
  expect(trust.stdout).toContain('compared with the given configuration');
  expect(trust.status, `--config: ${trust.stdout}${trust.stderr}`).toBe(0);
});
