// The docs page in a real headless Chromium (Debian's, driven by playwright-core; no browser is
// downloaded): descriptions are rendered Markdown, and the page reads on a phone and a laptop with
// no horizontal page overflow (wide tables scroll inside their own box) and loads nothing from
// elsewhere. .ci/run installs chromium; set CHROMIUM_PATH to use another build.
// DOCS_SCREENSHOT_DIR=docs/img keeps the screenshots (the one in the docs comes from here).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '../../dev/server.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.DOCS_SCREENSHOT_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'docs-page-'));

const VIEWPORTS = {
  phone: { width: 390, height: 844 },
  laptop: { width: 1366, height: 800 },
} as const;

type Layout = {
  pageWidth: number;
  viewport: number;
  /** Boxes of every table's scroll container, and tables outside one. */
  tableBoxes: { right: number; inScrollBox: boolean }[];
  text: string;
  markdownTables: number;
  headings: string[];
};

describe('the docs page in Chromium', () => {
  let h: Harness;
  let server: LocalServer;
  let browser: Browser;
  const foreign: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    }
    h = await createHarness();
    server = await h.listen();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Playwright gives every launch a fresh temporary --user-data-dir.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  async function open(name: keyof typeof VIEWPORTS): Promise<{ page: Page; layout: Layout }> {
    const context = await browser.newContext({ viewport: VIEWPORTS[name], deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.on('request', (req) => {
      if (!req.url().startsWith(server.url)) foreign.push(req.url());
    });
    const res = await page.goto(`${server.url}/api/v1/docs`, { waitUntil: 'load' });
    expect(res?.status()).toBe(200);
    const layout = await page.evaluate((): Layout => {
      const tables = [...document.querySelectorAll('table')];
      return {
        pageWidth: document.documentElement.scrollWidth,
        viewport: window.innerWidth,
        tableBoxes: tables.map((t) => {
          const box = t.closest('.scroll');
          return { right: (box ?? t).getBoundingClientRect().right, inScrollBox: box !== null };
        }),
        // biome-ignore lint/performance/useDomNodeTextContent: the text as shown, after layout
        text: document.body.innerText,
        markdownTables: document.querySelectorAll('.md table').length,
        headings: [...document.querySelectorAll('.md h2')].map((e) => e.textContent ?? ''),
      };
    });
    await page.screenshot({
      path: path.join(SHOTS, `docs-page-${name}.png`),
      fullPage: process.env.DOCS_SCREENSHOT_FULL === '1',
    });
    await context.close();
    return { page, layout };
  }

  for (const name of ['phone', 'laptop'] as const) {
    it(`renders the Markdown and fits a ${name} (${VIEWPORTS[name].width} px)`, async () => {
      const { layout } = await open(name);
      // Rendered, not shown as source.
      expect(layout.text).not.toMatch(/^#{1,6} /m);
      expect(layout.text).not.toContain('|---|');
      expect(layout.text).not.toMatch(/`[^`\n]+`/);
      expect(layout.headings).toContain('Chat stream events (text/event-stream)');
      expect(layout.markdownTables).toBeGreaterThan(0);
      // No horizontal scrolling of the page; each table scrolls inside a box within the viewport.
      expect(layout.viewport).toBe(VIEWPORTS[name].width);
      expect(layout.pageWidth).toBeLessThanOrEqual(layout.viewport);
      expect(layout.tableBoxes.length).toBeGreaterThan(5);
      for (const box of layout.tableBoxes) {
        expect(box.inScrollBox).toBe(true);
        expect(box.right).toBeLessThanOrEqual(layout.viewport);
      }
      expect(fs.statSync(path.join(SHOTS, `docs-page-${name}.png`)).size).toBeGreaterThan(1000);
      // Nothing from any other origin (no CDN: it may be unreachable from mainland China).
      expect(foreign).toEqual([]);
    });
  }
});
