// Notifications and visibility (issue 3): permission is asked only on a click, a message that
// arrives while the tab is hidden raises a notification and stays unread, and it is marked read
// once the tab is visible again. The browser's Notification API and `document.hidden` are
// replaced by recording stubs (headless Chromium shows no notifications and never hides a tab).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, registerPeople, startChat, watchErrors } from './helpers.js';

const PASSWORD = 'correct horse battery staple';

function stubs() {
  let hidden = false;
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true,
    get: () => (hidden ? 'hidden' : 'visible'),
  });
  window.__setHidden = (value) => {
    hidden = value;
    document.dispatchEvent(new Event('visibilitychange'));
  };
  window.__notes = [];
  window.__requested = 0;
  class FakeNotification {
    constructor(title, options = {}) {
      window.__notes.push({ title, body: options.body, tag: options.tag });
      this.onclick = null;
    }
    static requestPermission() {
      window.__requested += 1;
      FakeNotification.permission = 'granted';
      return Promise.resolve('granted');
    }
  }
  FakeNotification.permission = 'default';
  window.Notification = FakeNotification;
}

test('a hidden tab gets a notification and keeps the message unread until seen', async (t) => {
  const { server, browser, errors } = await startChat(t);
  const sfx = Date.now().toString(36).slice(-6);
  const [erin] = await registerPeople(server, sfx, PASSWORD, 'Erin Park');

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(stubs);
  const page = await context.newPage();
  watchErrors(page, 'D', errors);
  await page.goto(`${server.base}/register`);
  await page.getByLabel('Username').fill(`dora_${sfx}`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForSelector('.sidebar');

  const room = await erin.openRoom(`dora_${sfx}`);
  await erin.send(room.id, 'Hello Dora');
  await page.locator('.room-item', { hasText: 'Erin Park' }).click();
  await page.locator('.messages .row', { hasText: 'Hello Dora' }).waitFor();

  assert.equal(await page.evaluate(() => window.__requested), 0, 'no permission prompt on load');
  await page.getByRole('button', { name: 'Enable notifications' }).click();
  await eventually(async () => assert.equal(await page.evaluate(() => window.__requested), 1));
  await eventually(async () => assert.equal(await page.getByRole('button', { name: 'Enable notifications' }).count(), 0));

  // Visible: no notification, and the message is read at once.
  await eventually(async () => assert.equal(await page.title(), 'Chat'));
  assert.deepEqual(await page.evaluate(() => window.__notes), []);

  await page.evaluate(() => window.__setHidden(true));
  await erin.send(room.id, 'Are you there?\nPing me back');
  await eventually(async () =>
    assert.deepEqual(await page.evaluate(() => window.__notes), [
      { title: 'Erin Park', body: 'Are you there? Ping me back', tag: `room-${room.id}` },
    ]),
  );
  await eventually(async () => assert.equal(await page.title(), '(1) Chat'), { what: 'unread while hidden' });
  let seen = (await erin.call('GET', `/rooms/${room.id}`)).peer_last_read_seq;
  assert.equal(seen, 1, 'not marked read while hidden');

  await page.evaluate(() => window.__setHidden(false));
  await eventually(async () => assert.equal(await page.title(), 'Chat'), { what: 'read once visible' });
  await eventually(async () => {
    seen = (await erin.call('GET', `/rooms/${room.id}`)).peer_last_read_seq;
    assert.equal(seen, 2);
  });
  // What came while the tab was hidden sits under a "New" divider, which stays once read.
  const divider = page.locator('.unread-divider');
  await divider.waitFor();
  assert.equal(await divider.evaluate((d) => d.nextElementSibling && d.nextElementSibling.dataset.seq), '2');
  await erin.send(room.id, 'Read as it comes');
  await page.locator('.messages .row', { hasText: 'Read as it comes' }).waitFor();
  await eventually(async () => assert.equal((await erin.call('GET', `/rooms/${room.id}`)).peer_last_read_seq, 3));
  assert.equal(await divider.count(), 1, 'no second divider for messages read as they come');
  assert.equal(await divider.evaluate((d) => d.nextElementSibling && d.nextElementSibling.dataset.seq), '2');
  assert.deepEqual(errors, []);
});
