// The web app at scale (issue 10): a chat open in Chromium receives thousands of messages from
// a second person (REST, at a bounded rate), and the wasm memory must grow linearly with them,
// not with their square. Before the fix this test failed: 198 MB after 1,000 and 1.86 GB after
// 3,000 (the issue saw 2.4 GB after 5,000); after it, 10 MB, 28 MB and 47 MB at 5,000 (each
// row's virtual DOM is most of that: every message is still rendered). Memory is
// asserted (a correctness property: a tab that eats gigabytes gets killed); keystroke timings
// and long tasks are only printed, for BENCHMARKS.md. Known: under this flood the list loses
// its pinning to the bottom in about 1 run of 4 (the same on the bundle from before the fix);
// the pinning assertion below then fails, and it is a real bug, not a flaky check.
//   SCALE_N     messages to send (default 5000; the checkpoints below it still apply)
//   SCALE_RATE  messages per second (default 200)

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient, ChatServer, eventually, launchBrowser, screenshot, signIn, watchErrors } from './helpers.js';

const PASSWORD = 'correct horse battery staple';
const TOTAL = Number(process.env.SCALE_N || 5000);
const RATE = Number(process.env.SCALE_RATE || 200);
const MB = 1024 * 1024;
/** Generous: the quadratic growth reached ~1 GB here; linear storage of 3,000 short messages is a few MB. */
const LIMIT_AT_3000 = 150 * MB;

// The sender goes faster than a person may (20/s by default): this process's server only.
process.env.CHAT_MESSAGES_PER_SECOND = '100000';
process.env.CHAT_MESSAGE_BURST = '100000';

const body = (i) => `Scale message #${String(i).padStart(5, '0')}`;

/** Sends messages `from..to` (exclusive) at about RATE per second, a few requests in flight. */
async function sendRange(api, roomId, from, to) {
  const start = Date.now();
  const inFlight = new Set();
  for (let i = from; i < to; i += 1) {
    const due = start + ((i - from) * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    const p = api.send(roomId, body(i)).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 8) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

/** The wasm instance's memory (not the JS heap), in bytes. */
const wasmBytes = (page) => page.evaluate(() => window.__wasmExports.memory.buffer.byteLength);

/** What the list shows: the scale messages' texts in DOM order, their seqs, and the pinning. */
const listState = (page) =>
  page.evaluate(() => {
    const list = document.querySelector('.messages');
    const rows = [...list.querySelectorAll('.row[data-seq]')];
    return {
      texts: rows.map((r) => r.querySelector('.text')?.textContent ?? ''),
      seqs: rows.map((r) => Number(r.dataset.seq)),
      fromBottom: list.scrollHeight - list.scrollTop - list.clientHeight,
    };
  });

async function expectShown(page, n) {
  await eventually(
    async () => {
      const { texts } = await listState(page);
      assert.equal(texts.filter((t) => t.startsWith('Scale message #')).length, n);
    },
    { timeout: 120_000, interval: 250, what: `${n} messages shown` },
  );
  const { texts, seqs, fromBottom } = await listState(page);
  const shown = texts.filter((t) => t.startsWith('Scale message #'));
  assert.equal(new Set(shown).size, n, 'every message once');
  const expected = new Set(Array.from({ length: n }, (_, i) => body(i)));
  assert.ok(shown.every((t) => expected.has(t)), 'only the messages sent');
  assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), 'in order of seq');
  assert.ok(fromBottom <= 48, `pinned to the bottom (${fromBottom}px above it)`);
}

/** Milliseconds from a keystroke's `input` event to the frame after it, `n` times. */
async function keystrokeCost(page, n = 20) {
  const box = page.getByLabel('Message', { exact: true });
  await box.focus();
  const costs = [];
  for (let i = 0; i < n; i += 1) {
    await page.evaluate(() => {
      const el = document.getElementById('composer-input');
      window.__keyCost = new Promise((ok) => {
        el.addEventListener(
          'input',
          () => {
            const t0 = performance.now();
            requestAnimationFrame(() => setTimeout(() => ok(performance.now() - t0), 0));
          },
          { once: true },
        );
      });
    });
    await page.keyboard.type('x');
    costs.push(await page.evaluate(() => window.__keyCost));
  }
  await box.fill('');
  // The app's own share: the input event's handlers (yew renders synchronously in them), and
  // the style and layout the change then forces.
  const split = await page.evaluate((n) => {
    const el = document.getElementById('composer-input');
    const handle = [];
    const layout = [];
    for (let i = 0; i < n; i += 1) {
      el.value += 'x';
      const t0 = performance.now();
      el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertText', data: 'x' }));
      const t1 = performance.now();
      void document.body.offsetHeight;
      handle.push(t1 - t0);
      layout.push(performance.now() - t1);
    }
    const med = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return { handleMedian: med(handle), layoutMedian: med(layout) };
  }, n);
  await box.fill('');
  costs.sort((a, b) => a - b);
  return { median: costs[Math.floor(n / 2)], p95: costs[Math.floor(n * 0.95)], max: costs[n - 1], ...split };
}

test('memory stays linear while a conversation receives thousands of messages', async (t) => {
  const server = await ChatServer.create();
  await server.start();
  const browser = await launchBrowser();
  const errors = [];
  t.after(async () => {
    await browser.close().catch(() => {});
    await server.stop();
  });

  const sfx = Date.now().toString(36).slice(-6);
  const alice = new ApiClient(server.base);
  await alice.register(`alice_${sfx}`, PASSWORD, 'Alice Martin');
  const bob = new ApiClient(server.base);
  await bob.register(`bob_${sfx}`, PASSWORD, 'Bob Chen');
  const room = await bob.openRoom(alice.user.username);

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  // trunk's loader announces the wasm exports (memory among them) once the module runs.
  await context.addInitScript(() => {
    addEventListener('TrunkApplicationStarted', (e) => {
      window.__wasmExports = e.detail.wasm;
    });
    // Long tasks (> 50 ms) while messages arrive: printed per phase, not asserted.
    window.__longTasks = [];
    new PerformanceObserver((list) => window.__longTasks.push(...list.getEntries().map((e) => e.duration))).observe({
      type: 'longtask',
      buffered: true,
    });
  });
  const page = await context.newPage();
  watchErrors(page, 'A', errors);
  await signIn(page, server.base, alice.user.username, PASSWORD);
  await page.locator('.room-item', { hasText: 'Bob Chen' }).click();
  await page.waitForSelector('.messages .beginning');
  await eventually(async () => assert.equal(await page.locator('.me-status').textContent(), 'Online'), {
    what: 'the socket is up',
  });

  const figures = { start: await wasmBytes(page) };
  let sent = 0;
  for (const mark of [1000, 3000, 5000].filter((m) => m <= TOTAL)) {
    const began = Date.now();
    await page.evaluate(() => window.__longTasks.splice(0));
    await sendRange(bob, room.id, sent, mark);
    sent = mark;
    await expectShown(page, mark);
    figures[mark] = await wasmBytes(page);
    const long = await page.evaluate(() => window.__longTasks.splice(0));
    console.log(
      `[scale] ${mark} messages (sent in ${((Date.now() - began) / 1000).toFixed(1)} s): ` +
        `wasm memory ${(figures[mark] / MB).toFixed(1)} MB; long tasks meanwhile: ${long.length}, ` +
        `max ${Math.max(0, ...long).toFixed(0)} ms, total ${long.reduce((a, b) => a + b, 0).toFixed(0)} ms`,
    );
    if (mark === 3000) {
      console.log(`[scale] keystroke with 3000 rows: ${JSON.stringify(await keystrokeCost(page))} ms`);
      assert.ok(figures[mark] < LIMIT_AT_3000, `wasm memory after 3000: ${(figures[mark] / MB).toFixed(1)} MB`);
    }
  }
  if (figures[1000] && figures[3000] && figures[5000]) {
    // Linear, not quadratic: the 2,000 messages after 3,000 may cost at most 1.5× what the
    // 2,000 after 1,000 did (quadratic growth makes it 2×; before the fix it was far more).
    const early = figures[3000] - figures[1000];
    const late = figures[5000] - figures[3000];
    assert.ok(late <= 1.5 * early, `1k→3k: +${(early / MB).toFixed(1)} MB, 3k→5k: +${(late / MB).toFixed(1)} MB`);
    assert.ok(figures[5000] <= 64 * MB, `wasm memory after 5000: ${(figures[5000] / MB).toFixed(1)} MB`);
  }

  await screenshot(page, 'scale-desktop.png');
  assert.deepEqual(errors, []);
});
