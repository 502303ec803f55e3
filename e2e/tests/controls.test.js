// What the SPA keeps on its own side (issue 15): the theme (System / Light / Dark, applied
// before first paint and kept across reloads, every key text AA-legible in both palettes), a
// draft per conversation, the outbox across a reload (sent once), the "New" divider at the
// first unread message, the one-time notice after sign-up. Screenshots of the conversation,
// settings and admin screens, light and dark, desktop and phone, land in target/screenshots/.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, makeAdmin, registerPeople, screenshot, signIn, startChat, watchErrors } from './helpers.js';

const PASSWORD = 'correct horse battery staple';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/**
 * WCAG contrast of each selector's first match: its text colour (with the opacity of it and
 * its ancestors) over the first opaque background behind it. Null for a missing element.
 */
async function contrasts(page, selectors) {
  return page.evaluate((selectors) => {
    const parse = (c) => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return { r, g, b, a };
    };
    const lum = ({ r, g, b }) => {
      const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const mix = (fg, bg, a) => ({ r: fg.r * a + bg.r * (1 - a), g: fg.g * a + bg.g * (1 - a), b: fg.b * a + bg.b * (1 - a) });
    const out = {};
    for (const sel of selectors) {
      const el = document.querySelector(sel);
      if (!el) {
        out[sel] = null;
        continue;
      }
      const fg = parse(getComputedStyle(el).color);
      let alpha = fg.a;
      let bg = null;
      for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
        const s = getComputedStyle(n);
        alpha *= Number(s.opacity);
        const b = parse(s.backgroundColor);
        if (b && b.a > 0.5) {
          bg = b;
          break;
        }
      }
      bg = bg || { r: 255, g: 255, b: 255 };
      const shown = mix(fg, bg, alpha);
      const [hi, lo] = [lum(shown), lum(bg)].sort((x, y) => y - x);
      out[sel] = [Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100, `${getComputedStyle(el).color} on ${JSON.stringify(bg)} ×${alpha}`];
    }
    return out;
  }, selectors);
}

async function assertLegible(page, selectors, what) {
  const found = await contrasts(page, selectors);
  for (const [sel, got] of Object.entries(found)) {
    assert.notEqual(got, null, `${what}: ${sel} is on the page`);
    const [ratio, colours] = got;
    assert.ok(ratio >= 4.5, `${what}: ${sel} has contrast ${ratio} (< 4.5): ${colours}`);
  }
}

const CONVERSATION_TEXT = [
  '.room-item .room-name',
  '.room-item .room-preview',
  '.room-item .room-time',
  '.conv-status',
  '.row.theirs .bubble .text',
  '.row.theirs .bubble a',
  '.row.theirs .meta time',
  '.row.mine .bubble .text',
  '.row.mine .meta time',
  '.chip',
  '.chip.mine',
  '.beginning',
];
const SETTINGS_TEXT = ['.settings-head h1', '.notice-card p', '.card .muted-text', '.field-hint', '.choice'];

const composer = (page) => page.getByLabel('Message', { exact: true });

test('theme, drafts, outbox across a reload, unread divider', async (t) => {
  const { server, browser, errors } = await startChat(t);

  const sfx = Date.now().toString(36).slice(-6);
  const [alice, bob, carol] = await registerPeople(server, sfx, PASSWORD, 'Alice Martin', 'Bob Chen', 'Carol Diaz');
  await makeAdmin(server, alice.user.username);
  const room = await alice.openRoom(bob.user.username);
  const carolRoom = await alice.openRoom(carol.user.username);
  await carol.send(carolRoom.id, 'Hi from Carol');
  const hello = await bob.send(room.id, 'Hello Alice, the notes are at https://example.com/notes');
  await alice.call('PUT', `/rooms/${room.id}/messages/${hello.seq}/reactions/${encodeURIComponent('👍')}`);
  await bob.call('PUT', `/rooms/${room.id}/messages/${hello.seq}/reactions/${encodeURIComponent('🎉')}`);
  await alice.send(room.id, 'Thanks Bob, reading them now');

  const context = await browser.newContext({ viewport: DESKTOP, colorScheme: 'light' });
  // Alice's sockets, so going offline can also drop the open one (as a lost network does).
  await context.addInitScript(() => {
    const Native = window.WebSocket;
    window.__sockets = [];
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        window.__sockets.push(this);
      }
    };
  });
  let a = await context.newPage();
  watchErrors(a, 'A', errors);
  await signIn(a, server.base, alice.user.username, PASSWORD);

  await t.test('theme: System follows the device, Dark applies at once and survives a reload', async () => {
    await a.goto(`${server.base}/rooms/${room.id}`);
    await a.locator('.chip.mine').waitFor();
    await assertLegible(a, CONVERSATION_TEXT, 'light conversation');
    await screenshot(a, 'theme-conversation-light-desktop.png');
    const bgLight = await a.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);

    // System, on a dark device: the dark palette without any choice made.
    await a.emulateMedia({ colorScheme: 'dark' });
    await sleep(400); // backgrounds have short transitions
    const bgSystemDark = await a.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    assert.notEqual(bgSystemDark, bgLight, 'prefers-color-scheme: dark applies the dark palette');
    await assertLegible(a, CONVERSATION_TEXT, 'dark conversation (system)');
    await a.emulateMedia({ colorScheme: 'light' });

    await a.goto(`${server.base}/settings`);
    await a.getByLabel('System').waitFor();
    assert.equal(await a.getByLabel('System').isChecked(), true);
    await assertLegible(a, SETTINGS_TEXT, 'light settings');
    await screenshot(a, 'theme-settings-light-desktop.png');
    await a.getByLabel('Dark').check();
    assert.equal(await a.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await sleep(400);
    assert.equal(await a.evaluate(() => getComputedStyle(document.documentElement).backgroundColor), bgSystemDark);
    await assertLegible(a, SETTINGS_TEXT, 'dark settings');
    await screenshot(a, 'theme-settings-dark-desktop.png');

    // After a reload the attribute is there before the app runs (no light flash).
    await a.reload({ waitUntil: 'domcontentloaded' });
    assert.equal(await a.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await a.getByLabel('Dark').waitFor();
    assert.equal(await a.getByLabel('Dark').isChecked(), true);

    await a.goto(`${server.base}/rooms/${room.id}`);
    await a.locator('.chip.mine').waitFor();
    await sleep(400);
    await assertLegible(a, CONVERSATION_TEXT, 'dark conversation (chosen, on a light device)');
    await screenshot(a, 'theme-conversation-dark-desktop.png');

    await a.goto(`${server.base}/admin`);
    await a.locator('.admin-table').first().waitFor();
    await assertLegible(a, ['.admin-heading h1', '.admin-table td', '.admin-table th', '.admin-sub'], 'dark admin');
    await screenshot(a, 'theme-admin-dark-desktop.png');

    await a.goto(`${server.base}/settings`);
    await a.getByLabel('Light').check();
    assert.equal(await a.evaluate(() => document.documentElement.dataset.theme), 'light');
    await a.emulateMedia({ colorScheme: 'dark' });
    assert.equal(await a.evaluate(() => getComputedStyle(document.documentElement).backgroundColor), bgLight, 'Light wins over a dark device');
    await a.goto(`${server.base}/admin`);
    await a.locator('.admin-table').first().waitFor();
    await assertLegible(a, ['.admin-heading h1', '.admin-table td', '.admin-table th', '.admin-sub'], 'light admin');
    await screenshot(a, 'theme-admin-light-desktop.png');
    await a.goto(`${server.base}/settings`);
    await a.getByLabel('System').check();
    assert.equal(await a.evaluate(() => document.documentElement.dataset.theme), undefined);
    await a.emulateMedia({ colorScheme: 'light' });
  });

  await t.test('theme on a phone, light and dark', async () => {
    for (const scheme of ['light', 'dark']) {
      const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, colorScheme: scheme });
      const p = await phone.newPage();
      watchErrors(p, `phone-${scheme}`, errors);
      await signIn(p, server.base, alice.user.username, PASSWORD);
      await p.goto(`${server.base}/rooms/${room.id}`);
      await p.locator('.chip.mine').waitFor();
      await assertLegible(p, CONVERSATION_TEXT.filter((s) => !s.startsWith('.room-item')), `${scheme} phone conversation`);
      await screenshot(p, `theme-conversation-${scheme}-phone.png`);
      await p.goto(`${server.base}/settings`);
      await p.getByLabel('System').waitFor();
      await screenshot(p, `theme-settings-${scheme}-phone.png`);
      await p.goto(`${server.base}/admin`);
      await p.locator('.admin-table').first().waitFor();
      await screenshot(p, `theme-admin-${scheme}-phone.png`);
      await phone.close();
    }
  });

  await t.test('draft: survives a room switch and a reload, marked in the list, cleared on send', async () => {
    await a.goto(`${server.base}/rooms/${room.id}`);
    await composer(a).fill('Half a thought about the notes');
    await a.locator('.room-item', { hasText: 'Carol Diaz' }).click();
    await a.locator('.conv-head h2', { hasText: 'Carol Diaz' }).waitFor();
    assert.equal(await composer(a).inputValue(), '');
    await a.locator('.room-item', { hasText: 'Bob Chen' }).locator('.draft-mark').waitFor();
    await a.locator('.room-item', { hasText: 'Bob Chen' }).locator('.room-preview', { hasText: 'Half a thought about the notes' }).waitFor();
    await sleep(400); // the list's hover and active backgrounds have short transitions
    await assertLegible(a, ['.draft-mark', '.unread-divider'], 'draft mark, unread divider');
    await screenshot(a, 'draft-mark-desktop.png');
    await a.locator('.room-item', { hasText: 'Bob Chen' }).click();
    await eventually(async () => assert.equal(await composer(a).inputValue(), 'Half a thought about the notes'), {
      what: 'the draft is back',
    });
    await a.reload();
    await eventually(async () => assert.equal(await composer(a).inputValue(), 'Half a thought about the notes'), {
      what: 'the draft is back after a reload',
    });
    await composer(a).press('Enter');
    await a.locator('.row.mine .text', { hasText: 'Half a thought about the notes' }).waitFor();
    assert.equal(await composer(a).inputValue(), '');
    await a.locator('.room-item', { hasText: 'Carol Diaz' }).click();
    await a.locator('.conv-head h2', { hasText: 'Carol Diaz' }).waitFor();
    assert.equal(await a.locator('.room-item .draft-mark').count(), 0, 'no draft mark after sending');
    await a.reload();
    await a.locator('.room-item', { hasText: 'Bob Chen' }).click();
    await composer(a).waitFor();
    await sleep(300);
    assert.equal(await composer(a).inputValue(), '', 'the sent draft does not come back');
  });

  await t.test('outbox: a message written offline survives a reload and arrives once', async () => {
    await a.goto(`${server.base}/rooms/${room.id}`);
    await composer(a).waitFor();
    await context.setOffline(true);
    await a.evaluate(() => window.__sockets.forEach((s) => s.close()));
    await a.locator('.banner-warn').waitFor();
    await composer(a).fill('Written on the train');
    await composer(a).press('Enter');
    await a.locator('.row.is-pending .text', { hasText: 'Written on the train' }).waitFor();
    await eventually(
      async () => assert.match((await a.evaluate(() => JSON.stringify(localStorage))) || '', /Written on the train/),
      { what: 'the outbox is kept' },
    );
    // "Reload": this page goes away while offline, a new one opens once back online.
    await a.close();
    await context.setOffline(false);
    a = await context.newPage();
    watchErrors(a, 'A (reloaded)', errors);
    await a.goto(`${server.base}/rooms/${room.id}`);
    await a.locator('.row.mine .text', { hasText: 'Written on the train' }).waitFor();
    await eventually(async () => assert.equal(await a.locator('.row.is-pending, .row.is-failed').count(), 0), {
      what: 'acknowledged',
    });
    await sleep(1500);
    const page = await bob.call('GET', `/rooms/${room.id}/messages?limit=50`);
    assert.equal(page.messages.filter((m) => m.body === 'Written on the train').length, 1, 'stored once');
    assert.equal(await a.locator('.row .text', { hasText: 'Written on the train' }).count(), 1, 'shown once');
    await eventually(async () => assert.doesNotMatch(await a.evaluate(() => JSON.stringify(localStorage)), /Written on the train/), {
      what: 'the outbox is emptied',
    });
  });

  await t.test('unread divider: "New" above the first unread message, with a jump when off screen', async () => {
    await a.goto(`${server.base}/rooms/${carolRoom.id}`);
    await a.locator('.conv-head h2', { hasText: 'Carol Diaz' }).waitFor();
    await sleep(300);
    const first = await bob.send(room.id, 'Unread number 1');
    for (let i = 2; i <= 30; i++) await bob.send(room.id, `Unread number ${i}\nwith a second line`);
    await a.locator('.room-item', { hasText: 'Bob Chen' }).locator('.badge[data-count="30"]').waitFor();
    await a.locator('.room-item', { hasText: 'Bob Chen' }).click();
    const divider = a.locator('.unread-divider');
    await divider.waitFor();
    // It sits right above the first unread message, and is in view.
    const next = await divider.evaluate((d) => d.nextElementSibling && d.nextElementSibling.dataset.seq);
    assert.equal(Number(next), first.seq);
    assert.equal(await divider.isVisible(), true);
    const inView = await divider.evaluate((d) => {
      const list = document.querySelector('.messages').getBoundingClientRect();
      const r = d.getBoundingClientRect();
      return r.top >= list.top && r.bottom <= list.bottom;
    });
    assert.ok(inView, 'the divider is scrolled into view');
    await screenshot(a, 'unread-divider-desktop.png');
    // Scrolled to the end, the divider is off screen: a button jumps back to it.
    assert.equal(await a.getByRole('button', { name: 'Jump to first unread' }).count(), 0);
    await a.locator('.messages').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await a.getByRole('button', { name: 'Jump to first unread' }).click();
    await eventually(async () => assert.ok(await divider.evaluate((d) => {
      const list = document.querySelector('.messages').getBoundingClientRect();
      const r = d.getBoundingClientRect();
      return r.top >= list.top && r.bottom <= list.bottom;
    })), { what: 'the divider back in view' });
    await eventually(async () => assert.equal(await a.getByRole('button', { name: 'Jump to first unread' }).count(), 0), {
      what: 'the button gone',
    });
    // Opened again, the room is read: no divider.
    await a.locator('.room-item', { hasText: 'Carol Diaz' }).click();
    await a.locator('.room-item', { hasText: 'Bob Chen' }).click();
    await a.locator('.row .text', { hasText: 'Unread number 30' }).waitFor();
    assert.equal(await divider.count(), 0);
  });

  await t.test('unread divider: more unread than a page, on a phone: the jump fetches back to it', async () => {
    // The desktop tab must not read them as they come.
    await a.locator('.room-item', { hasText: 'Carol Diaz' }).click();
    await a.locator('.conv-head h2', { hasText: 'Carol Diaz' }).waitFor();
    const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    watchErrors(p, 'phone', errors);
    await signIn(p, server.base, alice.user.username, PASSWORD);
    await p.goto(`${server.base}/rooms/${carolRoom.id}`);
    await p.locator('.conv-head h2', { hasText: 'Carol Diaz' }).waitFor();
    const first = await bob.send(room.id, 'Phone unread 1');
    for (let i = 2; i <= 70; i++) await bob.send(room.id, `Phone unread ${i}`);
    await p.goto(`${server.base}/`);
    await p.locator('.room-item', { hasText: 'Bob Chen' }).locator('.badge[data-count="70"]').waitFor();
    await p.locator('.room-item', { hasText: 'Bob Chen' }).click();
    // The first page does not reach the first unread message: the button offers it.
    const jump = p.getByRole('button', { name: 'Jump to first unread' });
    await jump.waitFor({ timeout: 5_000 }).catch(async (e) => {
      await screenshot(p, 'unread-jump-phone-failed.png');
      console.log('rows', await p.locator('.messages .row').count(), await p.locator('.messages .row').first().getAttribute('data-seq'), first.seq);
      throw e;
    });
    assert.equal(await p.locator('.unread-divider').count(), 0);
    await screenshot(p, 'unread-jump-phone.png');
    await jump.click();
    const divider = p.locator('.unread-divider');
    await divider.waitFor();
    assert.equal(Number(await divider.evaluate((d) => d.nextElementSibling && d.nextElementSibling.dataset.seq)), first.seq);
    await eventually(async () => assert.ok(await divider.evaluate((d) => {
      const list = document.querySelector('.messages').getBoundingClientRect();
      const r = d.getBoundingClientRect();
      return r.top >= list.top && r.bottom <= list.bottom;
    })), { what: 'the divider in view' });
    await screenshot(p, 'unread-divider-phone.png');
    await phone.close();
  });

  await t.test('sign-up: told once what administrators can read', async () => {
    const fresh = await browser.newContext({ viewport: DESKTOP });
    const p = await fresh.newPage();
    watchErrors(p, 'new account', errors);
    await p.goto(`${server.base}/register`);
    await p.getByLabel('Username').fill(`dana_${sfx}`);
    await p.getByLabel(/Display name/).fill('Dana Eze');
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Create account' }).click();
    const notice = p.locator('.first-notice', {
      hasText: 'Administrators of this server can read every conversation, including edited and deleted messages.',
    });
    await notice.waitFor();
    await assertLegible(p, ['.first-notice p'], 'sign-up notice');
    await screenshot(p, 'signup-notice-desktop.png');
    await p.reload();
    await p.waitForSelector('.sidebar');
    await notice.waitFor();
    await notice.getByRole('button', { name: 'Got it' }).click();
    assert.equal(await notice.count(), 0);
    await p.reload();
    await p.waitForSelector('.sidebar');
    await sleep(300);
    assert.equal(await notice.count(), 0, 'once dismissed, gone for good');
    // An account made elsewhere (signing in, not up) never sees it.
    await a.goto(`${server.base}/`);
    await a.waitForSelector('.sidebar');
    assert.equal(await a.locator('.first-notice').count(), 0);
    await fresh.close();
  });

  assert.deepEqual(errors, []);
});
