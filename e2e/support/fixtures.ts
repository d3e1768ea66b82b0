/*
 * The test fixture every flow uses: a fresh page per test that fails the test on any
 * browser console error or uncaught page error, plus the run's state and a sign-in
 * helper (guest sign-in, as a user of the portal does it).
 */
import { test as base, expect, type Page } from '@playwright/test';
import { readState, type RunState } from './run';

export { expect };

/** Console messages that are not failures of the product (kept as short as possible). */
const IGNORED: RegExp[] = [];

export const test = base.extend<{ run: RunState; browserErrors: string[] }>({
  run: async ({}, use) => {
    await use(readState());
  },
  browserErrors: async ({}, use) => {
    await use([]);
  },
  page: async ({ page, browserErrors }, use, testInfo) => {
    page.on('console', msg => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      if (IGNORED.some(r => r.test(text))) return;
      const loc = msg.location();
      browserErrors.push(
        `console.error: ${text}${
          loc?.url ? ` (${loc.url}:${loc.lineNumber})` : ''
        }`,
      );
    });
    page.on('pageerror', err =>
      browserErrors.push(`page error: ${err.stack ?? err.message}`),
    );
    await use(page);
    if (browserErrors.length > 0) {
      await testInfo.attach('browser-errors.txt', {
        body: browserErrors.join('\n\n'),
      });
    }
    expect(browserErrors, 'the browser logged errors').toEqual([]);
  },
});

/**
 * Opens a path of the portal served by `baseUrl` and signs in as its guest.
 * The sign-in page signs in automatically when it can; otherwise the guest card's
 * Enter button is used, as a person would.
 */
export async function openAsGuest(page: Page, baseUrl: string, path: string) {
  await page.goto(`${baseUrl}${path}`);
  const enter = page.getByRole('button', { name: 'Enter' });
  const signedIn = page
    .getByRole('navigation', { name: 'sidebar nav' })
    .getByRole('link', { name: 'Catalog' });
  await expect(enter.or(signedIn).first()).toBeVisible({ timeout: 30_000 });
  if (await enter.isVisible()) {
    await enter.click();
  }
  await expect(signedIn.first()).toBeVisible({ timeout: 30_000 });
}

/**
 * Opens the portal's sign-in page at `path` and signs in as a demo user
 * (one per role, from the sign-in page's cards), as a person would.
 */
export async function openAs(
  page: Page,
  baseUrl: string,
  path: string,
  button:
    | 'Sign in as Dana (developer)'
    | 'Sign in as Ali (auditor)'
    | 'Sign in as Pat (platform owner)'
    | 'Sign in as Dora (data protection officer)',
) {
  await page.goto(`${baseUrl}${path}`);
  await page.getByRole('button', { name: button }).click();
  await expect(
    page
      .getByRole('navigation', { name: 'sidebar nav' })
      .getByRole('link', { name: 'Catalog' })
      .first(),
  ).toBeVisible({ timeout: 30_000 });
}

/**
 * The elements inside `root` whose content is wider than their box and is
 * cut off (overflow hidden or clip) or pushes out of the card: text a person
 * cannot read. Elements that scroll on purpose (overflow auto/scroll) are
 * allowed only when they are tables' scroll containers.
 */
export async function clippedElements(
  root: ReturnType<Page['locator']>,
): Promise<string[]> {
  return root.evaluateAll(nodes => {
    const out: string[] = [];
    for (const node of nodes) {
      for (const el of [node, ...Array.from(node.querySelectorAll('*'))]) {
        const h = el as HTMLElement;
        if (!h.offsetParent && h !== node) continue; // hidden
        // clientWidth 1 is the screen-reader-only text pattern (e.g. "Opens in a new window")
        if (h.scrollWidth > h.clientWidth + 1 && h.clientWidth > 1) {
          const style = getComputedStyle(h);
          if (style.display === 'inline') continue;
          out.push(
            `${h.tagName.toLowerCase()}.${String(h.className).slice(0, 60)} ` +
              `scrollWidth=${h.scrollWidth} clientWidth=${h.clientWidth}: ` +
              `${(h.textContent ?? '').slice(0, 80)}`,
          );
        }
      }
    }
    return out;
  });
}
