// Opens Swagger UI in headless Chromium and fails if the page requests anything outside Beacon,
// or if it does not render the API. Usage (needs Debian's chromium and `npm i playwright-core`):
//   BEACON_URL=http://127.0.0.1:8080 node scripts/browser/check-docs-offline.mjs [screenshot.png]
import { chromium } from 'playwright-core';

const base = new URL(process.env.BEACON_URL ?? 'http://127.0.0.1:8080');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage();
const outside = [];
const failed = [];
page.on('request', (request) => {
  const url = new URL(request.url());
  if (url.protocol !== 'data:' && url.host !== base.host) outside.push(request.url());
});
page.on('requestfailed', (request) => failed.push(request.url()));
await page.goto(new URL('/docs/', base).href, { waitUntil: 'networkidle' });
await page.waitForSelector('.opblock', { timeout: 15000 });
const title = await page.textContent('.info .title');
// "Try it out" on /healthz must reach Beacon itself.
// (Try-it-out mode is on by default in Beacon's Swagger UI configuration.)
await page.click('#operations-health-healthz button.opblock-summary-control');
await page.click('#operations-health-healthz .execute');
const tried = await page.textContent('#operations-health-healthz .live-responses-table tbody .response-col_status', { timeout: 10000 });
const operations = await page.locator('.opblock').count();
if (process.argv[2]) await page.screenshot({ path: process.argv[2], fullPage: false });
await browser.close();

console.log(`title: ${title.trim()}; operations rendered: ${operations}; try-it-out status: ${tried.trim()}`);
if (tried.trim() !== '200') process.exit(1);
if (outside.length || failed.length) {
  console.error('requests outside Beacon:', outside, 'failed requests:', failed);
  process.exit(1);
}
console.log('no request left Beacon');
