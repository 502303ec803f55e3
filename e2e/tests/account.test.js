// Account and conversation controls in a real browser (issue 15): a new display name shows on
// the peer's screen live; a password change signs the other browser out; a muted room shows
// its icon and leaves the tab title alone; "Mark as unread" shows the room unread; blocking
// (after a confirmation) replaces the composer with a notice and an Unblock button, and the
// blocked person's send shows the server's message. Screenshots land in target/screenshots/.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, registerPeople, screenshot, signIn, startChat, watchErrors } from './helpers.js';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'another horse, another battery';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

test('rename live, password change signs out elsewhere, mute, mark unread, block', async (t) => {
  const { server, browser, errors } = await startChat(t);

  const sfx = Date.now().toString(36).slice(-6);
  const [alice, bob] = await registerPeople(server, sfx, PASSWORD, 'Alice Martin', 'Bob Chen');
  const room = await alice.openRoom(bob.user.username);
  await bob.send(room.id, 'Hello Alice');

  const a = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  const b = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  const a2 = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  watchErrors(a, 'A', errors);
  watchErrors(b, 'B', errors);
  watchErrors(a2, 'A2', errors);

  await t.test('settings: a new display name shows on the peer’s screen live', async () => {
    await signIn(a, server.base, alice.user.username, PASSWORD);
    await signIn(b, server.base, bob.user.username, PASSWORD);
    await b.goto(`${server.base}/rooms/${room.id}`);
    await b.locator('.conv-head h2', { hasText: 'Alice Martin' }).waitFor();
    await a.getByRole('link', { name: 'Settings', exact: true }).click();
    await a.waitForURL('**/settings');
    await a.getByText('Administrators of this server can read every conversation, including edited and deleted messages.').waitFor();
    await a.getByLabel('Display name').fill('Alice M. Laurent');
    await a.getByRole('button', { name: 'Save name' }).click();
    await a.getByText('Your name is saved.').waitFor();
    await b.locator('.conv-head h2', { hasText: 'Alice M. Laurent' }).waitFor();
    await b.locator('.room-name', { hasText: 'Alice M. Laurent' }).waitFor();
  });

  await t.test('sessions: this device is marked; a password change signs the other browser out', async () => {
    await signIn(a2, server.base, alice.user.username, PASSWORD);
    await a.reload();
    const sessions = a.getByRole('list', { name: 'Sessions' }).locator('li');
    await eventually(async () => assert.ok((await sessions.count()) >= 2), { what: 'two sessions' });
    assert.equal(await a.locator('.session.current .tag', { hasText: 'This device' }).count(), 1);
    await screenshot(a, 'settings-desktop.png');
    await a.getByLabel('Current password').fill('not the password');
    await a.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await a.getByRole('button', { name: 'Change password' }).click();
    await a.getByText('Your current password is not right.').waitFor();
    await a.getByLabel('Current password').fill(PASSWORD);
    await a.getByRole('button', { name: 'Change password' }).click();
    await a.getByText('Password changed.', { exact: false }).waitFor();
    // The other browser lands on the sign-in page without touching anything.
    await a2.waitForURL('**/login**', { timeout: 10_000 });
    // This one stays signed in.
    await a.goto(`${server.base}/rooms/${room.id}`);
    await a.locator('.conv-head h2', { hasText: 'Bob Chen' }).waitFor();
  });

  await t.test('mute: the icon shows, and a new message leaves the tab title alone', async () => {
    await a.getByRole('button', { name: 'Conversation menu' }).click();
    await a.getByRole('menuitem', { name: 'Mute notifications' }).click();
    await a.locator('.room-item .room-muted').waitFor();
    await a.locator('.conv-head .muted-mark').waitFor();
    await a.goto(`${server.base}/`);
    await a.locator('.room-item .room-muted').waitFor();
    await bob.send(room.id, 'A message while muted');
    await a.locator('.room-preview', { hasText: 'A message while muted' }).waitFor();
    assert.equal(await a.title(), 'Chat');
    // Unmuted again, the next message counts.
    await a.locator('.room-item').first().click();
    await a.getByRole('button', { name: 'Conversation menu' }).click();
    await a.getByRole('menuitem', { name: 'Unmute notifications' }).click();
    await eventually(async () => assert.equal(await a.locator('.room-item .room-muted').count(), 0), { what: 'unmuted' });
  });

  await t.test('mark as unread: the room list shows the room unread', async () => {
    await a.getByRole('button', { name: 'Conversation menu' }).click();
    await a.getByRole('menuitem', { name: 'Mark as unread' }).click();
    await a.locator('.room-item.has-unread .unread-dot').waitFor();
    await eventually(async () => assert.equal(await a.title(), '(1) Chat'), { what: 'title counts it' });
    await screenshot(a, 'conversation-menu-unread-desktop.png');
    // Opening it again reads it.
    await a.goto(`${server.base}/`);
    await a.locator('.room-item').first().click();
    await eventually(async () => assert.equal(await a.locator('.room-item .unread-dot').count(), 0), {
      what: 'read on opening',
    });
  });

  await t.test('block: confirm, the composer says so, the blocked person sees the server’s message', async () => {
    await a.getByRole('button', { name: 'Conversation menu' }).click();
    await a.getByRole('menuitem', { name: 'Block Bob Chen' }).click();
    const dialog = a.getByRole('alertdialog');
    await dialog.getByText('Block Bob Chen?').waitFor();
    await dialog.getByRole('button', { name: 'Block' }).click();
    await a.getByText('You cannot message this person', { exact: false }).waitFor();
    assert.equal(await a.getByLabel('Message', { exact: true }).count(), 0);
    await screenshot(a, 'blocked-composer-desktop.png');
    // Bob tries to write.
    const box = b.getByLabel('Message', { exact: true });
    await box.fill('Are you there?');
    await box.press('Enter');
    await b.getByText('not accepting messages', { exact: false }).first().waitFor({ timeout: 15_000 });
    // Unblock from the composer.
    await a.getByRole('button', { name: 'Unblock' }).click();
    await a.getByLabel('Message', { exact: true }).waitFor();
  });

  await t.test('settings on a phone', async () => {
    const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    watchErrors(p, 'phone', errors);
    await signIn(p, server.base, alice.user.username, NEW_PASSWORD);
    await p.goto(`${server.base}/settings`);
    await p.getByRole('list', { name: 'Sessions' }).waitFor();
    await screenshot(p, 'settings-phone.png');
    await p.goto(`${server.base}/rooms/${room.id}`);
    await p.getByRole('button', { name: 'Conversation menu' }).click();
    await p.getByRole('menu').waitFor();
    await screenshot(p, 'conversation-menu-phone.png');
    await phone.close();
  });

  assert.deepEqual(errors, []);
});
