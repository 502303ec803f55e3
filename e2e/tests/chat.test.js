// The browser end-to-end test of the chat (issue 3): two people in two separate browser
// profiles, the real server with the release web bundle, a third person on the REST API,
// and a server restart in the middle. Screenshots land in target/screenshots/.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient, ChatServer, eventually, freePort, screenshot, startChat, watchErrors } from './helpers.js';

const PASSWORD = 'correct horse battery staple';
const DESKTOP = { width: 1280, height: 800 };
const NARROW = { width: 390, height: 844 };

const roomItem = (page, name) => page.locator('.room-item', { hasText: name });
const rows = (page, text) => page.locator('.messages .row', { hasText: text });

/** The unread badge of the conversation with `name` (0 without a badge). */
async function badge(page, name) {
  // One read of the DOM: the badge may go away between a count() and a getAttribute().
  const counts = await roomItem(page, name)
    .locator('.badge')
    .evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-count'))));
  return counts[0] ?? 0;
}

/** Whether an element lies inside the visible part of the message list. */
async function inView(locator) {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const box = el.closest('.messages').getBoundingClientRect();
    return r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
  });
}

async function expectBadge(page, name, n) {
  await eventually(async () => assert.equal(await badge(page, name), n), { what: `badge of ${name} = ${n}` });
}

async function expectOnce(page, text, timeout = 15_000) {
  await eventually(async () => assert.equal(await rows(page, text).count(), 1), {
    timeout,
    what: `exactly one message "${text}"`,
  });
}

async function register(page, base, user) {
  await page.goto(`${base}/register`);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel(/Display name/).fill(user.name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForSelector('.sidebar');
  await eventually(async () => assert.equal(await page.locator('.me-status').textContent(), 'Online'), {
    what: 'the socket is up',
  });
}

async function send(page, text) {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
  await eventually(async () => assert.equal(await box.inputValue(), ''), { what: 'composer cleared' });
}

async function settled(page) {
  await eventually(async () => assert.equal(await page.locator('.row.is-pending, .row.is-failed').count(), 0), {
    what: 'no pending or failed messages',
  });
}

test('two people chat live through the real server, across a reload and a server restart', async (t) => {
  const { server, browser, errors } = await startChat(t);

  const sfx = Date.now().toString(36).slice(-6);
  const alice = { username: `alice_${sfx}`, name: 'Alice Martin' };
  const bob = { username: `bob_${sfx}`, name: 'Bob Chen' };
  const carolName = 'Carol Diaz';
  const carol = new ApiClient(server.base);

  const contextA = await browser.newContext({ viewport: DESKTOP });
  const contextB = await browser.newContext({ viewport: DESKTOP });
  const a = await contextA.newPage();
  const b = await contextB.newPage();
  watchErrors(a, 'A', errors);
  watchErrors(b, 'B', errors);

  const multiLine = 'Line one\nline two: <img src=x onerror=alert(1)> see https://example.com/docs?x=1.';
  let carolBob;
  let carolAlice;

  await t.test('both register in the browser; Carol, on the API, writes to Bob', async () => {
    await register(a, server.base, alice);
    await register(b, server.base, bob);
    await carol.register(`carol_${sfx}`, PASSWORD, carolName);
    carolBob = await carol.openRoom(bob.username);
    carolAlice = await carol.openRoom(alice.username);
    await carol.send(carolBob.id, 'Hi Bob, Carol here');
    // The new room and its unread message arrive live.
    await expectBadge(b, carolName, 1);
    assert.equal(await b.title(), '(1) Chat');
  });

  await t.test('Bob reads Carol; Alice finds Bob and writes three messages', async () => {
    await roomItem(b, carolName).click();
    await expectOnce(b, 'Hi Bob, Carol here');
    await expectBadge(b, carolName, 0);

    // By keyboard: ↓ from the field onto the first person, ↑ back to the field, ↓ and Enter.
    const search = a.getByLabel(/find people/);
    await search.fill(bob.username);
    const bobButton = a.locator('.person', { hasText: bob.name });
    await bobButton.waitFor();
    await search.press('ArrowDown');
    await eventually(async () => assert.ok(await bobButton.evaluate((el) => el === document.activeElement)));
    await bobButton.press('ArrowUp');
    await eventually(async () => assert.ok(await search.evaluate((el) => el === document.activeElement)));
    await search.press('ArrowDown');
    await bobButton.press('Enter');
    await a.waitForURL(/\/rooms\/\d+$/);
    await eventually(async () => assert.equal(await a.locator('.conv-title h2').textContent(), bob.name));
    await send(a, 'Hello Bob');
    await send(a, 'Are you there?');
    await send(a, multiLine);
    await settled(a);
    for (const text of ['Hello Bob', 'Are you there?', 'Line one']) await expectOnce(a, text);
  });

  await t.test("Bob's badge counts while he is in another room, and the title follows", async () => {
    await expectBadge(b, alice.name, 3);
    await eventually(async () => assert.equal(await b.title(), '(3) Chat'));
    assert.match(await roomItem(b, alice.name).textContent(), /Line one line two: <img src=x/);
    // Alice's room went to the top of the list.
    assert.match(await b.locator('.room-item').first().textContent(), new RegExp(alice.name));
  });

  await t.test('opening the conversation shows the messages as text and clears the badge', async () => {
    await roomItem(b, alice.name).click();
    for (const text of ['Hello Bob', 'Are you there?', 'Line one']) await expectOnce(b, text);
    await expectBadge(b, alice.name, 0);
    await eventually(async () => assert.equal(await b.title(), 'Chat'));

    const bubble = rows(b, 'Line one').locator('.text');
    assert.equal(await bubble.innerText(), multiLine, 'newlines and markup are kept as text');
    assert.equal(await b.locator('.messages img').count(), 0, 'no HTML injection');
    const link = bubble.locator('a');
    assert.equal(await link.getAttribute('href'), 'https://example.com/docs?x=1');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
    assert.equal(await link.getAttribute('target'), '_blank');

    // Alice sees that Bob read her last message.
    await eventually(async () => assert.equal(await rows(a, 'Line one').locator('.seen').count(), 1), {
      what: '"Seen" under Alice\'s last message',
    });
  });

  await t.test('messages and typing flow both ways live', async () => {
    await b.getByLabel('Message', { exact: true }).pressSequentially('Hi Ali', { delay: 20 });
    await eventually(async () => assert.match(await a.locator('.conv-status').textContent(), /typing…/), {
      what: 'typing indicator',
    });
    await b.getByLabel('Message', { exact: true }).fill('');
    await send(b, 'Hi Alice! Yes, here.');
    await expectOnce(a, 'Hi Alice! Yes, here.');
    await send(a, 'Great, talk soon');
    await expectOnce(b, 'Great, talk soon');
    await settled(a);
    await settled(b);
    // Alice has the conversation open at the bottom: nothing is unread for her.
    await expectBadge(a, bob.name, 0);
  });

  await t.test('a reload keeps the session, the open conversation and the history', async () => {
    const url = b.url();
    await b.reload();
    await b.waitForSelector('.messages .row');
    assert.equal(b.url(), url);
    for (const text of ['Hello Bob', 'Are you there?', 'Line one', 'Hi Alice! Yes, here.', 'Great, talk soon']) {
      await expectOnce(b, text);
    }
    await eventually(async () => assert.equal(await b.locator('.me-status').textContent(), 'Online'));
  });

  await t.test('after a server restart, with Carol posting meanwhile, both browsers show everything once', async () => {
    // Both hold Carol's conversation in memory (opened once), so what she posts during the
    // outage must come in by the catch-up of api.md, not by a fresh load.
    await roomItem(a, carolName).click();
    await a.locator('.history-edge .beginning').waitFor();
    await roomItem(a, bob.name).click();
    await expectOnce(a, 'Great, talk soon');
    await b.goto(`${server.base}/`);
    await roomItem(b, carolName).click();
    await expectOnce(b, 'Hi Bob, Carol here');
    await roomItem(b, alice.name).click();
    await expectOnce(b, 'Great, talk soon');

    await server.stop();
    for (const page of [a, b]) {
      await eventually(async () => assert.ok(await page.locator('.banner-warn').isVisible()), {
        what: 'the "Reconnecting…" banner',
      });
    }
    await screenshot(a, 'desktop-reconnecting.png');
    // Alice writes while the server is down: it shows as pending and is delivered later.
    const offline = 'Written while the server was down';
    await send(a, offline);
    assert.equal(await a.locator('.row.is-pending', { hasText: offline }).count(), 1);

    // Carol posts while the browsers' server is down: through a second instance on the same
    // database (another port), so these can only reach the browsers by catch-up...
    const news = ['While you were away 1', 'While you were away 2', 'While you were away 3'];
    const sideDoor = new ChatServer(server.dir, await freePort());
    await sideDoor.start();
    const carolSide = new ApiClient(sideDoor.base);
    carolSide.token = carol.token;
    for (const text of news.slice(0, 2)) {
      await carolSide.send(carolBob.id, `${text} (Bob)`);
      await carolSide.send(carolAlice.id, `${text} (Alice)`);
    }
    await sideDoor.stop();
    // ...and once more right as the real one comes back (live or catch-up, whichever wins).
    await server.start();
    await carol.send(carolBob.id, `${news[2]} (Bob)`);
    await carol.send(carolAlice.id, `${news[2]} (Alice)`);

    for (const page of [a, b]) {
      await eventually(async () => assert.equal(await page.locator('.banner-warn').count(), 0), {
        timeout: 30_000,
        what: 'reconnected',
      });
    }
    // A message that timed out during the outage is retried by hand, with the same client_id.
    const failed = a.locator('.row.is-failed', { hasText: offline });
    if ((await failed.count()) > 0) await failed.getByRole('button', { name: 'Retry' }).click();
    await settled(a);
    await expectOnce(b, offline);
    await expectOnce(a, offline);

    await expectBadge(a, carolName, 3);
    await expectBadge(b, carolName, 3);
    await eventually(async () => assert.equal(await a.title(), '(3) Chat'));

    await roomItem(a, carolName).click();
    await roomItem(b, carolName).click();
    for (const text of news) {
      await expectOnce(a, `${text} (Alice)`);
      await expectOnce(b, `${text} (Bob)`);
    }
    await expectOnce(b, 'Hi Bob, Carol here');
    await expectBadge(a, carolName, 0);
    await expectBadge(b, carolName, 0);
  });

  await t.test('older history loads on scrolling up without jumping; news below offers a button', async () => {
    for (let i = 1; i <= 110; i += 1) await carol.send(carolBob.id, `Bulk message #${String(i).padStart(3, '0')}`);
    await expectOnce(b, 'Bulk message #110');
    const list = b.locator('.messages');
    // How many messages the timeline holds (only those near the view are in the DOM).
    const count = () => list.evaluate((el) => Number(el.dataset.held));
    // Bob is at the bottom of Carol's room: the new messages scrolled into view and are read.
    await expectBadge(b, carolName, 0);
    // A reload holds only the latest page; the rest comes page by page when scrolling up.
    await b.reload();
    await expectOnce(b, 'Bulk message #110');
    assert.ok((await count()) <= 60, `only the latest page is loaded (${await count()} rows)`);

    let pages = 0;
    for (let round = 0; round < 5 && (await rows(b, 'Hi Bob, Carol here').count()) === 0; round += 1) {
      pages += 1;
      const before = await count();
      await list.evaluate((el) => { el.scrollTop = 0; });
      await eventually(async () => assert.ok((await count()) > before), { what: 'an older page' });
      // The view stays where it was: the older page is above, not under the reader's eyes.
      await eventually(async () => assert.ok((await list.evaluate((el) => el.scrollTop)) > 200), {
        what: 'scroll position kept',
      });
    }
    assert.ok(pages >= 2, `older history came in pages (${pages})`);
    await expectOnce(b, 'Hi Bob, Carol here');
    await expectOnce(b, 'Bulk message #001');
    // Further down, out of the rendered window for now: scrolled to, it is there once.
    await list.evaluate((el) => { el.scrollTop = 0; });
    for (let step = 0; step < 40 && (await rows(b, 'Bulk message #057').count()) === 0; step += 1) {
      await list.evaluate((el) => { el.scrollTop += el.clientHeight / 2; });
      await sleep(50);
    }
    assert.equal(await rows(b, 'Bulk message #057').count(), 1);
    const domRows = await b.locator('.messages .row').count();
    assert.ok(domRows < (await count()), `windowed: ${domRows} rows in the DOM of ${await count()} held`);

    // Scrolled up, a new message does not yank the view: a button offers it.
    await list.evaluate((el) => { el.scrollTop = 0; });
    const held = await count();
    await carol.send(carolBob.id, 'Fresh news at the bottom');
    // Held, but far below the rendered rows.
    await eventually(async () => assert.equal(await count(), held + 1), { what: 'the new message held' });
    const button = b.getByRole('button', { name: 'New messages' });
    await button.waitFor();
    await button.click();
    await eventually(async () => assert.equal(await button.count(), 0), { what: 'button gone' });
    await eventually(async () => assert.ok(await inView(rows(b, 'Fresh news at the bottom'))), {
      what: 'the new message scrolled into view',
    });
    await expectBadge(b, carolName, 0);
  });

  await t.test('screenshots of the main screen (desktop and narrow)', async () => {
    await roomItem(a, bob.name).click();
    await expectOnce(a, 'Great, talk soon');
    await sleep(300);
    const desktop = await screenshot(a, 'desktop-conversation.png');

    await b.setViewportSize(NARROW);
    await b.getByRole('link', { name: 'Back to conversations' }).click();
    await b.waitForSelector('.room-list');
    await sleep(300);
    await screenshot(b, 'narrow-list.png');
    await roomItem(b, alice.name).click();
    await expectOnce(b, 'Great, talk soon');
    await sleep(300);
    await screenshot(b, 'narrow-conversation.png');

    // A deep link survives signing in: a new browser opens Alice's conversation URL.
    const roomUrl = a.url();
    const fresh = await browser.newContext({ viewport: DESKTOP });
    const login = await fresh.newPage();
    watchErrors(login, 'fresh', errors);
    await login.goto(roomUrl);
    await login.waitForURL(/\/login\?next=/);
    // Looking at the other tab and coming back keeps the deep link.
    await login.getByRole('link', { name: 'Create account' }).click();
    await login.waitForURL(/\/register\?next=/);
    await login.getByRole('link', { name: 'Sign in' }).click();
    await login.waitForURL(/\/login\?next=/);
    await login.getByRole('button', { name: 'Sign in' }).waitFor();
    await screenshot(login, 'desktop-login.png');
    await login.getByLabel('Username').fill(alice.username);
    await login.getByLabel('Password').fill('wrong password!');
    await login.getByRole('button', { name: 'Sign in' }).click();
    await login.getByText('Wrong username or password.').waitFor();
    await login.getByLabel('Password').fill(PASSWORD);
    await login.getByRole('button', { name: 'Sign in' }).click();
    await login.waitForURL(roomUrl);
    await expectOnce(login, 'Great, talk soon');
    await fresh.close();
    console.log(`screenshots: ${desktop.replace(/[^/]+$/, '')}`);
  });

  assert.deepEqual(errors, [], 'no page errors');
});
