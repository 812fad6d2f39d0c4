// A guest of a router in RADIUS mode (no agent) in a real browser (Debian chromium, headless,
// driven by playwright-core) at a phone's viewport: the hotspot's login page (our login.html as
// RouterOS renders it) sends them to the cloud portal, served by the portal function through the
// gateway; they choose a package, enter a phone number, approve the M-Pesa prompt on the Daraja
// simulator's phone page, and the portal sends the browser back to the hotspot's login page with
// the grant's credentials, which the hotspot checks with FreeRADIUS (the real server, which asks
// the radius function): "You are online", then on to the page they wanted. Once with JavaScript
// (the waiting page polls), once without (it refreshes itself).
//
// Run by scripts/test-browser.sh after portal.mjs and admin.mjs, on the same stacks (started with
// `local-stack --radius`):
//   STACK_JS=path STACK_NOJS=path ARTIFACTS_DIR=dir CHROMIUM=/usr/bin/chromium node --test radius.mjs

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

// Not portal.mjs's number: the dashboard's walk (admin.mjs) finds that one's purchase alone.
const PHONE_INPUT = '0722 000 111';
const PHONE_MSISDN = '254722000111';
const PACKAGE = { name: '1 hour', price: 'KES 10' };
// Payment approved to online: callback, the waiting page's next look, one RADIUS round trip.
const ONLINE_TIMEOUT_MS = 30_000;

const h = useBrowser();

function journey(opts) {
  const options = { ...PHONE_SCREEN, locale: 'en-KE', javaScriptEnabled: opts.javaScriptEnabled };
  return inContext(h, `radius-${opts.mode}`, options, (context, problems) => walk(context, problems, opts));
}

async function walk(context, problems, { mode, javaScriptEnabled, stackEnv }) {
  const stack = readStack(stackEnv, ['radius_hotspot', 'radius_wanted', 'radius_router', 'phone']);
  const portalPath = `/portal/${stack.radius_router}`;
  context.setDefaultTimeout(15_000);

  // Everything (hotspot, gateway, simulators) is on loopback: anything else is refused and counted.
  const requests = [];
  const offLoopback = [];
  context.on('request', (r) => requests.push(r.url()));
  await context.route(
    (url) => !onLoopback(url.href),
    async (route) => {
      offLoopback.push(`${route.request().method()} ${route.request().url()}`);
      await route.abort('blockedbyclient');
    },
  );
  const watch = watchProblems(context, problems);
  const started = Date.now();
  const screenshot = shooter(h, `radius-${mode}`);
  const shot = (page, name) => {
    console.log(`# radius ${mode} +${Date.now() - started}ms: ${name} at ${page.url()}`);
    return screenshot(page, name);
  };

  // 1. The hotspot's login page sends the guest on to the cloud portal by itself.
  const portal = await context.newPage();
  watch(portal);
  await portal.goto(stack.radius_hotspot);
  await portal.waitForURL((u) => u.pathname.startsWith(portalPath));
  await portal.getByRole('heading', { level: 1, name: 'Welcome to Cafe Kilimani' }).waitFor();
  const packages = portal.locator('label.pk');
  assert.equal(await packages.count(), 3, 'three packages on sale');
  await noHorizontalScroll(portal, 'packages page');
  await shot(portal, 'portal');

  // 2. Choose a package, enter the number, pay.
  const choice = packages.filter({ hasText: PACKAGE.name }).filter({ hasText: PACKAGE.price });
  assert.equal(await choice.count(), 1, `one package "${PACKAGE.name}" at ${PACKAGE.price}`);
  await choice.tap();
  await portal.getByLabel('M-Pesa phone number').fill(PHONE_INPUT);
  await Promise.all([
    portal.waitForURL((u) => u.pathname.startsWith(`${portalPath}/wait/`)),
    portal.getByRole('button', { name: 'Pay with M-Pesa' }).tap(),
  ]);
  await portal.getByRole('heading', { level: 1, name: 'Check your phone' }).waitFor();
  assert.match(await portal.locator('#m').innerText(), /M-Pesa prompt has been sent/);
  await noHorizontalScroll(portal, 'waiting page');
  await shot(portal, 'waiting');

  // 3. The guest's phone, as a device of its own (its own browser context, so the portal's page
  //    stays the one page in front of this one and goes on by itself): approve the prompt.
  //    (The simulator's page is not ours: its console is not watched.)
  const phoneContext = await h.browser.newContext(PHONE_SCREEN);
  await approvePrompt(await phoneContext.newPage(), stack.phone, PHONE_MSISDN, 'KES 10');
  await phoneContext.close();
  console.log(`# radius ${mode} +${Date.now() - started}ms: approved`);

  // 4. The waiting page (its script, or its own refresh) sends the browser to the hotspot's login
  //    page with the grant's credentials; the hotspot asks RADIUS and the guest is online. With
  //    JavaScript, alogin.html goes on to the page they wanted.
  const hotspotLogin = new URL(stack.radius_hotspot);
  const done = javaScriptEnabled
    ? () => portal.url() === stack.radius_wanted
    : () => portal.url().startsWith(`${hotspotLogin.origin}/login?`);
  const until = Date.now() + ONLINE_TIMEOUT_MS;
  while (!done()) {
    assert.deepEqual(problems, [], 'console errors or page errors while waiting to be online');
    assert.ok(Date.now() < until, `not online ${ONLINE_TIMEOUT_MS / 1000}s after the payment was approved (at ${portal.url()})`);
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`# radius ${mode} +${Date.now() - started}ms: reached ${portal.url()}`);
  if (javaScriptEnabled) {
    await portal.locator('#wanted').waitFor();
  } else {
    await portal.getByRole('heading', { level: 1, name: 'You are online' }).waitFor();
  }
  await shot(portal, 'online');

  // The credentials went to the hotspot and nowhere else; the hotspot's login page was reached
  // with them after the portal, and alogin.html was shown ("You are online") on the way.
  const withCredentials = requests.filter((u) => u.includes('password='));
  assert.ok(withCredentials.length >= 1, 'the hotspot login with the credentials was requested');
  for (const u of withCredentials) {
    assert.ok(u.startsWith(`${hotspotLogin.origin}/login?username=p`), `credentials sent to ${u}`);
  }
  assert.deepEqual(offLoopback, [], 'requests that left the loopback (external assets?)');
  assert.deepEqual(problems, [], 'console errors or page errors');
}

test('a RADIUS router\'s guest buys on the cloud portal with JavaScript enabled', () =>
  journey({ mode: 'js', javaScriptEnabled: true, stackEnv: 'STACK_JS' }));

test('a RADIUS router\'s guest buys on the cloud portal with JavaScript disabled', () =>
  journey({ mode: 'nojs', javaScriptEnabled: false, stackEnv: 'STACK_NOJS' }));
