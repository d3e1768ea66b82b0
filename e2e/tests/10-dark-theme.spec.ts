/*
 * Flow 10: the main screens in the dark theme, as a new user sees them. Every
 * screen (catalog, each seeded service's overview and Residency tab with its
 * checklists open, the Residency page's three tabs) must load without console
 * errors, with nothing clipped in its cards, and with readable text: no text,
 * selected tab or focused element whose contrast against its background is
 * below WCAG AA. Saves the dark screenshots the README shows (`*-dark.png`).
 * UI_REVIEW_DIR=<dir> also saves every screen there (a review of all screens).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import {
  clippedElements,
  expect,
  openAsGuest,
  test,
} from '../support/fixtures';
import { componentPath, SCREENSHOTS_DIR } from '../support/run';

const REVIEW_DIR = process.env.UI_REVIEW_DIR;

async function useDarkTheme(page: Page) {
  // the user-settings plugin's theme choice, as the Settings page stores it
  await page.addInitScript(() => window.localStorage.setItem('theme', 'dark'));
}

async function loaded(page: Page) {
  await expect(page.getByRole('progressbar')).toHaveCount(0);
  await expect(page.locator('main').first()).toBeVisible();
}

/**
 * Visible text in `root` (and selected tabs) whose contrast ratio against the
 * nearest opaque background is below 4.5:1 (3:1 for large or bold large text).
 */
async function lowContrast(root: Locator): Promise<string[]> {
  return root.evaluateAll(nodes => {
    const parse = (c: string): number[] | undefined => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) return undefined;
      const p = m[1].split(',').map(s => parseFloat(s));
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    };
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
      };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const blend = (top: number[], bottom: number[]) => {
      const a = top[3];
      return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat(1);
    };
    /** The colour behind `el`: its own and its ancestors' backgrounds, blended. */
    const background = (el: Element | null): number[] => {
      const layers: number[][] = [];
      for (let e = el; e; e = e.parentElement) {
        const bg = parse(getComputedStyle(e).backgroundColor);
        if (bg && bg[3] > 0) {
          layers.push(bg);
          if (bg[3] >= 1) break;
        }
      }
      let out = [255, 255, 255, 1];
      for (const layer of layers.reverse()) out = blend(layer, out);
      // inside a button, tab or link: boxes painted over the text too (hover
      // and focus highlights, focus ripples), with their opacity
      const control = el?.closest('button, [role="tab"], a');
      if (el && control) {
        const box = el.getBoundingClientRect();
        for (const o of Array.from(control.querySelectorAll('*'))) {
          if (o.contains(el)) continue;
          const bg = parse(getComputedStyle(o).backgroundColor);
          if (!bg || bg[3] === 0) continue;
          const r = o.getBoundingClientRect();
          const overlaps =
            r.left < box.right &&
            r.right > box.left &&
            r.top < box.bottom &&
            r.bottom > box.top;
          if (!overlaps) continue;
          let alpha = bg[3];
          for (
            let e: Element | null = o;
            e && e !== control.parentElement;
            e = e.parentElement
          ) {
            alpha *= Number(getComputedStyle(e).opacity);
          }
          if (alpha > 0.02) out = blend([bg[0], bg[1], bg[2], alpha], out);
        }
      }
      return out;
    };
    const out: string[] = [];
    const seen = new Set<Element>();
    for (const node of nodes) {
      for (const el of [node, ...Array.from(node.querySelectorAll('*'))]) {
        if (seen.has(el)) continue;
        seen.add(el);
        const h = el as HTMLElement;
        if (!h.offsetParent) continue; // hidden
        // Inactive controls are exempt from the contrast minimum (WCAG 1.4.3).
        if (h.closest('[disabled], [aria-disabled="true"], .Mui-disabled'))
          continue;
        const ownText = Array.from(h.childNodes)
          .filter(n => n.nodeType === Node.TEXT_NODE)
          .map(n => n.textContent ?? '')
          .join('')
          .trim();
        if (!ownText) continue;
        const style = getComputedStyle(h);
        if (style.visibility === 'hidden' || Number(style.opacity) === 0)
          continue;
        const rect = h.getBoundingClientRect();
        if (rect.width <= 1 || rect.height <= 1) continue; // screen-reader-only
        const fgRaw = parse(style.color);
        if (!fgRaw) continue;
        const bg = background(h);
        const fg = blend(fgRaw, bg);
        const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
        const ratio = (l1 + 0.05) / (l2 + 0.05);
        const size = parseFloat(style.fontSize);
        const bold = Number(style.fontWeight) >= 700;
        const large = size >= 24 || (bold && size >= 18.66);
        const min = large ? 3 : 4.5;
        if (ratio < min) {
          out.push(
            `${h.tagName.toLowerCase()}.${String(h.className).slice(0, 50)} ` +
              `"${ownText.slice(0, 40)}" contrast ${ratio.toFixed(
                2,
              )} < ${min} ` +
              `(${style.color} on rgb(${bg.slice(0, 3).map(Math.round)}))`,
          );
        }
      }
    }
    return out;
  });
}

async function check(page: Page, what: string, file?: string) {
  await loaded(page);
  const clipped = await clippedElements(page.locator('main .MuiCard-root'));
  expect.soft(clipped, `${what}: content wider than its box`).toEqual([]);
  // cards, tabs (selected, hovered or focused) and the entity page's tab links
  const unreadable = await lowContrast(
    page.locator('main .MuiCard-root, [role="tab"], main a'),
  );
  if (REVIEW_DIR) {
    mkdirSync(REVIEW_DIR, { recursive: true });
    const name = what.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
    await page.screenshot({
      path: join(REVIEW_DIR, `${name}-dark.png`),
      fullPage: true,
    });
  }
  if (file) {
    await page.screenshot({ path: join(SCREENSHOTS_DIR, file) });
  }
  expect.soft(unreadable, `${what}: text below WCAG AA contrast`).toEqual([]);
}

test.beforeEach(async ({ page }) => {
  await useDarkTheme(page);
});

test('the catalog in the dark theme: readable, nothing clipped', async ({
  page,
  run,
}) => {
  await openAsGuest(page, run.mainUrl, '/catalog');
  const table = page.getByRole('table').first();
  await expect(
    table.getByRole('columnheader', { name: 'Residency' }),
  ).toBeVisible();
  // the verdict sits right after the name, as the entity's second fact
  const headers = (await table.getByRole('columnheader').allTextContents()).map(
    h => h.trim().toLowerCase(),
  );
  expect(headers.indexOf('residency')).toBe(headers.indexOf('name') + 1);
  await check(page, 'catalog', 'catalog-dark.png');
});

test('every seeded service in the dark theme: overview and Residency tab with checklists open', async ({
  page,
  run,
}) => {
  test.setTimeout(240_000);
  const services = [
    run.services.resident,
    run.services.nonResident,
    run.services.unsigned,
    run.services.unknownTenant,
  ];
  for (const svc of services) {
    await openAsGuest(page, run.mainUrl, componentPath(svc.name));
    await expect(
      page
        .locator('main .MuiCard-root')
        .first()
        .getByRole('heading', { name: 'Residency', level: 2 }),
    ).toBeVisible();
    await check(page, `overview ${svc.name}`);

    // the entity page's Residency tab, clicked: the mouse stays on the selected tab
    await page
      .locator('main')
      .getByRole('link', { name: 'Residency', exact: true })
      .click();
    await expect(page).toHaveURL(/\/residency$/);
    await expect(
      page.getByRole('heading', { name: 'Residency status' }),
    ).toBeVisible();
    await loaded(page);
    const checklists = page.getByRole('button', { name: /^Checks of image / });
    for (let i = 0; i < (await checklists.count()); i++) {
      await checklists.nth(i).click();
    }
    await check(
      page,
      `Residency tab ${svc.name}`,
      svc === run.services.nonResident ? 'checklist-dark.png' : undefined,
    );
  }
});

test('a service without annotations in the dark theme', async ({
  page,
  run,
}) => {
  await openAsGuest(page, run.mainUrl, `${componentPath('plain-service')}`);
  await check(page, 'overview plain-service');
  await page.getByRole('link', { name: 'See how to onboard it' }).click();
  await expect(
    page.getByText('Residency is not set up for this entity'),
  ).toBeVisible();
  await check(page, 'onboarding plain-service');
});

test('the Residency page’s tabs in the dark theme', async ({ page, run }) => {
  for (const [tab, name] of [
    ['overview', 'Overview'],
    ['services', 'Services'],
    ['tenants', 'Tenants & mismatches'],
  ] as const) {
    await openAsGuest(page, run.mainUrl, `/residency?tab=${tab}`);
    const selected = page.getByRole('tab', { name });
    await expect(selected).toHaveAttribute('aria-selected', 'true');
    if (tab === 'overview') {
      // Backstage's progress bar appears only after a delay: wait for the
      // tables themselves, so the checks see them and not a loading card
      for (const table of [
        'Services by tenant and status',
        'Tenant by region matrix',
      ]) {
        await expect(page.getByRole('table', { name: table })).toBeVisible();
      }
      await expect(page.getByLabel(/services in total$/)).toBeVisible();
    }
    // clicked with the mouse, which stays on it (hover), then focused as by keyboard
    await selected.click();
    await selected.focus();
    await check(page, `Residency page ${tab}`, `page-${tab}-dark.png`);
  }
});
