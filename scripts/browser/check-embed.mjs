// Drives <beacon-lead-form> in headless Chromium, keyboard only, from a page on another origin,
// against a running Beacon, and checks what the visitor sees and what staff then find.
// Run by scripts/check-embed-in-browser.sh, which starts Beacon and sets:
//   BEACON_URL   the API (its BEACON_CORS_ORIGINS lists http://127.0.0.1:PAGE_PORT)
//   PAGE_PORT    where this script serves the embedding page
//   BEACON_KEY   a `leads:read` key, to count leads through the staff API
//   BEACON_CONSENT_TEXT, BEACON_CONSENT_VERSION   as Beacon was configured
import http from 'node:http';
import { chromium } from 'playwright-core';

const api = new URL(process.env.BEACON_URL);
const pageOrigin = `http://127.0.0.1:${process.env.PAGE_PORT}`;
const key = process.env.BEACON_KEY;
const consentText = process.env.BEACON_CONSENT_TEXT;
const consentVersion = process.env.BEACON_CONSENT_VERSION;
const ARTICLE = 'ketamine-for-depression';

const failures = [];
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
  return ok;
}

// The embedding site: one page with the script and the element, as the README shows it.
const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clinic</title>
<script src="${api.origin}/v1/embed/lead-form.js" defer></script>
<style>beacon-lead-form { --beacon-accent: rgb(0, 100, 0); }</style></head>
<body><main><h1>Ketamine for depression</h1>
<beacon-lead-form api="${api.origin}" article="${ARTICLE}" heading="Ask about treatment"
  button-text="Send enquiry"></beacon-lead-form></main></body></html>`;
const site = http.createServer((_, response) => {
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  response.end(html);
});
await new Promise((resolve) => site.listen(Number(process.env.PAGE_PORT), '127.0.0.1', resolve));

async function staff(path) {
  const response = await fetch(new URL(path, api), { headers: { Authorization: `Bearer ${key}` } });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}
const leads = async () => (await staff('/v1/leads?include_spam=true&limit=100')).items;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const context = await browser.newContext({ locale: 'en-US', timezoneId: 'America/Los_Angeles' });
const allowedHosts = new Set([api.host, new URL(pageOrigin).host]);
const outside = [];
const failed = [];
let abortedRequests = 0;
const posts = [];
context.on('request', (request) => {
  const url = new URL(request.url());
  if (url.protocol !== 'data:' && !allowedHosts.has(url.host)) outside.push(request.url());
  if (request.method() === 'POST' && url.pathname === '/v1/leads') {
    posts.push(request.headers()['idempotency-key']);
  }
});
context.on('requestfailed', (request) => {
  // The one send this script aborts on purpose (step 4) fails as net::ERR_FAILED.
  if (request.failure()?.errorText === 'net::ERR_FAILED' && abortedRequests === 0) abortedRequests += 1;
  else failed.push(request.url());
});

/** The element focus is on, looking into shadow roots. */
async function focused(page) {
  return page.evaluate(() => {
    let element = document.activeElement;
    while (element?.shadowRoot?.activeElement) element = element.shadowRoot.activeElement;
    return element ? {
      tag: element.tagName.toLowerCase(), name: element.getAttribute('name'),
      value: element.getAttribute('value'), type: element.getAttribute('type'),
      part: element.getAttribute('part'), className: element.className,
      invalid: element.getAttribute('aria-invalid'), text: element.textContent,
    } : null;
  });
}

/** Presses Tab until `wanted` holds for the focused element; every stop is recorded. */
const visited = [];
async function tabTo(page, wanted, what) {
  for (let i = 0; i < 40; i += 1) {
    await page.keyboard.press('Tab');
    const now = await focused(page);
    visited.push(now);
    if (now && wanted(now)) return true;
  }
  throw new Error(`Tab never reached ${what}`);
}
const field = (name) => (element) => element.name === name && element.type !== 'checkbox';
const box = (name, value) => (element) => element.type === 'checkbox' && element.name === name
  && (value === undefined || element.value === value);
const button = (element) => element.tag === 'button';

async function openForm() {
  const page = await context.newPage();
  await page.goto(`${pageOrigin}/`, { waitUntil: 'networkidle' });
  await page.locator('beacon-lead-form input[name=interests]').first().waitFor({ timeout: 10000 })
    .catch(() => {
      throw new Error('the checklist never rendered (is the page in BEACON_CORS_ORIGINS?)');
    });
  return page;
}

/** Types into the focused field, replacing what it held (keyboard only). */
async function retype(page, text) {
  await page.keyboard.press('Control+A');
  await page.keyboard.type(text);
}

// A step that cannot go on (a timeout, Tab never reaching a field) fails the check by name.
try {
// 1. The checklist renders from /v1/interests, in order, inside a fieldset with a legend.
let page = await openForm();
const interests = (await (await fetch(new URL('/v1/interests', api))).json()).items;
const labels = await page.locator('beacon-lead-form fieldset label.choice').allTextContents();
check(JSON.stringify(labels) === JSON.stringify(interests.map((i) => i.label)),
  `the checklist shows the ${interests.length} interests of /v1/interests in order`);
check(await page.locator('beacon-lead-form fieldset > legend').count() === 1,
  'the checklist is a fieldset with a legend');
check((await page.locator('beacon-lead-form label[for=beacon-consent]').textContent()).includes(consentText),
  'the consent box shows the configured wording');
check(await page.locator('beacon-lead-form').evaluate((element) => element.shadowRoot !== null),
  'the form lives in a shadow root');
const accent = await page.locator('beacon-lead-form button[type=submit]')
  .evaluate((element) => getComputedStyle(element).backgroundColor);
check(accent === 'rgb(0, 100, 0)', 'the page styles it through --beacon-accent');
check(await page.locator('beacon-lead-form button[type=submit]').textContent() === 'Send enquiry',
  'the button-text attribute names the button');

// 2. Errors: an empty name and a bad number, sent with Enter from the phone field.
await tabTo(page, field('name'), 'the name field');
await tabTo(page, field('phone'), 'the phone field');
await page.keyboard.type('555-1234');
await page.keyboard.press('Enter');
await page.locator('beacon-lead-form #beacon-name-error').waitFor({ state: 'visible', timeout: 10000 });
const nameError = await page.locator('beacon-lead-form #beacon-name-error').textContent();
const phoneError = await page.locator('beacon-lead-form #beacon-phone-error').textContent();
check(nameError.length > 0 && phoneError.toLowerCase().includes('phone'),
  `each bad field shows its error beside it ("${phoneError}")`);
check(await page.locator('beacon-lead-form #beacon-phone').getAttribute('aria-invalid') === 'true',
  'the bad fields are marked aria-invalid');
const afterErrors = await focused(page);
check(afterErrors?.name === 'name', 'focus moves to the first field with an error');
check((await page.locator('beacon-lead-form .summary [role=alert]').textContent()).includes('correct'),
  'the problem is announced (role=alert)');
check((await leads()).length === 0, 'a refused enquiry creates no lead');

// 3. A keyboard-only enquiry: Tab, typing, Space and Enter; exactly one lead, as sent.
await page.keyboard.type('Jane Keyboard');
await tabTo(page, field('phone'), 'the phone field');
await retype(page, '(415) 555-2671');
await tabTo(page, box('interests', 'treatment_resistant_depression'), 'an interest');
await page.keyboard.press('Space');
await tabTo(page, box('consent'), 'the consent box');
await page.keyboard.press('Space');
await tabTo(page, button, 'the Send button');
check(!visited.some((element) => element?.name === 'website'), 'Tab never stops on the honeypot');
await page.keyboard.press('Enter');
const done = page.locator('beacon-lead-form .done');
await done.waitFor({ state: 'visible', timeout: 15000 });
const thanks = await done.textContent();
check(/We will call you by (today|tomorrow|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b.*\d/.test(thanks),
  `the confirmation gives the deadline in words ("${thanks.replace(/\s+/g, ' ').trim()}")`);
check((await focused(page))?.part === 'confirmation', 'focus moves to the confirmation');
check(await page.locator('beacon-lead-form [role=status]').textContent() !== '',
  'the confirmation is announced (aria-live)');
let listed = await leads();
check(listed.length === 1, `exactly one lead was created (found ${listed.length})`);
if (listed.length === 1) {
  const lead = await staff(`/v1/leads/${listed[0].id}`);
  check(lead.status === 'new', `it is a real enquiry, not quarantined (status ${lead.status})`);
  check(lead.name === 'Jane Keyboard' && lead.phone_e164 === '+14155552671', 'with the name and number typed');
  check(JSON.stringify(lead.interests) === '["treatment_resistant_depression"]', 'with the interest ticked');
  check(lead.consent[0]?.agreed === true && lead.consent[0]?.wording === consentText
    && lead.consent[0]?.form_version === consentVersion, 'with the consent wording and version shown');
  check(lead.submissions[0].attribution.article_slug === ARTICLE
    && lead.submissions[0].attribution.landing_page?.startsWith(pageOrigin), 'with the article and page');
  const shown = await done.locator('time').getAttribute('datetime');
  check(shown === lead.contact_by, 'the deadline shown is the lead\'s contact_by');
}
await page.close();

// 4. A network error on the first attempt: retried with the same Idempotency-Key, one lead.
page = await openForm();
let aborted = false;
await page.route(`${api.origin}/v1/leads`, (route) => {
  if (!aborted) {
    aborted = true;
    return route.abort('failed');
  }
  return route.continue();
});
posts.length = 0;
await tabTo(page, field('name'), 'the name field');
await page.keyboard.type('Ray Retry');
await tabTo(page, field('phone'), 'the phone field');
await page.keyboard.type('(212) 555-0143');
await page.keyboard.press('Enter');
await page.locator('beacon-lead-form .done').waitFor({ state: 'visible', timeout: 15000 });
check(aborted && posts.length === 2 && posts[0] && posts[0] === posts[1],
  `a failed send is retried with the same Idempotency-Key (${posts.length} attempts)`);
listed = await leads();
check(listed.length === 2, `the retried enquiry is one more lead (now ${listed.length})`);
await page.close();

// 5. Suicidal ideation: the crisis resources appear at once, first, and take focus.
page = await openForm();
await tabTo(page, field('name'), 'the name field');
await page.keyboard.type('Sam Crisis');
await tabTo(page, field('phone'), 'the phone field');
await page.keyboard.type('(646) 555-0199');
await tabTo(page, box('interests', 'suicidal_ideation'), 'the suicidal ideation box');
await page.keyboard.press('Space');
await tabTo(page, button, 'the Send button');
await page.keyboard.press('Enter');
const crisis = page.locator('beacon-lead-form .crisis');
await crisis.waitFor({ state: 'visible', timeout: 15000 });
check(await crisis.getAttribute('role') === 'alert', 'the crisis resources are announced (role=alert)');
check(await crisis.locator('a[href="tel:988"]').count() > 0, 'they offer to call 988');
check((await focused(page))?.className === 'crisis', 'focus moves to the crisis resources');
check(await page.locator('beacon-lead-form .done > :first-child').getAttribute('class') === 'crisis',
  'they come before the confirmation');
listed = await leads();
const urgent = listed.filter((lead) => lead.priority === 'urgent');
check(urgent.length === 1, 'the crisis enquiry is an urgent lead');
await page.close();
} catch (error) {
  check(false, `the check stopped: ${String(error.message).split('\n')[0]}`);
} finally {
  await browser.close();
  site.close();
}

check(outside.length === 0, `no request left the machine${outside.length ? `: ${outside.join(', ')}` : ''}`);
check(failed.length === 0, `no request failed${failed.length ? `: ${failed.join(', ')}` : ''}`);
if (failures.length) {
  console.error(`\n${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('\nthe embedded form works');
