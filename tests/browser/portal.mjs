// A guest's walk through the captive portal in a real browser (Debian chromium, headless, driven by
// playwright-core) at a phone's viewport, against the whole local stack: choose a package, enter a
// phone number, approve the M-Pesa prompt on the Daraja simulator's phone page, see "You are
// online" and be forwarded to where the guest was going. Once with JavaScript (the waiting page
// polls), once without (the waiting page refreshes itself).
//
// Run by scripts/test-browser.sh, which starts one local stack per journey (a guest who is online
// is logged straight back in by the portal, so a second purchase needs a fresh stack) and passes
// each stack's ready file (`LOCAL_STACK_READY_FILE`):
//   STACK_JS=path STACK_NOJS=path ARTIFACTS_DIR=dir CHROMIUM=/usr/bin/chromium node --test portal.mjs

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

const PHONE_INPUT = '0712 345 678';
const PHONE_MSISDN = '254712345678';
const PACKAGE = { name: '1 hour', price: 'KES 10' };
// Payment approved to "You are online": callback, SQS long poll, RouterOS login. Seconds, normally.
const ONLINE_TIMEOUT_MS = 30_000;

const h = useBrowser();

function journey(opts) {
  const options = { ...PHONE_SCREEN, locale: 'en-KE', javaScriptEnabled: opts.javaScriptEnabled };
  return inContext(h, opts.mode, options, (context, problems) => walk(context, problems, opts));
}

async function walk(context, problems, { mode, javaScriptEnabled, stackEnv }) {
  const stack = readStack(stackEnv, ['portal', 'guest_portal', 'phone']);
  const dst = new URL(stack.guest_portal).searchParams.get('dst');
  assert.ok(dst && !onLoopback(dst), `the guest portal URL carries an outside destination: ${dst}`);

  context.setDefaultTimeout(15_000);

  // Every request any page makes is recorded. The portal must need nothing from outside (the
  // walled garden holds only the agent). The one request allowed off loopback is the forward to the
  // guest's destination at the end; it is answered here, held until the success page is captured,
  // and never reaches the network.
  const requests = [];
  const offLoopback = [];
  let releaseDestination;
  const destinationHeld = new Promise((r) => (releaseDestination = r));
  let destinationRequested = false;
  context.on('request', (r) => requests.push(r.url()));
  await context.route(
    (url) => !onLoopback(url.href),
    async (route) => {
      const req = route.request();
      if (req.url() === dst && req.isNavigationRequest() && req.frame().parentFrame() === null) {
        destinationRequested = true;
        await destinationHeld;
        await route.fulfill({
          status: 200,
          contentType: 'text/html; charset=utf-8',
          body: '<!doctype html><title>destination</title><p id="arrived">The guest\'s destination</p>',
        });
      } else {
        offLoopback.push(`${req.method()} ${req.url()} (${req.resourceType()})`);
        await route.abort('blockedbyclient');
      }
    },
  );

  const watch = watchProblems(context, problems);
  const shot = shooter(h, mode);

  // 1. The portal, as login.html opens it.
  const portal = await context.newPage();
  watch(portal);
  const res = await portal.goto(stack.guest_portal);
  assert.equal(res.status(), 200);
  await portal.getByRole('heading', { level: 1, name: 'Welcome' }).waitFor();
  assert.match(await portal.locator('h1').innerText(), /Cafe Westlands/);
  const packages = portal.locator('label.pk');
  assert.equal(await packages.count(), 3, 'three packages on sale');
  await noHorizontalScroll(portal, 'packages page');
  await shot(portal, 'portal');

  // 2. Choose a package and enter the phone number.
  const choice = packages.filter({ hasText: PACKAGE.name }).filter({ hasText: PACKAGE.price });
  assert.equal(await choice.count(), 1, `one package "${PACKAGE.name}" at ${PACKAGE.price}`);
  await choice.tap();
  assert.ok(await choice.locator('input[type=radio]').isChecked(), 'tapping the package selects it');
  await portal.getByLabel('M-Pesa phone number').fill(PHONE_INPUT);
  await shot(portal, 'portal-filled');

  // 3. Pay: the portal asks the cloud for an STK push and shows the waiting page.
  await Promise.all([portal.waitForURL(/\/wait\//), portal.getByRole('button', { name: 'Pay with M-Pesa' }).tap()]);
  await portal.getByRole('heading', { level: 1, name: 'Check your phone' }).waitFor();
  assert.match(await portal.locator('#m').innerText(), /M-Pesa prompt has been sent/);
  await noHorizontalScroll(portal, 'waiting page');
  await shot(portal, 'waiting');

  // 4. The guest's phone: the simulator's page lists the prompt; approve it.
  const phone = await context.newPage();
  watch(phone);
  await approvePrompt(phone, stack.phone, PHONE_MSISDN, 'KES 10');
  await phone.getByText('No prompts waiting.').waitFor();
  assert.match(await phone.locator('body').innerText(), new RegExp(`${PHONE_MSISDN} KES 10 \\(.*\\): 0 `));
  await shot(phone, 'phone-approved');
  await phone.close();

  // 5. Back on the portal: it turns to success by itself (JS polling, or meta refresh without JS).
  await portal.bringToFront();
  // A console error (a blocked status request, say) fails at once, with its message, rather than
  // after the whole timeout.
  const online = portal.getByRole('heading', { level: 1, name: 'You are online' });
  const until = Date.now() + ONLINE_TIMEOUT_MS;
  while (!(await online.isVisible())) {
    assert.deepEqual(problems, [], 'console errors or page errors while waiting for "You are online"');
    assert.ok(Date.now() < until, `not online ${ONLINE_TIMEOUT_MS / 1000}s after the payment was approved`);
    await portal.waitForTimeout(200);
  }
  const body = await portal.locator('main').innerText();
  assert.match(body, /Enjoy the internet\./);
  const cont = portal.getByRole('link', { name: 'Continue' });
  await cont.waitFor({ state: 'visible' });
  assert.equal(await cont.getAttribute('href'), dst, 'Continue leads to where the guest was going');
  if (!javaScriptEnabled) {
    // The server-rendered success page: time left and the forwarding note.
    assert.match(portal.url(), /\/wait\//);
    assert.match(body, /Time left: (59 minutes|1 hour)/);
    assert.match(body, /Taking you to where you were going/);
  }
  await noHorizontalScroll(portal, 'success page');
  await shot(portal, 'success');

  // 6. Forwarded to the destination by itself (script, or the success page's meta refresh).
  const forwarded = portal.waitForURL(dst, { timeout: 10_000 });
  const deadline = Date.now() + 10_000;
  while (!destinationRequested && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(destinationRequested, 'the success page forwards the guest to the destination');
  releaseDestination();
  await forwarded;
  await portal.locator('#arrived').waitFor();

  // 7. Coming back to the portal while paid up: logged straight back in, nothing more to buy.
  await portal.goto(stack.guest_portal);
  await portal.getByRole('heading', { level: 1, name: 'You are online' }).waitFor();
  assert.equal(await portal.locator('label.pk').count(), 0, 'no packages offered to a guest who is online');
  await shot(portal, 'back-online');

  assert.deepEqual(offLoopback, [], 'requests that left the loopback (external assets?)');
  const outside = requests.filter((u) => !onLoopback(u));
  assert.ok(outside.length >= 1, 'the forward to the destination was seen');
  assert.deepEqual(
    outside.filter((u) => u !== dst),
    [],
    'only the forwards to the destination were off loopback',
  );
  assert.ok(requests.length > outside.length, 'requests were recorded');
  assert.deepEqual(problems, [], 'console errors or page errors');
}

test('guest buys a package with JavaScript enabled', () =>
  journey({ mode: 'js', javaScriptEnabled: true, stackEnv: 'STACK_JS' }));

test('guest buys a package with JavaScript disabled', () =>
  journey({ mode: 'nojs', javaScriptEnabled: false, stackEnv: 'STACK_NOJS' }));
