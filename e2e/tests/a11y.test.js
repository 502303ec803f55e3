// Accessibility (issue 10): axe-core, run in the page, on every screen a person or an
// administrator can reach, in the light and the dark palette: no serious or critical
// violation, and a level-one heading on each. The chat is checked on a desktop and a phone
// with a conversation holding a reply, a reaction and an edited message.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient, ROOT, eventually, makeAdmin, registerPeople, screenshot, signIn, startChat, watchErrors } from './helpers.js';

const PASSWORD = 'correct horse battery staple';
const ADMIN_PASSWORD = 'admin secret password';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const AXE = join(ROOT, 'e2e', 'node_modules', 'axe-core', 'axe.min.js');

/**
 * axe's serious and critical violations of the page as it is now, in both palettes, plus a
 * missing h1 (axe rates that "moderate", the issue asks for one on every page).
 */
async function audit(page, screen) {
  const found = [];
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await sleep(400); // backgrounds and colours have short transitions
    if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
    const violations = await page.evaluate(async () => {
      const result = await window.axe.run(document, { resultTypes: ['violations'] });
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target.join(' '), why: n.failureSummary })),
      }));
    });
    for (const v of violations) {
      if (v.impact === 'serious' || v.impact === 'critical') found.push({ screen: `${screen} (${scheme})`, ...v });
    }
    if ((await page.locator('h1').count()) === 0) {
      found.push({ screen: `${screen} (${scheme})`, id: 'h1', impact: 'issue 10', help: 'no <h1>', nodes: [] });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return found;
}

/** The id of the focused element. */
const activeId = (page) => page.evaluate(() => document.activeElement?.id ?? '');

/** One readable line per failing element. */
function describe(violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes.slice(0, 8).map((n) => `      ${n.target}\n        ${(n.why || '').replace(/\n/g, '\n        ')}`);
      const more = v.nodes.length > 8 ? `\n      … and ${v.nodes.length - 8} more` : '';
      return `  ${v.screen}: ${v.id} [${v.impact}] ${v.help}\n${nodes.join('\n')}${more}`;
    })
    .join('\n');
}

test('axe-core finds no serious or critical violation on any screen, light or dark', async (t) => {
  const { server, browser, errors } = await startChat(t);

  const sfx = Date.now().toString(36).slice(-6);
  const [alice, bob, carol] = await registerPeople(server, sfx, PASSWORD, 'Alice Martin', 'Bob Chen', 'Carol Diaz');
  const room = await alice.openRoom(bob.user.username);
  const carolRoom = await carol.openRoom(alice.user.username);
  await carol.send(carolRoom.id, 'Are we still on for Friday?');
  const question = await bob.send(room.id, 'Did you get the notes from the meeting?');
  await alice.call('POST', `/rooms/${room.id}/messages`, {
    body: 'Yes, reading them now',
    client_id: crypto.randomUUID(),
    reply_to: question.seq,
  });
  await alice.call('PUT', `/rooms/${room.id}/messages/${question.seq}/reactions/${encodeURIComponent('👍')}`);
  const typo = await bob.send(room.id, 'See you at 12:03');
  await bob.call('PATCH', `/rooms/${room.id}/messages/${typo.seq}`, { body: 'See you at 12:30' });
  const gone = await bob.send(room.id, 'Something best forgotten');
  const rootName = `root_${sfx}`;
  await makeAdmin(server, rootName, ADMIN_PASSWORD, 'Rita Root');
  const root = new ApiClient(server.base);
  const login = await root.call('POST', '/auth/login', { username: rootName, password: ADMIN_PASSWORD });
  root.token = login.token;
  // A tombstone in the admin's view and an entry in the audit log.
  await root.call('DELETE', `/admin/messages/${gone.id}`);

  const violations = [];
  const newPage = async (viewport, label) => {
    // bypassCSP: the audit injects axe-core as an inline script, which the app's policy forbids.
    const context = await browser.newContext({ viewport, bypassCSP: true });
    const page = await context.newPage();
    watchErrors(page, label, errors);
    return page;
  };

  await t.test('sign-in and sign-up', async () => {
    const page = await newPage(DESKTOP, 'visitor');
    await page.goto(`${server.base}/login`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    violations.push(...(await audit(page, 'sign-in')));
    // With an error shown, too.
    await page.getByLabel('Username').fill('nobody_here');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.form-error').waitFor();
    violations.push(...(await audit(page, 'sign-in, wrong password')));
    await page.goto(`${server.base}/register`);
    await page.getByRole('button', { name: 'Create account' }).waitFor();
    violations.push(...(await audit(page, 'sign-up')));
    await page.context().close();
  });

  await t.test('the chat with a conversation open, desktop and phone; settings', async () => {
    for (const [viewport, size] of [
      [DESKTOP, 'desktop'],
      [PHONE, 'phone'],
    ]) {
      const page = await newPage(viewport, `alice ${size}`);
      await signIn(page, server.base, alice.user.username, PASSWORD);
      if (size === 'phone') violations.push(...(await audit(page, 'chat list, phone')));
      await page.goto(`${server.base}/rooms/${room.id}`);
      await page.locator('.messages .row', { hasText: 'See you at 12:30' }).waitFor();
      await page.locator('.chip').first().waitFor();
      await page.locator('.reply-quote').first().waitFor();
      await page.mouse.move(1, 1);
      violations.push(...(await audit(page, `chat, conversation open, ${size}`)));
      if (size === 'desktop') {
        // What opens over the conversation: its menu, the reaction picker, message search.
        await page.getByRole('button', { name: 'Conversation menu' }).click();
        await page.getByRole('menu').waitFor();
        violations.push(...(await audit(page, 'chat, conversation menu')));
        await page.keyboard.press('Escape');
        await page.getByRole('menu').waitFor({ state: 'detached' });
        await page.locator('.chip-add').first().click();
        await page.getByRole('dialog', { name: 'Add a reaction' }).waitFor();
        violations.push(...(await audit(page, 'chat, reaction picker')));
        await page.keyboard.press('Escape');
        await page.getByRole('dialog', { name: 'Add a reaction' }).waitFor({ state: 'detached' });
        await page.getByRole('button', { name: 'Search in this conversation' }).click();
        await page.keyboard.type('notes');
        await page.locator('#search-results li').first().waitFor();
        violations.push(...(await audit(page, 'chat, message search results')));
      }
      if (size === 'desktop') {
        await page.goto(`${server.base}/settings`);
        await page.getByLabel('System').waitFor();
        violations.push(...(await audit(page, 'settings')));
      }
      await page.context().close();
    }
  });

  await t.test('every admin screen, and "not authorised"', async () => {
    const page = await newPage(DESKTOP, 'admin');
    await signIn(page, server.base, rootName, ADMIN_PASSWORD);
    await page.goto(`${server.base}/admin`);
    await page.locator(`.users-table tr[data-username="${bob.user.username}"]`).waitFor();
    violations.push(...(await audit(page, 'admin users')));
    await page.getByRole('button', { name: `Disable @${bob.user.username}` }).click();
    await page.getByRole('alertdialog').waitFor();
    violations.push(...(await audit(page, 'admin users, disable dialog')));
    await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('alertdialog').waitFor({ state: 'detached' });
    await page.goto(`${server.base}/admin/rooms`);
    await page.getByRole('link', { name: 'Alice Martin & Bob Chen' }).waitFor();
    violations.push(...(await audit(page, 'admin conversations')));
    await page.goto(`${server.base}/admin/rooms/${room.id}`);
    await page.locator('.admin-msg', { hasText: 'See you at 12:30' }).waitFor();
    violations.push(...(await audit(page, 'admin conversation')));
    await page.locator('.admin-msg', { hasText: 'See you at 12:30' }).getByRole('button', { name: /History/ }).click();
    await page.getByRole('dialog').locator('.revision').first().waitFor();
    violations.push(...(await audit(page, 'admin conversation, earlier versions')));
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.goto(`${server.base}/admin/audit`);
    await page.locator('.audit-table').waitFor();
    violations.push(...(await audit(page, 'admin audit log')));
    await page.context().close();

    const member = await newPage(DESKTOP, 'carol');
    await signIn(member, server.base, carol.user.username, PASSWORD);
    await member.goto(`${server.base}/admin`);
    await member.getByRole('heading', { name: 'Not authorised' }).waitFor();
    violations.push(...(await audit(member, 'admin, not authorised')));
    await member.context().close();
  });

  await t.test('words and focus: first visit, focus after sign-in and on opening a room, the limit, a disabled account', async () => {
    const page = await newPage(DESKTOP, 'alice, words');
    await page.goto(`${server.base}/login`);
    assert.equal(await page.locator('h1').textContent(), 'Welcome', 'a first visit is not welcomed back');
    // Signed in straight into a conversation: the composer has the focus.
    await page.goto(`${server.base}/login?next=${encodeURIComponent(`/rooms/${room.id}`)}`);
    await page.getByLabel('Username').fill(alice.user.username);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#composer-input').waitFor();
    await eventually(async () => assert.equal(await activeId(page), 'composer-input'), { what: 'focus in the composer after sign-in' });
    // Opening another room from the home screen: the focus follows into its composer.
    await page.goto(`${server.base}/`);
    await eventually(async () => assert.equal(await activeId(page), 'people-search'), { what: 'focus in the people search at home' });
    await page.locator('.room-item', { hasText: 'Carol Diaz' }).click();
    await page.locator('.conv-title h2', { hasText: 'Carol Diaz' }).waitFor();
    await eventually(async () => assert.equal(await activeId(page), 'composer-input'), { what: 'focus in the composer of the opened room' });

    // Over the limit: Send is disabled, and the composer says why in words.
    await page.locator('#composer-input').fill('x'.repeat(4012));
    await eventually(async () =>
      assert.equal(await page.locator('#composer-over').textContent(), '12 characters over the 4,000 limit: shorten the message to send it.'),
    );
    assert.equal(await page.locator('.send-btn').isDisabled(), true);
    assert.equal(await page.locator('.counter').isVisible(), false, 'no bare "-12"');
    violations.push(...(await audit(page, 'composer over the limit')));
    await screenshot(page, 'composer-over-limit.png');
    await page.locator('#composer-input').fill('x'.repeat(3990));
    await eventually(async () => assert.equal(await page.locator('#composer-over').textContent(), ''));
    assert.equal(await page.locator('.send-btn').isDisabled(), false);
    await page.locator('#composer-input').fill('');

    // Signed out and back: now a returning visitor.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.equal(await page.locator('h1').textContent(), 'Welcome back');
    await page.context().close();

    // Dave is disabled while his page is open: it says why he was signed out, and so does
    // his next try.
    const dave = new ApiClient(server.base);
    await dave.register(`dave_${sfx}`, PASSWORD, 'Dave Ellis');
    const d = await newPage(DESKTOP, 'dave');
    await signIn(d, server.base, dave.user.username, PASSWORD);
    await d.locator('.me-status', { hasText: 'Online' }).waitFor();
    await root.call('POST', `/admin/users/${dave.user.id}/disable`);
    await eventually(
      async () => assert.match(await d.locator('.form-error').textContent(), /^You were signed out: an administrator has disabled this account/),
      { what: "Dave's page explaining the sign-out" },
    );
    violations.push(...(await audit(d, 'signed out: account disabled')));
    await screenshot(d, 'signed-out-disabled.png');
    await d.getByLabel('Username').fill(dave.user.username);
    await d.getByLabel('Password').fill(PASSWORD);
    await d.getByRole('button', { name: 'Sign in' }).click();
    await eventually(async () =>
      assert.equal(
        await d.locator('.form-error').textContent(),
        'This account has been disabled by an administrator, so it cannot sign in. Ask an administrator to enable it again.',
      ),
    );
    await d.context().close();
  });

  assert.equal(violations.length, 0, `accessibility violations:\n${describe(violations)}`);
  assert.deepEqual(errors, []);
});
