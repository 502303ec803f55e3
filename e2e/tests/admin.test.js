// The administration section in a real browser (issue 6): an administrator made with the CLI
// reads a conversation between two other people, deletes one of their messages (both see the
// tombstone in place, live, without reloading) and disables one of them (his open page loses
// its session, his next sign-in is refused). A normal user sees no admin link and /admin
// answers "not authorised". Screenshots land in target/screenshots/.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, makeAdmin, registerPeople, screenshot, signIn, startChat, watchErrors } from './helpers.js';

const PASSWORD = 'correct horse battery staple';
const ADMIN_PASSWORD = 'admin secret password';
const DESKTOP = { width: 1280, height: 800 };
const TOMBSTONE = 'This message was deleted by an administrator.';
/** More than one page (50) of history, so the admin view has older messages to load. */
const HISTORY = 56;

const rows = (page, text) => page.locator('.messages .row', { hasText: text });

/** The texts of the message rows of the open conversation, in order. */
async function chatTexts(page) {
  return page.locator('.messages .row .text').allInnerTexts();
}

test('an administrator reads, moderates and disables; members see it live', async (t) => {
  const { server, browser, errors } = await startChat(t);

  const sfx = Date.now().toString(36).slice(-6);
  const [alice, bob] = await registerPeople(server, sfx, PASSWORD, 'Alice Martin', 'Bob Chen');
  const room = await alice.openRoom(bob.user.username);
  for (let i = 1; i <= HISTORY; i += 1) {
    const who = i % 2 ? alice : bob;
    await who.send(room.id, `Message ${i} of the history`);
  }
  const secret = 'The door code is 4711, keep it between us';
  await alice.send(room.id, secret);
  await bob.send(room.id, 'Got it, thanks!');
  const rootName = `root_${sfx}`;
  await makeAdmin(server, rootName, ADMIN_PASSWORD, 'Rita Root');

  const contexts = {};
  const pages = {};
  for (const name of ['alice', 'bob', 'admin']) {
    contexts[name] = await browser.newContext({ viewport: DESKTOP });
    pages[name] = await contexts[name].newPage();
    watchErrors(pages[name], name, errors);
  }
  const { alice: a, bob: b, admin } = pages;

  await t.test('Alice and Bob have their conversation open in their own browsers', async () => {
    await signIn(a, server.base, alice.user.username, PASSWORD);
    await signIn(b, server.base, bob.user.username, PASSWORD);
    await a.goto(`${server.base}/rooms/${room.id}`);
    await b.goto(`${server.base}/rooms/${room.id}`);
    for (const page of [a, b]) {
      await eventually(async () => assert.equal(await rows(page, secret).count(), 1), { what: 'the secret message' });
      await eventually(async () => assert.equal(await page.locator('.me-status').textContent(), 'Online'), {
        what: 'the socket is up',
      });
      // A marker that a reload would wipe: the tombstone must arrive without one.
      await page.evaluate(() => {
        window.__noReload = true;
      });
      assert.equal(await page.getByRole('link', { name: 'Administration' }).count(), 0, 'no admin link for members');
    }
  });

  await t.test('the administrator signs in, follows the admin link and sees every user', async () => {
    await signIn(admin, server.base, rootName, ADMIN_PASSWORD);
    await admin.getByRole('link', { name: 'Administration' }).click();
    await admin.waitForURL(/\/admin$/);
    const table = admin.locator('.users-table');
    await table.waitFor();
    for (const name of [alice.user.username, bob.user.username, rootName]) {
      await eventually(async () => assert.equal(await table.locator(`tr[data-username="${name}"]`).count(), 1), {
        what: `row of ${name}`,
      });
    }
    const aliceRow = table.locator(`tr[data-username="${alice.user.username}"]`);
    assert.match(await aliceRow.textContent(), /Alice Martin/);
    assert.match(await aliceRow.textContent(), /Online/);
    assert.match(await aliceRow.textContent(), /Active/);
    assert.equal((await aliceRow.locator('td.num').textContent()).trim(), String(HISTORY / 2 + 1));
    // No Disable button on one's own row.
    const rootRow = table.locator(`tr[data-username="${rootName}"]`);
    assert.equal(await rootRow.getByRole('button').count(), 0);
    assert.match(await rootRow.textContent(), /Admin/);

    // Sorting by a column header, both ways; the header says how it is sorted.
    const messages = table.getByRole('button', { name: /^Messages/ });
    await messages.click();
    assert.equal(await table.locator('th[aria-sort]').getAttribute('aria-sort'), 'descending');
    const order = async () => table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.username));
    assert.equal((await order())[0], alice.user.username);
    await messages.click();
    assert.equal(await table.locator('th[aria-sort]').getAttribute('aria-sort'), 'ascending');
    assert.equal((await order())[0], rootName);

    // Searching by name.
    await admin.getByLabel('Search users by name').fill('chen');
    await eventually(async () => assert.deepEqual(await order(), [bob.user.username]), { what: 'search result' });
    await admin.getByLabel('Search users by name').fill('');
    await eventually(async () => assert.equal((await order()).length, 3), { what: 'all users again' });
    await screenshot(admin, 'admin-users.png');
  });

  await t.test("the administrator opens Alice and Bob's conversation and pages back", async () => {
    await admin.getByRole('link', { name: 'Conversations' }).click();
    await admin.waitForURL(/\/admin\/rooms$/);
    await admin.getByLabel('Search conversations by member name').fill('alice martin');
    await admin.getByRole('link', { name: 'Alice Martin & Bob Chen' }).click();
    await admin.waitForURL(new RegExp(`/admin/rooms/${room.id}$`));
    const list = admin.locator('.admin-msgs');
    await eventually(async () => assert.equal(await list.locator('.admin-msg').count(), 50), {
      what: 'the latest page of 50',
    });
    const last = list.locator('.admin-msg').last();
    assert.match(await last.textContent(), /Bob Chen/);
    assert.match(await last.textContent(), /Got it, thanks!/);
    await admin.getByRole('button', { name: 'Load older messages' }).click();
    await eventually(async () => assert.equal(await list.locator('.admin-msg').count(), HISTORY + 2), {
      what: 'the whole history',
    });
    await admin.locator('.beginning').waitFor();
    const seqs = await list.locator('.admin-msg').evaluateAll((lis) => lis.map((li) => Number(li.dataset.seq)));
    assert.deepEqual(seqs, Array.from({ length: HISTORY + 2 }, (_, i) => i + 1), 'every message once, in order');
  });

  await t.test('deleting a message (confirmed) shows the tombstone in place for everyone, live', async () => {
    const before = await chatTexts(a);
    const at = before.findIndex((text) => text === secret);
    assert.ok(at >= 0);

    const item = admin.locator('.admin-msg', { hasText: secret });
    // Cancelling first changes nothing.
    await item.hover();
    await item.getByRole('button', { name: /^Delete message/ }).click();
    const dialog = admin.getByRole('alertdialog');
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /Delete this message\?/);
    await admin.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await admin.locator('.admin-msg.deleted').count(), 0);

    await item.hover();
    await item.getByRole('button', { name: /^Delete message/ }).click();
    // The dialog takes the focus, on the safe choice.
    await eventually(async () => assert.equal(await admin.evaluate(() => document.activeElement.textContent), 'Cancel'));
    await sleep(300); // past the fade-in
    await screenshot(admin, 'admin-confirm.png');
    await dialog.getByRole('button', { name: 'Delete message' }).click();
    await dialog.waitFor({ state: 'detached' });
    const tomb = admin.locator('.admin-msg.deleted');
    await eventually(async () => assert.equal(await tomb.count(), 1), { what: 'the tombstone in the admin view' });
    assert.match(await tomb.textContent(), new RegExp(TOMBSTONE));
    assert.equal(await admin.getByText(secret).count(), 0);
    await admin.locator('.admin-msgs-wrap').evaluate((el) => {
      const row = el.querySelector('.admin-msg.deleted');
      el.scrollTop = row.offsetTop - el.clientHeight / 2;
    });
    await screenshot(admin, 'admin-conversation.png');

    for (const page of [a, b]) {
      await eventually(async () => assert.equal(await page.locator('.messages .row.deleted').count(), 1), {
        what: 'the tombstone in a member window',
      });
      const after = await chatTexts(page);
      assert.equal(after.length, before.length, 'no message added or removed');
      assert.equal(after[at], TOMBSTONE, 'the tombstone sits where the message was');
      assert.equal(await page.getByText(secret).count(), 0);
      assert.equal(await page.evaluate(() => window.__noReload), true, 'the page was not reloaded');
    }
  });

  await t.test('disabling Bob (confirmed) ends his session; his sign-in is refused', async () => {
    await admin.getByRole('link', { name: 'Users' }).click();
    const bobRow = admin.locator(`.users-table tr[data-username="${bob.user.username}"]`);
    await bobRow.getByRole('button', { name: `Disable @${bob.user.username}` }).click();
    const dialog = admin.getByRole('alertdialog');
    assert.match(await dialog.textContent(), new RegExp(`Disable @${bob.user.username}\\?`));
    await dialog.getByRole('button', { name: 'Disable account' }).click();
    await dialog.waitFor({ state: 'detached' });
    await eventually(async () => assert.match(await bobRow.textContent(), /Disabled/), { what: 'Bob shown disabled' });
    await bobRow.getByRole('button', { name: `Enable @${bob.user.username}` }).waitFor();

    // His socket is closed and his session refused: the page falls back to the sign-in form.
    await eventually(async () => assert.equal(await b.getByRole('button', { name: 'Sign in' }).count(), 1), {
      timeout: 20_000,
      what: "Bob's page showing the sign-in form",
    });
    await b.getByLabel('Username').fill(bob.user.username);
    await b.getByLabel('Password').fill(PASSWORD);
    await b.getByRole('button', { name: 'Sign in' }).click();
    await eventually(async () => assert.match(await b.locator('.form-error').textContent(), /disabled/i), {
      what: 'the refusal shown to Bob',
    });
    assert.equal(await b.locator('.sidebar').count(), 0);
    await assert.rejects(bob.call('GET', '/me'), /401/, "Bob's old token is dead");

    // Alice is not affected.
    assert.equal(await a.locator('.sidebar').count(), 1);
    assert.equal(await a.locator('.me-status').textContent(), 'Online');
  });

  await t.test('enabling Bob again (confirmed) lets him sign in', async () => {
    const bobRow = admin.locator(`.users-table tr[data-username="${bob.user.username}"]`);
    await bobRow.getByRole('button', { name: `Enable @${bob.user.username}` }).click();
    await admin.getByRole('alertdialog').getByRole('button', { name: 'Enable account' }).click();
    await eventually(async () => assert.match(await bobRow.textContent(), /Active/), { what: 'Bob shown active' });
    await b.getByRole('button', { name: 'Sign in' }).click();
    await b.waitForSelector('.sidebar');
  });

  await t.test('the audit log lists every action', async () => {
    await admin.getByRole('link', { name: 'Audit log' }).click();
    const table = admin.locator('.audit-table');
    await table.waitFor();
    const actions = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.action));
    assert.deepEqual(actions.slice(0, 4), ['enable_user', 'disable_user', 'delete_message', 'create_admin']);
    assert.match(await table.locator('tbody tr').nth(1).textContent(), new RegExp(`@${bob.user.username}`));
    await screenshot(admin, 'admin-audit.png');

    await admin.setViewportSize({ width: 390, height: 844 });
    await admin.getByRole('link', { name: 'Users' }).click();
    await admin.locator('.users-table').waitFor();
    await screenshot(admin, 'admin-users-narrow.png');
    assert.deepEqual(errors, []);
  });
});

test('a normal user gets no admin link, and /admin says not authorised', async (t) => {
  const { server, browser, errors } = await startChat(t);
  const sfx = Date.now().toString(36).slice(-6);
  const [carol] = await registerPeople(server, sfx, PASSWORD, 'Carol Diaz');
  const page = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  watchErrors(page, 'carol', errors);

  // Signed out, /admin asks to sign in first.
  await page.goto(`${server.base}/admin`);
  await page.waitForURL(/\/login/);
  await signIn(page, server.base, carol.user.username, PASSWORD);
  assert.equal(await page.getByRole('link', { name: 'Administration' }).count(), 0);

  await page.goto(`${server.base}/admin`);
  await page.getByRole('heading', { name: 'Not authorised' }).waitFor();
  assert.equal(await page.locator('.admin-table').count(), 0);
  await page.goto(`${server.base}/admin/rooms/1`);
  await page.getByRole('heading', { name: 'Not authorised' }).waitFor();
  await screenshot(page, 'admin-not-authorised.png');
  // The server agrees.
  await assert.rejects(carol.call('GET', '/admin/users'), /403/);
  await page.getByRole('link', { name: 'Back to your conversations' }).click();
  await page.waitForSelector('.sidebar');
  assert.deepEqual(errors, []);
});
