// A subscriber account in a real browser (Debian chromium, headless, playwright-core): the
// operator sells it on the dashboard's Accounts page and reads the number and password off the
// answer; the subscriber, on a phone (360×640), signs in to their own page (`/account`, served by
// the portal function through the gateway), renews by an M-Pesa prompt, approves it on the Daraja
// simulator's phone page, and the waiting page (which refreshes itself: no script needed) says
// until when the account now runs. Once with JavaScript, once without.
//
// Run by scripts/test-browser.sh after the other walks, on the same stacks:
//   STACK_JS=path STACK_NOJS=path ARTIFACTS_DIR=dir CHROMIUM=/usr/bin/chromium node --test subscriber.mjs

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  PHONE_SCREEN,
  approvePrompt,
  inContext,
  noHorizontalScroll,
  onLoopback,
  readStack,
  shooter,
  useBrowser,
  watchProblems,
} from './harness.mjs';

// Not the other walks' numbers: one prompt per number a minute.
const PHONE_INPUT = '0733 000 222';
const PHONE_MSISDN = '254733000222';
// Approved to "Renewed": the callback, then the waiting page's next refresh (every 3 s).
const RENEWED_TIMEOUT_MS = 30_000;

const h = useBrowser();

function journey(opts) {
  const options = { ...PHONE_SCREEN, locale: 'en-KE', javaScriptEnabled: opts.javaScriptEnabled };
  return inContext(h, `subscriber-${opts.mode}`, options, (context, problems) => walk(context, problems, opts));
}

async function walk(context, problems, { mode, stackEnv }) {
  const stack = readStack(stackEnv, ['gateway', 'dashboard', 'dashboard_login', 'dashboard_password', 'router_id', 'phone']);
  context.setDefaultTimeout(15_000);
  const offLoopback = [];
  await context.route(
    (url) => !onLoopback(url.href),
    async (route) => {
      offLoopback.push(`${route.request().method()} ${route.request().url()}`);
      await route.abort('blockedbyclient');
    },
  );
  const watch = watchProblems(context, problems);
  const shot = shooter(h, `subscriber-${mode}`);

  // 1. The operator sells the account at the counter, on the dashboard.
  const desk = await context.newPage();
  watch(desk);
  await desk.goto(stack.dashboard);
  await desk.getByLabel('Login').fill(stack.dashboard_login);
  await desk.getByLabel('Password').fill(stack.dashboard_password);
  await desk.getByRole('button', { name: 'Sign in' }).click();
  await desk.goto(new URL(`/admin/accounts/${stack.router_id}`, stack.dashboard).href);
  await desk.getByLabel(/^Package/).selectOption('24h');
  await desk.getByLabel('Service').selectOption('pppoe');
  await desk.getByLabel(/^Name/).fill('Wanjiku');
  await desk.getByLabel(/^Phone for SMS/).fill(PHONE_INPUT);
  await desk.getByRole('button', { name: 'Sell' }).click();
  const sold = desk.locator('.msg', { hasText: 'sold.' });
  await sold.waitFor();
  const text = await sold.innerText();
  const number = text.match(/account \(user name\) (\d+)/)?.[1];
  const password = text.match(/password (\S+)/)?.[1];
  assert.ok(number && password, `the number and password on the sale's answer:\n${text}`);
  await shot(desk, 'sold');
  await desk.close();

  // 2. The subscriber signs in to their page: a wrong password shows nothing of the account.
  const page = await context.newPage();
  watch(page);
  await page.goto(new URL('/account', stack.gateway).href);
  await page.getByRole('heading', { level: 1, name: 'Your internet account' }).waitFor();
  await page.getByLabel('Account number').fill(number);
  await page.getByLabel('Password').fill('not-it');
  await page.getByRole('button', { name: 'Sign in' }).tap();
  await page.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
  // The refusal is a 403, which Chromium reports on the console: that one is expected.
  assert.deepEqual(problems.splice(0), ['console: Failed to load resource: the server responded with a status of 403 (Forbidden)']);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).tap();
  await page.getByRole('heading', { level: 1, name: 'Hello Wanjiku' }).waitFor();
  assert.match(await page.locator('.card').first().innerText(), new RegExp(`Account: ${number}[\\s\\S]*Paid to: `));
  await noHorizontalScroll(page, 'account page');
  await shot(page, 'account');

  // 3. Renew for a day (the first choice), from the number they type.
  const choice = page.locator('label.pk', { hasText: 'KES 50' });
  assert.equal(await choice.count(), 1, 'one choice at KES 50');
  await choice.tap();
  await page.getByLabel('M-Pesa number to pay from').fill(PHONE_INPUT);
  await Promise.all([
    page.waitForURL((u) => u.pathname.startsWith('/account/pay/')),
    page.getByRole('button', { name: 'Pay with M-Pesa' }).tap(),
  ]);
  await page.getByRole('heading', { level: 1, name: 'Waiting for payment' }).waitFor();
  await noHorizontalScroll(page, 'waiting page');
  await shot(page, 'waiting');
  const phone = await h.browser.newContext(PHONE_SCREEN);
  await approvePrompt(await phone.newPage(), stack.phone, PHONE_MSISDN, 'KES 50');
  await phone.close();
  const approved = Date.now();

  // 4. The waiting page refreshes itself until it says the account was renewed.
  const renewed = page.getByRole('heading', { level: 1, name: 'Renewed' });
  await renewed.waitFor({ timeout: RENEWED_TIMEOUT_MS });
  console.log(`# subscriber ${mode}: approved -> "Renewed" on the page in ${Date.now() - approved} ms`);
  assert.match(await page.locator('#m').innerText(), new RegExp(`Paid\\. Account ${number} now runs to \\d+ \\w+ \\d{4} \\d\\d:\\d\\d EAT\\.`));
  await shot(page, 'renewed');
  assert.deepEqual(offLoopback, [], 'requests that left the loopback (external assets?)');
  assert.deepEqual(problems, [], 'console errors or page errors');
}

test('a subscriber sold on the dashboard renews from their page with JavaScript enabled', () =>
  journey({ mode: 'js', javaScriptEnabled: true, stackEnv: 'STACK_JS' }));

test('a subscriber sold on the dashboard renews from their page with JavaScript disabled', () =>
  journey({ mode: 'nojs', javaScriptEnabled: false, stackEnv: 'STACK_NOJS' }));
