// The operators' dashboard in a real browser (Debian chromium, headless, playwright-core), on the
// stacks portal.mjs has just used: each has a guest who bought "1 hour" with 0712 345 678 and is
// online. The owner signs in, sees the router online, finds the guest's purchase by phone, re-sends
// the grant, disconnects the session, generates vouchers and downloads their PDF, which poppler
// (pdftotext, pdftoppm: readers we did not write) reads back.
//
// The full walk runs once per stack: JavaScript on at 360×640 (a phone), off at 1280×800 (a desk).
// A second walk per stack, at the other size, does everything but the one-time actions (a session
// is disconnected once). Screenshots go to ARTIFACTS_DIR with the PDFs and their rendered pages.
//
// Run by scripts/test-browser.sh after portal.mjs:
//   STACK_JS=path STACK_NOJS=path ARTIFACTS_DIR=dir CHROMIUM=/usr/bin/chromium node --test admin.mjs

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';

import { ARTIFACTS, inContext, onLoopback, readStack, useBrowser } from './harness.mjs';

const PHONE_SEARCH = '0712 345 678';
const PHONE_SHOWN = '254712345678';
const PORTAL_FOR_SLIPS = 'http://wifi.cafe/';
const PHONE_VIEW = { width: 360, height: 640 };
const DESK_VIEW = { width: 1280, height: 800 };
// A grant re-sent or a revoke sent reaches the router in a long poll: seconds.
const ROUTER_TIMEOUT_MS = 30_000;

const h = useBrowser();

function session(opts) {
  const phone = opts.viewport.width < 500;
  const options = {
    viewport: opts.viewport,
    deviceScaleFactor: phone ? 2 : 1,
    isMobile: phone,
    hasTouch: phone,
    locale: 'en-KE',
    javaScriptEnabled: opts.javaScriptEnabled,
    acceptDownloads: true,
  };
  return inContext(h, opts.mode, options, (context, problems) => walk(context, problems, opts));
}

async function walk(context, problems, { mode, stackEnv, viewport, actions }) {
  const stack = readStack(stackEnv, ['dashboard', 'dashboard_login', 'dashboard_password']);
  context.setDefaultTimeout(15_000);
  // The dashboard needs nothing from outside: any such request is a failure.
  const offLoopback = [];
  await context.route(
    (url) => !onLoopback(url.href),
    async (route) => {
      offLoopback.push(route.request().url());
      await route.abort('blockedbyclient');
    },
  );
  context.on('weberror', (e) => problems.push(`page error: ${e.error().message}`));
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });

  let step = 0;
  const shot = async (name) => {
    step += 1;
    const path = `${ARTIFACTS}/admin-${mode}-${String(step).padStart(2, '0')}-${name}.png`;
    await page.screenshot({ path, fullPage: true });
    h.shots.push(path);
  };
  const fits = async (what) => {
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= viewport.width, `${what}: the page is ${w}px wide on a ${viewport.width}px screen`);
  };
  const heading = (name) => page.getByRole('heading', { level: 1, name });
  const note = () => page.getByRole('status').innerText();

  // 1. Signed out, the dashboard sends you to sign in; a wrong password is refused.
  await page.goto(stack.dashboard);
  await heading('Sign in').waitFor();
  await page.getByLabel('Login').fill(stack.dashboard_login);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  assert.match(await note(), /Wrong login or password/);
  // The refusal is a 401, which Chromium reports on the console: that one is expected.
  assert.deepEqual(problems.splice(0), ['console: Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
  await fits('sign-in page');
  await shot('sign-in-refused');
  await page.getByLabel('Login').fill(stack.dashboard_login);
  await page.getByLabel('Password').fill(stack.dashboard_password);
  await page.getByRole('button', { name: 'Sign in' }).click();

  // 2. The fleet: the café's router, online.
  await heading('Fleet').waitFor();
  const row = page.locator('tr', { hasText: 'Cafe Westlands' });
  assert.equal(await row.count(), 1, 'the router is on the fleet page');
  assert.match(await row.innerText(), /online/);
  assert.match(await page.locator('main p').first().innerText(), /0 offline/);
  await fits('fleet page');
  await shot('fleet');

  // 3. The support desk: the guest's purchase, by the phone number as the guest says it.
  await page.getByRole('link', { name: 'Support' }).click();
  await heading('Support').waitFor();
  await page.getByLabel(/Phone number/).fill(PHONE_SEARCH);
  await page.getByRole('button', { name: 'Find' }).click();
  const found = page.locator('tbody tr', { hasText: '1 hour' });
  assert.equal(await found.count(), 1, 'one purchase for this phone');
  assert.match(await found.innerText(), /2547\*+5678/);
  await fits('search results');
  await shot('found');
  await found.getByRole('link').click();
  await heading('Purchase').waitFor();
  const purchaseUrl = page.url();
  const timeline = await page.locator('ol.tl').innerText();
  for (const s of [/Prompt sent/i, /Paid/i, /Grant queued/i, /Online/i]) assert.match(timeline, s);
  assert.match(await page.locator('main table').innerText(), new RegExp(PHONE_SHOWN));
  await fits('purchase page');
  await shot('purchase');

  if (actions) {
    // 4. Re-send the grant, give a day more, then disconnect the session.
    await page.getByRole('button', { name: 'Re-send the grant' }).click();
    assert.match(await note(), /grant sent to the router again/);
    await shot('resent');
    await page.getByLabel('Give more time').selectOption('1d');
    await page.getByRole('button', { name: 'Extend' }).click();
    assert.match(await note(), /extended by 1d: the session now ends/);
    await page.getByRole('button', { name: 'Disconnect' }).click();
    assert.match(await note(), /disconnected/);
    await shot('disconnected');
    // The router ends the session: the purchase page no longer offers to disconnect it.
    const until = Date.now() + ROUTER_TIMEOUT_MS;
    for (;;) {
      await page.goto(purchaseUrl);
      if ((await page.getByRole('button', { name: 'Disconnect' }).count()) === 0) break;
      assert.ok(Date.now() < until, 'the session did not end on the router');
      await page.waitForTimeout(300);
    }
    assert.match(await page.locator('ol.tl').innerText(), /Ended/i);
    await shot('ended');
  }

  // 5. Vouchers: a batch of the package, and its sheet as PDF.
  await page.getByRole('link', { name: 'Vouchers' }).click();
  await heading('Vouchers').waitFor();
  await page.getByRole('link', { name: 'Cafe Westlands' }).click();
  await page.getByLabel('Package').selectOption('1h');
  await page.getByLabel(/How many/).fill('5');
  await page.getByRole('button', { name: 'Generate' }).click();
  const made = await note();
  const batch = made.match(/Batch (vb-[0-9]{8}-[0-9a-f]{6}): 5 voucher\(s\) pushed/);
  assert.ok(batch, `a batch of 5: ${made}`);
  await fits('vouchers page');
  await shot('vouchers');
  const card = page.locator('div.msg', { hasText: batch[1] });
  assert.match(await card.innerText(), /5 of 5 on the router/);
  await card.getByLabel(/Portal address/).fill(PORTAL_FOR_SLIPS);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    card.getByRole('button', { name: 'Download PDF' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), `${batch[1]}.pdf`);
  const pdf = `${ARTIFACTS}/admin-${mode}-${batch[1]}.pdf`;
  await download.saveAs(pdf);
  assert.equal(readFileSync(pdf).subarray(0, 5).toString(), '%PDF-');
  const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
  const codes = text.match(/\b[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}\b/g) || [];
  assert.equal(new Set(codes).size, 5, `five codes on the sheet:\n${text}`);
  assert.match(text, /1 hour/);
  assert.match(text, /KES 10/);
  assert.ok(text.includes(PORTAL_FOR_SLIPS), 'the portal address under the QR code');
  const png = `${ARTIFACTS}/admin-${mode}-sheet`;
  execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', '-singlefile', pdf, png]);
  assert.ok(statSync(`${png}.png`).size > 10_000, 'the sheet renders to a real page image');
  h.shots.push(`${png}.png`);

  // 6. Revenue: the takings by router, a chart that fits the screen, the totals as CSV.
  await page.getByRole('link', { name: 'Revenue' }).click();
  await heading('Revenue').waitFor();
  await page.getByLabel('By').selectOption('router');
  await page.getByRole('button', { name: 'Show' }).click();
  assert.match(await note(), /KES [\d,]+ from [1-9]\d* payment\(s\)/);
  assert.match(await page.locator('main table').innerText(), /cafe-westlands/);
  const chart = await page.locator('svg[role=img]').boundingBox();
  assert.ok(chart && chart.width > 200 && chart.width <= viewport.width, `the chart fits: ${JSON.stringify(chart)}`);
  await fits('revenue page');
  await shot('revenue');
  const [csv] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download CSV' }).click(),
  ]);
  const csvPath = `${ARTIFACTS}/admin-${mode}-revenue.csv`;
  await csv.saveAs(csvPath);
  assert.match(readFileSync(csvPath, 'utf8'), /^router,currency,payments,amount\ncafe-westlands,KES,[1-9]\d*,[1-9]\d*\nTOTAL,KES,/);

  // 7. Operators: a staff member for the café invited; the page shows their one-time link.
  await page.getByRole('link', { name: 'Operators' }).click();
  await heading('Operators').waitFor();
  await page.locator('#new-login').fill(`staff-${mode}@cafe.ke`);
  await page.locator('#new-role').selectOption('staff');
  await page.locator('#new-router').fill('cafe-westlands');
  await page.getByRole('button', { name: 'Invite' }).click();
  assert.match(await note(), new RegExp(`staff-${mode}@cafe.ke invited as staff for cafe-westlands`));
  const link = await page.getByLabel('Invite link').inputValue();
  assert.match(link, /^https?:\/\/[^/]+\/admin\/invite\?t=[0-9a-f]{64}$/);
  const opCard = page.locator('div.msg', { hasText: new RegExp(`staff-${mode}@cafe\\.ke.*staff for cafe-westlands`) });
  assert.equal(await opCard.count(), 1, 'the new operator is listed with their role');
  await fits('operators page');
  await shot('operators');

  // 8. Sign out: the session is over, its cookie with it.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await heading('Sign in').waitFor();
  await page.goto(purchaseUrl);
  await heading('Sign in').waitFor();

  assert.deepEqual(offLoopback, [], 'requests that left the loopback');
  assert.deepEqual(problems, [], 'console errors or page errors');
}

test('owner on a phone, JavaScript on: settles a complaint and prints vouchers', () =>
  session({ mode: 'js-phone', stackEnv: 'STACK_JS', viewport: PHONE_VIEW, javaScriptEnabled: true, actions: true }));

test('owner at a desk, JavaScript off: settles a complaint and prints vouchers', () =>
  session({ mode: 'nojs-desk', stackEnv: 'STACK_NOJS', viewport: DESK_VIEW, javaScriptEnabled: false, actions: true }));

test('owner at a desk, JavaScript on: finds the purchase and prints vouchers', () =>
  session({ mode: 'js-desk', stackEnv: 'STACK_JS', viewport: DESK_VIEW, javaScriptEnabled: true, actions: false }));

test('owner on a phone, JavaScript off: finds the purchase and prints vouchers', () =>
  session({ mode: 'nojs-phone', stackEnv: 'STACK_NOJS', viewport: PHONE_VIEW, javaScriptEnabled: false, actions: false }));
