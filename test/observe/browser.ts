// The system browser the operator page tests drive, and where their screenshots go.
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BROWSER = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether a browser is there to drive; where not, the page tests skip and say why. */
export const HAS_BROWSER = existsSync(BROWSER);
if (!HAS_BROWSER)
  console.warn(
    `observe page tests skipped: no browser at ${BROWSER} (apt-get install -y chromium, or set CHROMIUM_PATH)`,
  );

/** Headless Chromium and one page of 1400×1000; the waits are generous (a shared, busy machine), none is a measurement. */
export async function openBrowser(): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: BROWSER, headless: true, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(120_000);
  return { browser, page };
}

/** Saves a full-page screenshot as `test-artifacts/<name>.png`. */
export async function keepScreenshot(page: Page, name: string): Promise<void> {
  const dir = `${ROOT}test-artifacts`;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true, timeout: 120_000 });
}
