// The message lifecycle in a real browser (issue 12): two people in two browser profiles edit
// with ↑, delete, reply and jump to the original (loading older history), react and unreact,
// each seen live by the other; then one goes offline while the other edits and reacts, and
// comes back to the changes without a reload (the `changed_after` catch-up). Screenshots of the
// toolbar, the picker, a reply, edited and deleted messages, desktop and phone, land in
// target/screenshots/.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, makeAdmin, registerPeople, screenshot, signIn, startChat, watchErrors } from './helpers.js';

const PASSWORD = 'correct horse battery staple';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const ADMINS_NOTE = 'Administrators can still read earlier versions.';
const DELETED = 'This message was deleted';
/** More than a page (50) after the first message, so jumping to it needs older history. */
const FILLER = 70;

/** Message rows whose own text (not a quote of it in a reply) holds `text`. */
const rows = (page, text) =>
  page.locator('.messages .row').filter({ has: page.locator('.bubble > .text', { hasText: text }) });
const composer = (page) => page.getByLabel('Message', { exact: true });

async function expectOnce(page, text, what = `exactly one message "${text}"`) {
  await eventually(async () => assert.equal(await rows(page, text).count(), 1), { what });
}

async function expectNone(page, text) {
  await eventually(async () => assert.equal(await rows(page, text).count(), 0), { what: `no "${text}"` });
}

async function send(page, text) {
  const box = composer(page);
  await box.fill(text);
  await box.press('Enter');
  await eventually(async () => assert.equal(await box.inputValue(), ''), { what: 'composer cleared' });
  await eventually(async () => assert.equal(await page.locator('.row.is-pending').count(), 0), {
    what: 'sent',
  });
}

/** The reaction chip `emoji` under the message holding `text`. */
const chip = (page, text, emoji) => rows(page, text).locator('.chip:not(.chip-add)', { hasText: emoji });

async function chipState(page, text, emoji) {
  // One read of the DOM: a chip may go away between two separate reads.
  const states = await chip(page, text, emoji).evaluateAll((els) =>
    els.map((c) => ({
      count: Number(c.querySelector('.chip-count').textContent),
      mine: c.getAttribute('aria-pressed') === 'true',
      title: c.getAttribute('title'),
    })),
  );
  return states[0] ?? null;
}

async function expectChip(page, text, emoji, expected, what) {
  await eventually(
    async () => {
      const state = await chipState(page, text, emoji);
      if (expected === null) return assert.equal(state, null);
      assert.ok(state, 'chip shown');
      assert.equal(state.count, expected.count);
      if (expected.mine !== undefined) assert.equal(state.mine, expected.mine);
      if (expected.title) assert.match(state.title, expected.title);
    },
    { what },
  );
}

/** Opens the toolbar of the message holding `text` (hover) and clicks `action`. */
async function act(page, text, action) {
  const row = rows(page, text);
  await row.locator('.bubble').hover();
  const button = row.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name: action });
  await button.waitFor();
  await button.click();
}

/** The `data-seq`s of the rows shown, in order. */
async function shownSeqs(page) {
  return page.locator('.messages .row[data-seq]').evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
}

test('edit, delete, reply and react, live in two browsers, and caught up after being offline', async (t) => {
  const { server, browser, errors } = await startChat(t);

  const sfx = Date.now().toString(36).slice(-6);
  const [alice, bob] = await registerPeople(server, sfx, PASSWORD, 'Alice Martin', 'Bob Chen');
  const room = await alice.openRoom(bob.user.username);
  const first = 'The very first question, long ago';
  await alice.send(room.id, first);
  for (let i = 1; i <= FILLER; i += 1) {
    await (i % 2 ? bob : alice).send(room.id, `Filler ${i}`);
  }

  const contextA = await browser.newContext({ viewport: DESKTOP });
  const contextB = await browser.newContext({ viewport: DESKTOP });
  // Bob's sockets, so going offline can also drop the open one (as a lost network does).
  await contextB.addInitScript(() => {
    const Native = window.WebSocket;
    window.__sockets = [];
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        window.__sockets.push(this);
      }
    };
  });
  const a = await contextA.newPage();
  const b = await contextB.newPage();
  watchErrors(a, 'A', errors);
  watchErrors(b, 'B', errors);

  await t.test('both open the conversation', async () => {
    await signIn(a, server.base, alice.user.username, PASSWORD);
    await signIn(b, server.base, bob.user.username, PASSWORD);
    for (const page of [a, b]) {
      await page.goto(`${server.base}/rooms/${room.id}`);
      await expectOnce(page, `Filler ${FILLER}`);
      await eventually(async () => assert.equal(await page.locator('.me-status').textContent(), 'Online'), {
        what: 'the socket is up',
      });
    }
    assert.equal(await rows(a, first).count(), 0, 'the first message is beyond the latest page');
  });

  await t.test('↑ edits the last message; Escape cancels; Enter saves; both see "(edited)"', async () => {
    await send(a, 'Lunch at noon?');
    await expectOnce(b, 'Lunch at noon?');
    const box = composer(a);
    // ↑ then Escape: nothing changes.
    await box.press('ArrowUp');
    const bar = a.locator('.edit-bar');
    await bar.waitFor();
    assert.equal(await box.inputValue(), 'Lunch at noon?');
    assert.match(await bar.textContent(), /Editing/);
    assert.match(await bar.textContent(), new RegExp(ADMINS_NOTE.replace('.', '\\.')));
    await screenshot(a, 'lifecycle-editing.png');
    await box.press('Escape');
    await eventually(async () => assert.equal(await bar.count(), 0), { what: 'editing ended' });
    assert.equal(await box.inputValue(), '');
    // ↑, change, Enter.
    await box.press('ArrowUp');
    await bar.waitFor();
    await box.fill('Lunch at 12:30?');
    await box.press('Enter');
    await eventually(async () => assert.equal(await bar.count(), 0), { what: 'saved' });
    for (const page of [a, b]) {
      await expectOnce(page, 'Lunch at 12:30?');
      await expectNone(page, 'Lunch at noon?');
      await eventually(async () => assert.equal(await rows(page, 'Lunch at 12:30?').locator('.edited').count(), 1), {
        what: '"(edited)"',
      });
    }
    assert.equal(await box.inputValue(), '', 'the composer is empty again');
  });

  await t.test('reactions: the picker, chips with counts and names, toggled live both ways', async () => {
    const text = 'Lunch at 12:30?';
    await act(b, text, 'React');
    const picker = b.getByRole('dialog', { name: 'Add a reaction' });
    await picker.waitFor();
    await screenshot(b, 'lifecycle-picker.png');
    await picker.getByRole('button', { name: 'thumbs up', exact: true }).click();
    await eventually(async () => assert.equal(await picker.count(), 0), { what: 'picker closed' });
    await expectChip(b, text, '👍', { count: 1, mine: true, title: /^You reacted with thumbs up$/ }, 'Bob: his 👍');
    await expectChip(a, text, '👍', { count: 1, mine: false, title: /^Bob Chen reacted with thumbs up$/ }, 'Alice: Bob\'s 👍');

    // Alice adds hers by clicking the chip, then takes it back.
    await chip(a, text, '👍').click();
    await expectChip(a, text, '👍', { count: 2, mine: true, title: /^You and Bob Chen reacted/ }, 'Alice: 2');
    await expectChip(b, text, '👍', { count: 2, mine: true, title: /^You and Alice Martin reacted/ }, 'Bob: 2');
    await chip(a, text, '👍').click();
    await expectChip(b, text, '👍', { count: 1, mine: true }, 'Bob: back to 1');
    await expectChip(a, text, '👍', { count: 1, mine: false }, 'Alice: back to 1');

    // The full list, searched by name.
    await act(a, text, 'React');
    await a.getByRole('dialog', { name: 'Add a reaction' }).waitFor();
    await a.getByRole('button', { name: 'All emoji…' }).click();
    await eventually(async () => assert.ok((await a.locator('.picker .emoji-grid .emoji-btn').count()) > 1000), {
      what: 'the full list',
    });
    await screenshot(a, 'lifecycle-picker-full.png');
    await a.getByLabel('Search emoji by name').fill('unic');
    await screenshot(a, 'lifecycle-picker-search.png');
    await a.getByLabel('Search results').getByRole('button', { name: 'unicorn' }).click();
    // Not one of the frequent ones: its name comes from the lazily fetched list.
    await expectChip(b, text, '🦄', { count: 1, mine: false, title: /^Alice Martin reacted with unicorn$/ }, 'Bob sees 🦄');

    // Bob removes his 👍: the chip goes for both.
    await chip(b, text, '👍').click();
    await expectChip(a, text, '👍', null, 'Alice: 👍 gone');
    await expectChip(b, text, '👍', null, 'Bob: 👍 gone');
    await expectChip(a, text, '🦄', { count: 1, mine: true }, 'Alice keeps 🦄');
  });

  await t.test('reply: a quote in the composer, the sent message quotes it, the quote jumps', async () => {
    await act(b, 'Lunch at 12:30?', 'Reply');
    const bar = b.locator('.reply-bar');
    await bar.waitFor();
    assert.match(await bar.textContent(), /Replying to Alice Martin/);
    assert.match(await bar.textContent(), /Lunch at 12:30\?/);
    // The × cancels, Reply again, then send.
    await b.getByRole('button', { name: 'Cancel reply' }).click();
    await eventually(async () => assert.equal(await bar.count(), 0), { what: 'reply cancelled' });
    await act(b, 'Lunch at 12:30?', 'Reply');
    await bar.waitFor();
    await send(b, 'Sounds good, see you there');
    await eventually(async () => assert.equal(await bar.count(), 0), { what: 'reply bar gone after sending' });
    for (const page of [a, b]) {
      const quote = rows(page, 'Sounds good, see you there').locator('.reply-quote');
      await eventually(async () => assert.match(await quote.textContent(), /Lunch at 12:30\?/), { what: 'the quote' });
    }
    await a.mouse.move(1, 1);
    await screenshot(a, 'lifecycle-reply.png');
    // By keyboard: the toolbar's buttons are in the Tab order and show when focused.
    const replyRow = rows(a, 'Sounds good, see you there');
    await replyRow.locator('.reply-quote').focus();
    await a.keyboard.press('Tab');
    await eventually(
      async () =>
        assert.deepEqual(
          await replyRow.evaluate((el) => [
            document.activeElement.getAttribute('aria-label'),
            getComputedStyle(el.querySelector('.msg-actions')).opacity,
          ]),
          ['React', '1'],
        ),
      { what: 'Tab from the quote lands on React, and the toolbar shows' },
    );
    // Clicking the quote scrolls to the original and highlights it.
    await rows(a, 'Sounds good, see you there').locator('.reply-quote').click();
    await eventually(async () => assert.equal(await rows(a, 'Lunch at 12:30?').and(a.locator('.row.highlight')).count(), 1), {
      what: 'the original highlighted',
    });
  });

  await t.test('a reply to a message beyond the loaded history jumps there, loading it coherently', async () => {
    // Bob answers the very first message (through the API, as another of his devices would).
    await bob.call('POST', `/rooms/${room.id}/messages`, {
      body: 'Coming back to your very first question',
      client_id: crypto.randomUUID(),
      reply_to: 1,
    });
    await expectOnce(a, 'Coming back to your very first question');
    const quote = rows(a, 'Coming back to your very first question').locator('.reply-quote');
    await eventually(async () => assert.match(await quote.textContent(), /The very first question/), {
      what: 'the excerpt of an original not loaded',
    });
    assert.equal(await rows(a, first).count(), 0);
    await quote.click();
    await expectOnce(a, first, 'the original loaded');
    await eventually(async () => assert.equal(await a.locator('.row.highlight[data-seq="1"]').count(), 1), {
      what: 'message 1 highlighted',
    });
    await eventually(
      async () =>
        assert.ok(
          await rows(a, first).evaluate((el) => {
            const r = el.getBoundingClientRect();
            const box = el.closest('.messages').getBoundingClientRect();
            return r.top >= box.top && r.bottom <= box.bottom;
          }),
        ),
      { what: 'message 1 in view' },
    );
    // One unbroken run: the rows rendered around it go 1, 2, 3… (only those near the view are
    // in the DOM), and the timeline holds as many messages as the newest seq: no gap, no double.
    const seqs = await shownSeqs(a);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'no gap, no double');
    const held = await a.locator('.messages').evaluate((el) => Number(el.dataset.held));
    assert.ok(held >= FILLER + 3, `held ${held}`);
    await screenshot(a, 'lifecycle-jump.png');
    await a.locator('.messages').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await eventually(async () => assert.equal((await shownSeqs(a)).at(-1), held), { what: 'the newest is the last held' });
  });

  await t.test('delete asks once (and says admins keep earlier versions), then shows the tombstone for both', async () => {
    await send(a, 'Oops, that was meant for someone else');
    await expectOnce(b, 'Oops, that was meant for someone else');
    await act(a, 'Oops, that was meant for someone else', 'Delete');
    const dialog = a.getByRole('alertdialog');
    await dialog.waitFor();
    assert.match(await dialog.textContent(), new RegExp(ADMINS_NOTE.replace('.', '\\.')));
    await screenshot(a, 'lifecycle-delete-confirm.png');
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await eventually(async () => assert.equal(await dialog.count(), 0), { what: 'dialog closed' });
    for (const page of [a, b]) {
      await expectNone(page, 'Oops, that was meant');
      await eventually(async () => assert.equal(await page.locator('.messages .row.deleted', { hasText: DELETED }).count(), 1), {
        what: 'the tombstone in place',
      });
    }
    // A deleted message has no toolbar.
    const tomb = a.locator('.messages .row.deleted').last();
    await tomb.locator('.bubble').hover();
    assert.equal(await tomb.locator('.msg-actions').count(), 0);
    await b.mouse.move(1, 1);
    await sleep(200);
    await screenshot(b, 'lifecycle-edited-deleted.png');
  });

  await t.test('offline while the other edits and reacts: back online, the changes show without a reload', async () => {
    await b.evaluate(() => { window.__sameDocument = true; });
    await contextB.setOffline(true);
    await b.evaluate(() => window.__sockets.forEach((s) => s.close()));
    await eventually(async () => assert.ok(await b.locator('.banner-warn').isVisible()), { what: 'Bob reconnecting' });

    // Alice, online: edits her last message with ↑ and reacts to Bob's reply.
    const box = composer(a);
    await box.click();
    await box.press('ArrowUp');
    await a.locator('.edit-bar').waitFor();
    assert.equal(await box.inputValue(), 'Lunch at 12:30?');
    await box.fill('Lunch at 13:00 instead?');
    await box.press('Enter');
    await expectOnce(a, 'Lunch at 13:00 instead?');
    await act(a, 'Sounds good, see you there', 'React');
    await a.getByRole('dialog', { name: 'Add a reaction' }).getByRole('button', { name: 'red heart' }).click();
    await expectChip(a, 'Sounds good, see you there', '❤️', { count: 1, mine: true }, 'Alice\'s ❤️');
    await sleep(500);
    assert.equal(await rows(b, 'Lunch at 13:00 instead?').count(), 0, 'Bob, offline, has not seen it yet');

    await contextB.setOffline(false);
    await eventually(async () => assert.equal(await b.locator('.banner-warn').count(), 0), {
      timeout: 30_000,
      what: 'Bob reconnected',
    });
    await expectOnce(b, 'Lunch at 13:00 instead?');
    await expectNone(b, 'Lunch at 12:30?');
    await expectChip(b, 'Sounds good, see you there', '❤️', { count: 1, mine: false, title: /Alice Martin/ }, 'Bob sees ❤️');
    // The quote of Bob's reply follows the original's current text.
    await eventually(
      async () => assert.match(await rows(b, 'Sounds good, see you there').locator('.reply-quote').textContent(), /13:00/),
      { what: 'the quote follows the edit' },
    );
    assert.equal(await b.evaluate(() => window.__sameDocument), true, 'no reload');
  });

  await t.test('screenshots: toolbar on desktop, tap-toolbar and picker sheet on a phone', async () => {
    await rows(a, 'Sounds good, see you there').locator('.bubble').hover();
    await rows(a, 'Sounds good, see you there').locator('.msg-actions').waitFor();
    await sleep(200);
    await screenshot(a, 'lifecycle-toolbar.png');

    const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    watchErrors(p, 'phone', errors);
    await signIn(p, server.base, bob.user.username, PASSWORD);
    await p.goto(`${server.base}/rooms/${room.id}`);
    await expectOnce(p, 'Lunch at 13:00 instead?');
    await sleep(300);
    await screenshot(p, 'lifecycle-phone.png');
    await rows(p, 'Lunch at 13:00 instead?').locator('.bubble .text').tap();
    const toolbar = rows(p, 'Lunch at 13:00 instead?').locator('.msg-actions');
    const shown = () => toolbar.evaluate((el) => getComputedStyle(el).opacity === '1');
    await eventually(async () => assert.ok(await shown()), { what: 'a tap opens the toolbar' });
    await screenshot(p, 'lifecycle-phone-toolbar.png');
    await toolbar.getByRole('button', { name: 'React' }).tap();
    await p.getByRole('dialog', { name: 'Add a reaction' }).waitFor();
    await sleep(200);
    await screenshot(p, 'lifecycle-phone-picker.png');
    await p.getByRole('dialog', { name: 'Add a reaction' }).getByRole('button', { name: 'face with tears of joy' }).tap();
    await expectChip(a, 'Lunch at 13:00 instead?', '😂', { count: 1, mine: false }, 'Alice sees the phone\'s 😂');
    await phone.close();
  });

  await t.test('the admin view shows who deleted what, and the earlier texts of edited messages', async () => {
    await makeAdmin(server, `root_${sfx}`, PASSWORD, 'Rita Root');
    const context = await browser.newContext({ viewport: DESKTOP });
    const admin = await context.newPage();
    watchErrors(admin, 'admin', errors);
    await signIn(admin, server.base, `root_${sfx}`, PASSWORD);
    await admin.goto(`${server.base}/admin/rooms/${room.id}`);
    const deleted = admin.locator('.admin-msg.deleted');
    await eventually(async () => assert.equal(await deleted.count(), 1), { what: 'the deleted message' });
    assert.match(await deleted.textContent(), /Deleted by sender/);
    assert.equal(await admin.getByText('Oops, that was meant').count(), 0, 'the text is not in the conversation');

    const edited = admin.locator('.admin-msg', { hasText: 'Lunch at 13:00 instead?' });
    assert.match(await edited.textContent(), /\(edited\)/);
    await edited.hover();
    await edited.getByRole('button', { name: /^History of message/ }).click();
    const dialog = admin.getByRole('dialog', { name: /History of message/ });
    await dialog.waitFor();
    await eventually(
      async () =>
        assert.deepEqual(await dialog.locator('.revision blockquote').allInnerTexts(), [
          'Lunch at noon?',
          'Lunch at 12:30?',
          'Lunch at 13:00 instead?',
        ]),
      { what: 'three texts, oldest first' },
    );
    await sleep(200);
    await screenshot(admin, 'lifecycle-admin-history.png');
    await admin.keyboard.press('Escape');
    await eventually(async () => assert.equal(await dialog.count(), 0), { what: 'closed' });

    // The sender's deleted text is kept for administrators.
    await deleted.getByRole('button', { name: /^History of message/ }).click();
    await eventually(
      async () => assert.match(await dialog.locator('.revision').last().textContent(), /Oops, that was meant for someone else/),
      { what: 'the deleted text in its history' },
    );
    await admin.keyboard.press('Escape');
    await admin.locator('.admin-msgs-wrap').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await sleep(200);
    await screenshot(admin, 'lifecycle-admin-conversation.png');
    await context.close();
  });

  assert.deepEqual(errors, [], 'no page errors');
});
