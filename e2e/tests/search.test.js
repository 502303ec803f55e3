// Message search in a real browser (issue 14): Ctrl+K focuses the field, typing (debounced)
// lists the matches with the match highlighted, ↓ and Enter open one in its conversation, the
// message scrolled into view and highlighted (its history loaded with `around`); the
// conversation header searches only that conversation; Escape ends the search. Screenshots
// (desktop and phone) land in target/screenshots/.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, registerPeople, screenshot, signIn, startChat, watchErrors } from './helpers.js';

const PASSWORD = 'correct horse battery staple';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** More than a page (50) after the target, so opening it needs older history. */
const FILLER = 70;

test('search by keyboard, open a result, the message highlighted in context', async (t) => {
  const { server, browser, errors } = await startChat(t);

  const sfx = Date.now().toString(36).slice(-6);
  const [alice, bob, carol] = await registerPeople(server, sfx, PASSWORD, 'Alice Martin', 'Bob Chen', 'Carol Diaz');
  const withBob = await alice.openRoom(bob.user.username);
  const withCarol = await alice.openRoom(carol.user.username);
  const target = 'The ADDRESS is 12 Rue des Écoles, second floor';
  await bob.send(withBob.id, target);
  for (let i = 1; i <= FILLER; i += 1) {
    await (i % 2 ? bob : alice).send(withBob.id, `Filler ${i}`);
  }
  await carol.send(withCarol.id, 'My address changed last week');

  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  watchErrors(page, 'alice', errors);
  const field = page.getByRole('combobox', { name: 'Search messages' });
  const hits = page.locator('.search-hit');

  await t.test('Ctrl+K focuses the search; one character is not searched', async () => {
    await signIn(page, server.base, alice.user.username, PASSWORD);
    await page.locator('.room-item').first().waitFor();
    await page.keyboard.press('Control+k');
    await eventually(async () => assert.equal(await field.evaluate((el) => el === document.activeElement), true), {
      what: 'search field focused',
    });
    await page.keyboard.type('a');
    await page.getByText('Type at least 2 characters to search.').waitFor();
    assert.equal(await hits.count(), 0);
  });

  await t.test('results show the peer, the time and the match highlighted, any case', async () => {
    await page.keyboard.type('ddress');
    await eventually(async () => assert.equal(await hits.count(), 2), { what: 'two results' });
    // Newest first: Carol's message, then Bob's.
    const marks = await page.locator('.search-hit mark').allTextContents();
    assert.deepEqual(marks, ['address', 'ADDRESS']);
    assert.match(await hits.nth(0).locator('.hit-peer').textContent(), /Carol Diaz/);
    assert.match(await hits.nth(1).locator('.hit-peer').textContent(), /Bob Chen/);
    assert.equal(await hits.nth(1).locator('time').count(), 1);
    // The room list gives way to the results.
    assert.equal(await page.locator('.room-list').count(), 0);
    await screenshot(page, 'search-results-desktop.png');
  });

  await t.test('↓ ↓ Enter opens the older result in context, highlighted', async () => {
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.equal(await hits.nth(1).getAttribute('aria-selected'), 'true');
    assert.equal(
      await field.getAttribute('aria-activedescendant'),
      await hits.nth(1).getAttribute('id'),
    );
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/rooms/${withBob.id}`);
    const row = page.locator('.messages .row.highlight', { hasText: '12 Rue des Écoles' });
    await row.waitFor({ timeout: 10_000 });
    // In view, in the middle of its history (older messages loaded around it).
    const inView = await row.evaluate((el) => {
      const list = el.closest('.messages').getBoundingClientRect();
      const r = el.getBoundingClientRect();
      return r.top >= list.top && r.bottom <= list.bottom;
    });
    assert.equal(inView, true);
    assert.ok((await page.locator('.messages .row', { hasText: 'Filler 1' }).count()) >= 1);
    await screenshot(page, 'search-opened-desktop.png');
  });

  await t.test('the conversation header searches this conversation only; Escape ends it', async () => {
    await page.getByRole('button', { name: 'Search in this conversation' }).click();
    await eventually(async () => assert.equal(await field.evaluate((el) => el === document.activeElement), true), {
      what: 'search field focused',
    });
    await page.locator('.search-scope', { hasText: 'Bob Chen' }).waitFor();
    await eventually(async () => assert.equal(await hits.count(), 1), { what: 'one result in the conversation' });
    assert.match(await hits.first().textContent(), /Rue des Écoles/);
    await field.fill('zzqq');
    await page.getByText('No messages match “zzqq”.').waitFor();
    await page.keyboard.press('Escape');
    await page.locator('.room-list').waitFor();
    assert.equal(await field.inputValue(), '');
  });

  await t.test('on a phone the results cover the list, and a result opens the conversation', async () => {
    const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    watchErrors(p, 'phone', errors);
    await signIn(p, server.base, alice.user.username, PASSWORD);
    const phoneField = p.getByRole('combobox', { name: 'Search messages' });
    await phoneField.fill('address');
    await eventually(async () => assert.equal(await p.locator('.search-hit').count(), 2), { what: 'two results' });
    await screenshot(p, 'search-results-phone.png');
    await p.locator('.search-hit').nth(1).click();
    await p.locator('.messages .row.highlight', { hasText: '12 Rue des Écoles' }).waitFor({ timeout: 10_000 });
    await screenshot(p, 'search-opened-phone.png');
    await phone.close();
  });

  assert.deepEqual(errors, []);
});
