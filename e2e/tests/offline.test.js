// Going offline is noticed (issue 10): the browser's network is cut with
// `context.setOffline(true)`; within a second a bar says so, the peer's presence is no longer
// claimed, and a message written meanwhile is sent, once, when the network is back.
// Screenshots of the bar (light and dark, desktop and phone) land in target/screenshots/.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, registerPeople, screenshot, signIn, startChat, watchErrors } from './helpers.js';

const PASSWORD = 'correct horse battery staple';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

const composer = (page) => page.getByLabel('Message', { exact: true });
const bar = (page) => page.locator('.banner-offline');

test('offline: a bar within a second, presence unknown, the message sent once when back', async (t) => {
  const { server, browser, errors } = await startChat(t);

  const sfx = Date.now().toString(36).slice(-6);
  const [alice, bob] = await registerPeople(server, sfx, PASSWORD, 'Alice Martin', 'Bob Chen');
  const room = await alice.openRoom(bob.user.username);
  await bob.send(room.id, 'Are you on the train yet?');

  // Bob has the app open, so Alice sees him online before her network goes.
  const contextB = await browser.newContext({ viewport: DESKTOP });
  const b = await contextB.newPage();
  watchErrors(b, 'B', errors);
  await signIn(b, server.base, bob.user.username, PASSWORD);

  const context = await browser.newContext({ viewport: DESKTOP, colorScheme: 'light' });
  const a = await context.newPage();
  watchErrors(a, 'A', errors);
  await signIn(a, server.base, alice.user.username, PASSWORD);
  await a.goto(`${server.base}/rooms/${room.id}`);
  await composer(a).waitFor();
  await eventually(async () => assert.match(await a.locator('.conv-status').textContent(), /^online/), {
    what: 'Bob shown online',
  });
  assert.equal(await a.locator('.me-status').textContent(), 'Online');
  assert.equal(await bar(a).count(), 0, 'no bar while connected');

  const text = 'Written in the tunnel';
  await t.test('the network goes: the bar shows within 1 s, presence is not claimed', async () => {
    await context.setOffline(true);
    const cut = Date.now();
    // Polled for at most 1 s: later counts as a failure.
    await eventually(async () => assert.ok(await bar(a).isVisible()), { timeout: 1000, interval: 50, what: 'the offline bar' });
    const shownAfter = Date.now() - cut;
    console.log(`offline bar shown ${shownAfter} ms after setOffline(true)`);
    assert.ok(shownAfter <= 1000, `bar after ${shownAfter} ms`);
    assert.equal(await bar(a).textContent(), "Offline — messages will be sent when you're back");
    assert.doesNotMatch(await a.locator('.conv-status').textContent(), /online/i, 'header presence');
    assert.notEqual(await a.locator('.me-status').textContent(), 'Online');
    assert.equal(await a.locator('.presence.online').count(), 0, 'no green dot');
    assert.doesNotMatch(await a.locator('.room-list').innerText(), /online/i);

    await composer(a).fill(text);
    await composer(a).press('Enter');
    await a.locator('.row.is-pending', { hasText: text }).waitFor();
    await sleep(1500);
    const stored = await bob.call('GET', `/rooms/${room.id}/messages?limit=50`);
    assert.equal(stored.messages.filter((m) => m.body === text).length, 0, 'not sent while offline');
  });

  await t.test('screenshots of the bar: light and dark, desktop and phone', async () => {
    await a.mouse.move(1, 1);
    await screenshot(a, 'offline-light-desktop.png');
    await a.emulateMedia({ colorScheme: 'dark' });
    await sleep(400); // short background transitions
    await screenshot(a, 'offline-dark-desktop.png');
    await a.setViewportSize(PHONE);
    await sleep(300);
    assert.ok(await bar(a).isVisible(), 'the bar on a phone');
    await screenshot(a, 'offline-dark-phone.png');
    await a.emulateMedia({ colorScheme: 'light' });
    await sleep(400);
    await screenshot(a, 'offline-light-phone.png');
    await a.setViewportSize(DESKTOP);
  });

  await t.test('back online: the bar goes and the message is delivered once', async () => {
    await context.setOffline(false);
    await eventually(async () => assert.equal(await a.locator('.banners .banner-warn').count(), 0), {
      what: 'the bar gone',
    });
    await eventually(async () => assert.equal(await a.locator('.row.is-pending, .row.is-failed').count(), 0), {
      what: 'acknowledged',
    });
    await eventually(async () => assert.equal(await a.locator('.me-status').textContent(), 'Online'));
    await eventually(async () => assert.match(await a.locator('.conv-status').textContent(), /^online/), {
      what: 'Bob online again',
    });
    await b.goto(`${server.base}/rooms/${room.id}`);
    await eventually(async () => assert.equal(await b.locator('.messages .row', { hasText: text }).count(), 1), {
      what: 'Bob sees it once',
    });
    await sleep(1000);
    const stored = await bob.call('GET', `/rooms/${room.id}/messages?limit=50`);
    assert.equal(stored.messages.filter((m) => m.body === text).length, 1, 'stored once');
    assert.equal(await a.locator('.messages .row', { hasText: text }).count(), 1, 'shown once');
  });

  assert.deepEqual(errors, []);
});
