// What the browser tests share: headless Debian chromium with nothing reaching out by itself, the
// local stacks' ready files, the loopback check, and a browser context that keeps screenshots and
// the page's text when a walk goes wrong.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before } from 'node:test';

import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = resolve(process.env.ARTIFACTS_DIR || 'artifacts/browser');
// This machine's network is closed: nothing in Chromium may try to reach out by itself.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A local stack's ready file (`LOCAL_STACK_READY_FILE`), named by `envName`, with `keys` in it. */
export function readStack(envName, keys) {
  const path = process.env[envName];
  assert.ok(path, `${envName} must name a local-stack ready file (LOCAL_STACK_READY_FILE)`);
  const s = JSON.parse(readFileSync(path, 'utf8'));
  for (const k of keys) assert.ok(s[k], `${path}: no ${k}`);
  return s;
}

/** Is this URL on the loopback address the whole stack listens on? */
export function onLoopback(url) {
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname === '127.0.0.1';
  } catch {
    return false;
  }
}

/**
 * Launches the browser before the file's tests and closes it after (call once, at the top level);
 * returns `{ browser, shots }`: `browser` once launched, `shots` the screenshot paths to list.
 */
export function useBrowser() {
  const h = { browser: undefined, shots: [] };
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // playwright-core launches with a new, empty --user-data-dir of its own.
    h.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await h.browser?.close();
    if (h.shots.length) console.log(`screenshots:\n${h.shots.map((s) => `  ${s}`).join('\n')}`);
  });
  return h;
}

/**
 * Runs `walk(context, problems)` in a new browser context with `options`; on failure keeps each
 * page's screenshot (`<label>-FAILED-pageN.png`), URL and text, and the console errors collected
 * in `problems`. The context is closed either way.
 */
export async function inContext(h, label, options, walk) {
  const context = await h.browser.newContext(options);
  const problems = [];
  try {
    await walk(context, problems);
  } catch (e) {
    for (const [i, page] of context.pages().entries()) {
      const path = `${ARTIFACTS}/${label}-FAILED-page${i + 1}.png`;
      await page.screenshot({ path, fullPage: true }).catch(() => {});
      h.shots.push(path);
      console.log(`--- ${label} page ${i + 1} at failure: ${page.url()}\n${(await page.content().catch(() => '?')).slice(0, 4000)}`);
    }
    if (problems.length) console.log(`--- ${label} console/page errors:\n${problems.join('\n')}`);
    throw e;
  } finally {
    await context.close();
  }
}

/** A phone's screen, as the portal tests hold it. */
export const PHONE_SCREEN = { viewport: { width: 360, height: 640 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

/**
 * Approves the one M-Pesa prompt for `msisdn` of `amount` on the Daraja simulator's phone page,
 * opened in `page`, and waits until the simulator has taken the answer.
 */
export async function approvePrompt(page, phoneUrl, msisdn, amount) {
  const prompt = page.locator('li', { hasText: msisdn }).filter({ hasText: `pay ${amount}` });
  for (let i = 0; ; i++) {
    await page.goto(phoneUrl);
    if ((await prompt.count()) > 0) break;
    assert.ok(i < 20, `no M-Pesa prompt for ${msisdn} on the phone page:\n${await page.content()}`);
    await page.waitForTimeout(250);
  }
  assert.equal(await prompt.count(), 1, 'exactly one prompt for this purchase');
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/phone/answer') && r.status() === 303),
    prompt.getByRole('button', { name: 'Pay' }).tap(),
  ]);
}

/**
 * Collects the context's page errors in `problems`; returns `watch(page)`, which adds that
 * page's console errors.
 */
export function watchProblems(context, problems) {
  context.on('weberror', (e) => problems.push(`page error: ${e.error().message}`));
  return (page) =>
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
}

/** `shot(page, name)`: a numbered full-page screenshot `<label>-NN-<name>.png`, listed at the end. */
export function shooter(h, label) {
  let step = 0;
  return async (page, name) => {
    step += 1;
    const path = `${ARTIFACTS}/${label}-${String(step).padStart(2, '0')}-${name}.png`;
    await page.screenshot({ path, fullPage: true });
    h.shots.push(path);
  };
}

/** Fails if `page` scrolls sideways on a 360 px screen. */
export async function noHorizontalScroll(page, what) {
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(w <= 360, `${what}: the page is ${w}px wide on a 360px screen (horizontal scrolling)`);
}
