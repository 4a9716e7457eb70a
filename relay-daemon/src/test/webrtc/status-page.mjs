// The relay's status page in headless Chromium, as a phone shows it: loads it, collects console errors and
// failed requests, keeps a screenshot, and prints one JSON line with the page's text. Exits 0 when the page loaded
// with no error.
//
//   node status-page.mjs URL SCREENSHOT_PATH
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, screenshot] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), 'turnpike-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 390, height: 844 },
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
  ],
});
const errors = [];
const requests = [];
let result;
try {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (r) => errors.push('failed: ' + r.url()));
  page.on('request', (r) => requests.push(r.url()));
  const response = await page.goto(url, { waitUntil: 'load', timeout: 20000 });
  const text = await page.innerText('body');
  await page.screenshot({ path: screenshot, fullPage: true });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  result = { ok: response.status() === 200 && errors.length === 0, status: response.status(), errors, requests, scrollWidth: wide, text };
} catch (e) {
  result = { ok: false, errors: errors.concat(String(e)) };
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
