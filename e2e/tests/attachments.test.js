// Attachments in a real browser (issue 13, the SPA side): Alice attaches files by the
// paperclip button, by dropping them on the conversation and by pasting an image; the tray
// shows each file's upload progress; Bob sees the thumbnail and the file card live, opens the
// viewer (Escape closes it) and downloads with the original names; a file over the server's
// limit is refused before any upload; the administrator sees the files in the conversation.
// Then what the server refuses, as the tray shows it: an HTML page named cat.png arrives as a
// download (never an image), a file over the server's limit (the page thinking it larger) is
// refused with no Retry, and an upload over the per-minute limit says when to retry.
// Screenshots (desktop and phone) land in target/screenshots/.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, makeAdmin, registerPeople, screenshot, signIn, startChat, watchErrors } from './helpers.js';

const PASSWORD = 'correct horse battery staple';
const ADMIN_PASSWORD = 'admin secret password';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** Small, so a too-large file is cheap to make; the photo (≈1 MB of noise) stays under it. */
const MAX_BYTES = 1_500_000;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * A real PNG of `width`×`height`: a colour gradient, with `noise` (0..1) of random pixels so
 * that it does not compress to nothing (the upload must take long enough to show progress).
 */
function png(width, height, noise = 0) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y += 1) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x += 1) {
      const p = row + 1 + x * 3;
      const random = Math.random() < noise;
      raw[p] = random ? Math.random() * 255 : (x * 255) / width;
      raw[p + 1] = random ? Math.random() * 255 : (y * 255) / height;
      raw[p + 2] = random ? Math.random() * 255 : 180;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Puts a file into the page as a `File` inside a `DataTransfer`, then runs `use` on it. */
async function withDataTransfer(page, file, use) {
  return page.evaluate(
    ({ name, type, base64, use }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name, { type }));
      if (use === 'drop') {
        const target = document.querySelector('section.conversation');
        target.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
        target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
        // The drop zone is rendered asynchronously; the drop follows in the next step.
        window.__pendingDrop = () =>
          target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      } else {
        const box = document.querySelector('#composer-input');
        box.focus();
        box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
      }
    },
    { name: file.name, type: file.mimeType, base64: file.buffer.toString('base64'), use },
  );
}

test('attachments: attach, watch the upload, see, view and download them, live', async (t) => {
  const { server, browser, errors } = await startChat(t, { env: { CHAT_UPLOAD_MAX_BYTES: String(MAX_BYTES) } });

  const sfx = Date.now().toString(36).slice(-6);
  const [alice, bob] = await registerPeople(server, sfx, PASSWORD, 'Alice Martin', 'Bob Chen');
  const room = await alice.openRoom(bob.user.username);
  await bob.send(room.id, 'Can you send me the photos from Saturday?');

  const contexts = {};
  const pages = {};
  for (const name of ['alice', 'bob']) {
    contexts[name] = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
    pages[name] = await contexts[name].newPage();
    watchErrors(pages[name], name, errors);
  }
  const { alice: a, bob: b } = pages;
  const uploads = [];
  a.on('request', (r) => {
    if (r.method() === 'POST' && r.url().includes('/api/uploads')) uploads.push(r.url());
  });

  const photo = { name: 'Saturday at the lake.png', mimeType: 'image/png', buffer: png(1200, 800, 0.25) };
  assert.ok(photo.buffer.length > 400_000 && photo.buffer.length < MAX_BYTES, `photo is ${photo.buffer.length} bytes`);
  const notes = { name: 'trip notes.txt', mimeType: 'text/plain', buffer: Buffer.from('Bring sunscreen.\n'.repeat(40)) };

  await signIn(a, server.base, alice.user.username, PASSWORD);
  await signIn(b, server.base, bob.user.username, PASSWORD);
  await a.goto(`${server.base}/rooms/${room.id}`);
  await b.goto(`${server.base}/rooms/${room.id}`);
  await a.locator('.messages .row', { hasText: 'photos from Saturday' }).waitFor();
  await b.locator('.messages .row', { hasText: 'photos from Saturday' }).waitFor();

  await t.test('the paperclip attaches two files; the tray shows each upload progressing', async () => {
    // A slow uplink, so the upload lasts long enough to watch its progress bar.
    const cdp = await contexts.alice.newCDPSession(a);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 20,
      downloadThroughput: -1,
      uploadThroughput: 250 * 1024,
    });
    await a.locator('#composer-files').setInputFiles([photo, notes]);
    const items = a.locator('.tray-item');
    await eventually(async () => assert.equal(await items.count(), 2), { what: 'two files in the tray' });
    assert.equal(await a.locator('.tray-item.is-image img.tray-thumb').count(), 1, 'the image has a preview');
    const bar = a.locator('.tray-item.is-image [role="progressbar"]');
    const midway = await eventually(
      async () => {
        const now = Number(await bar.getAttribute('aria-valuenow', { timeout: 500 }));
        assert.ok(now > 0 && now < 100, `progress ${now}`);
        return now;
      },
      { what: 'the photo upload part-way', interval: 50 },
    );
    assert.ok(midway > 0);
    await a.locator('#composer-input').fill('Here you go: the lake, and my notes');
    await screenshot(a, 'attachments-tray-desktop.png');
    await a.setViewportSize(PHONE);
    await screenshot(a, 'attachments-tray-phone.png');
    await a.setViewportSize(DESKTOP);
    // Sending while the photo still uploads: the message waits for it, then goes.
    await a.locator('#composer-input').press('Enter');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    await eventually(async () => assert.equal(await items.count(), 0), { timeout: 30_000, what: 'the tray to empty' });
    const mine = a.locator('.messages .row.mine', { hasText: 'the lake, and my notes' });
    await mine.locator('.att-thumb').waitFor();
    await mine.locator('.att-file', { hasText: notes.name }).waitFor();
    assert.equal(uploads.length, 2);
  });

  await t.test('Bob sees the thumbnail, at its size before it loads, and the file card, live', async () => {
    const row = b.locator('.messages .row.theirs', { hasText: 'the lake, and my notes' });
    await eventually(async () => assert.equal(await row.count(), 1), { what: 'the message at Bob' });
    const thumb = row.locator('.att-thumb');
    // 1200×800 fits the 240 box as 240×160: the box is that size whatever the image does.
    const box = await thumb.boundingBox();
    assert.ok(Math.abs(box.width - 240) < 1 && Math.abs(box.height - 160) < 1, JSON.stringify(box));
    await eventually(
      async () => assert.ok(await thumb.locator('img').evaluate((img) => img.complete && img.naturalWidth > 0)),
      { what: 'the thumbnail loaded' },
    );
    const natural = await thumb.locator('img').evaluate((img) => img.naturalWidth);
    assert.ok(natural <= 400, `the thumbnail, not the original (${natural} px wide)`);
    const card = row.locator('.att-file');
    assert.match(await card.innerText(), /trip notes\.txt\s+680 B/);
    await screenshot(b, 'attachments-timeline-desktop.png');
    await b.setViewportSize(PHONE);
    await screenshot(b, 'attachments-timeline-phone.png');
    await b.setViewportSize(DESKTOP);
  });

  await t.test('the viewer opens the full image; Escape closes it; downloads keep the names', async () => {
    const row = b.locator('.messages .row.theirs', { hasText: 'the lake, and my notes' });
    await row.locator('.att-thumb').click();
    const viewer = b.getByRole('dialog', { name: `Image ${photo.name}` });
    await viewer.waitFor();
    await eventually(
      async () => assert.equal(await viewer.locator('img.viewer-img').evaluate((img) => img.naturalWidth), 1200),
      { what: 'the original in the viewer' },
    );
    assert.ok(await b.locator('.viewer-close').evaluate((el) => el === document.activeElement), 'focus on Close');
    await b.keyboard.press('Tab');
    assert.ok(await b.locator('.viewer-download').evaluate((el) => el === document.activeElement), 'Tab stays inside');
    await b.keyboard.press('Tab');
    assert.ok(await b.locator('.viewer-close').evaluate((el) => el === document.activeElement), 'and comes back');
    await screenshot(b, 'attachments-viewer-desktop.png');
    await b.setViewportSize(PHONE);
    await screenshot(b, 'attachments-viewer-phone.png');
    await b.setViewportSize(DESKTOP);
    const [fromViewer] = await Promise.all([b.waitForEvent('download'), viewer.locator('.viewer-download').click()]);
    assert.equal(fromViewer.suggestedFilename(), photo.name);
    // A click on the image keeps the viewer open and Escape still reaches it.
    await viewer.locator('img.viewer-img').click();
    assert.equal(await b.locator('.viewer').count(), 1);
    await b.keyboard.press('Escape');
    await eventually(async () => assert.equal(await b.locator('.viewer').count(), 0), { what: 'the viewer closed' });

    const [download] = await Promise.all([b.waitForEvent('download'), row.locator('.att-file').click()]);
    assert.equal(download.suggestedFilename(), notes.name);
    const path = await download.path();
    const { readFile } = await import('node:fs/promises');
    assert.deepEqual(await readFile(path), notes.buffer);
  });

  await t.test('a file dropped on the conversation is sent without a caption', async () => {
    const dropped = { name: 'dropped.png', mimeType: 'image/png', buffer: png(300, 600) };
    await withDataTransfer(a, dropped, 'drop');
    await a.locator('.drop-zone').waitFor();
    await a.evaluate(() => window.__pendingDrop());
    await eventually(async () => assert.equal(await a.locator('.drop-zone').count(), 0), { what: 'the drop zone gone' });
    await a.locator('.tray-item', { hasText: dropped.name }).waitFor();
    await eventually(async () => assert.equal(await a.locator('.tray-item.is-uploading').count(), 0), {
      what: 'the upload done',
    });
    await a.getByRole('button', { name: 'Send', exact: true }).click();
    const row = b.locator('.messages .row.theirs').last();
    await eventually(async () => assert.equal(await row.locator(`img[alt="${dropped.name}"]`).count(), 1), {
      what: 'the dropped image at Bob',
    });
    assert.equal(await row.locator('.text').count(), 0, 'no empty text under an image without caption');
    const box = await row.locator('.att-thumb').boundingBox();
    assert.ok(Math.abs(box.width - 120) < 1 && Math.abs(box.height - 240) < 1, JSON.stringify(box));
  });

  await t.test('an image pasted into the box is attached, the caption is the text', async () => {
    const pasted = { name: 'screenshot.png', mimeType: 'image/png', buffer: png(500, 300) };
    await withDataTransfer(a, pasted, 'paste');
    await a.locator('.tray-item', { hasText: pasted.name }).waitFor();
    await a.locator('#composer-input').fill('Pasted this one');
    await a.locator('#composer-input').press('Enter');
    const row = b.locator('.messages .row.theirs', { hasText: 'Pasted this one' });
    await eventually(async () => assert.equal(await row.locator(`img[alt="${pasted.name}"]`).count(), 1), {
      what: 'the pasted image at Bob',
    });
  });

  await t.test('a file over the limit is refused before any upload, with the limit shown', async () => {
    const before = uploads.length;
    const big = { name: 'holiday video.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(MAX_BYTES + 1, 7) };
    await a.locator('#composer-files').setInputFiles([big]);
    const error = a.locator('.tray-error');
    await error.waitFor();
    assert.match(await error.innerText(), /holiday video\.bin.*at most 1\.4 MB/);
    assert.equal(await a.locator('.tray-item').count(), 0);
    assert.equal(uploads.length, before, 'nothing was uploaded');
    await a.locator('.tray-error').getByRole('button', { name: 'Dismiss' }).click();
    assert.equal(await error.count(), 0);
  });

  await t.test('the administrator sees the files in the conversation', async () => {
    const rootName = `root_${sfx}`;
    await makeAdmin(server, rootName, ADMIN_PASSWORD, 'Rita Root');
    const context = await browser.newContext({ viewport: DESKTOP });
    const admin = await context.newPage();
    watchErrors(admin, 'admin', errors);
    await signIn(admin, server.base, rootName, ADMIN_PASSWORD);
    await admin.goto(`${server.base}/admin/rooms/${room.id}`);
    const item = admin.locator('.admin-msg', { hasText: 'the lake, and my notes' });
    await item.waitFor();
    await eventually(
      async () => assert.ok(await item.locator('.att-thumb img').evaluate((img) => img.complete && img.naturalWidth > 0)),
      { what: 'the thumbnail at the admin' },
    );
    await item.locator('.att-file', { hasText: notes.name }).waitFor();
    await eventually(async () => assert.equal(await admin.locator('.admin-msg .att-thumb').count(), 3), {
      what: 'all three images',
    });
    await screenshot(admin, 'attachments-admin-desktop.png');
  });

  assert.deepEqual(errors, []);
});

test('uploads the server refuses: a page disguised as an image, a file over its limit, too many at once', async (t) => {
  // Three uploads a minute, so the fourth is refused here without a minute of uploading.
  const { server, browser, errors } = await startChat(t, {
    env: { CHAT_UPLOAD_MAX_BYTES: String(MAX_BYTES), CHAT_UPLOADS_PER_MINUTE: '3' },
  });

  const sfx = Date.now().toString(36).slice(-6);
  const [alice, bob] = await registerPeople(server, sfx, PASSWORD, 'Alice Martin', 'Bob Chen');
  const room = await alice.openRoom(bob.user.username);
  await bob.send(room.id, 'Send me whatever you have');

  const pages = {};
  for (const name of ['alice', 'bob']) {
    const context = await browser.newContext({ viewport: DESKTOP });
    pages[name] = await context.newPage();
    watchErrors(pages[name], name, errors);
  }
  const { alice: a, bob: b } = pages;
  // Alice's page believes in a limit ten times the server's (as a page loaded before an
  // administrator lowered it would), so only the server stands in the way of a large file.
  await a.route('**/api/uploads/limits', async (route) => {
    const response = await route.fetch();
    const limits = await response.json();
    await route.fulfill({ response, json: { ...limits, max_bytes: limits.max_bytes * 10 } });
  });
  await signIn(a, server.base, alice.user.username, PASSWORD);
  await signIn(b, server.base, bob.user.username, PASSWORD);
  await a.goto(`${server.base}/rooms/${room.id}`);
  await b.goto(`${server.base}/rooms/${room.id}`);
  await a.locator('.messages .row', { hasText: 'whatever you have' }).waitFor();
  await b.locator('.messages .row', { hasText: 'whatever you have' }).waitFor();
  const tray = a.locator('.tray-item');
  const done = a.locator('.tray-item .tray-size');
  const failed = a.locator('.tray-item .tray-failed');

  await t.test('a page named cat.png arrives as a file to download, never shown as a picture', async () => {
    const fake = {
      name: 'cat.png',
      mimeType: 'image/png',
      buffer: Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script>meow</body></html>\n'),
    };
    await a.locator('#composer-files').setInputFiles([fake]);
    await eventually(async () => assert.equal(await done.count(), 1), { what: 'cat.png uploaded' });
    await a.locator('#composer-input').fill('Not really a cat');
    await a.locator('#composer-input').press('Enter');
    await eventually(async () => assert.equal(await tray.count(), 0), { what: 'the tray to empty' });
    const row = b.locator('.messages .row.theirs', { hasText: 'Not really a cat' });
    const card = row.locator('.att-file', { hasText: 'cat.png' });
    await card.waitFor();
    assert.equal(await row.locator('img').count(), 0, 'no image element for it');
    const served = await b.request.get(new URL(await card.getAttribute('href'), server.base).href);
    assert.equal(served.status(), 200);
    const headers = served.headers();
    assert.match(headers['content-disposition'], /^attachment/);
    assert.doesNotMatch(headers['content-type'], /html|svg|script/);
    assert.equal(headers['x-content-type-options'], 'nosniff');
  });

  await t.test('a file over the server’s limit is refused by the server, and the tray says so', async () => {
    const big = { name: 'raw footage.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(MAX_BYTES + 1, 7) };
    await a.locator('#composer-files').setInputFiles([big]);
    await failed.waitFor();
    assert.equal(await failed.locator('.tray-why').innerText(), 'Too large for this server.');
    assert.equal(await failed.locator('.tray-retry').count(), 0, 'no Retry: it would be refused again');
    await screenshot(a, 'attachments-refused-too-large.png');
    await tray.locator('.tray-remove').click();
    await eventually(async () => assert.equal(await tray.count(), 0));
  });

  await t.test('a fourth upload in a minute is refused with the wait; the others still go', async () => {
    const files = [1, 2, 3].map((i) => ({
      name: `part ${i}.txt`,
      mimeType: 'text/plain',
      buffer: Buffer.from(`Part ${i} of the notes.\n`),
    }));
    // On a phone, where the tray shows two cards and the third is past its edge.
    await a.setViewportSize(PHONE);
    await a.locator('#composer-files').setInputFiles(files);
    // cat.png was the first of three this minute (the refused large file was not counted).
    await eventually(
      async () => {
        assert.equal(await done.count(), 2);
        assert.equal(await failed.count(), 1);
      },
      { what: 'two uploaded, one refused' },
    );
    assert.match(await failed.locator('.tray-why').innerText(), /^Too many uploads\. Retry in \d+ s\.$/);
    assert.equal(await failed.locator('.tray-retry').count(), 1, 'it can be retried');
    // The refused card is brought into view, wherever it was in the tray.
    await eventually(
      async () => {
        const [card, view] = await Promise.all([
          a.locator('.tray-item.is-failed').boundingBox(),
          a.locator('.tray-items').boundingBox(),
        ]);
        assert.ok(card.x >= view.x - 1 && card.x + card.width <= view.x + view.width + 1, `card ${card.x}+${card.width} in ${view.x}+${view.width}`);
      },
      { what: 'the refused card in view' },
    );
    await screenshot(a, 'attachments-refused-rate-phone.png');
    await a.setViewportSize(DESKTOP);
    await screenshot(a, 'attachments-refused-rate.png');
    await a.emulateMedia({ colorScheme: 'dark' });
    await sleep(400); // colours have short transitions
    await screenshot(a, 'attachments-refused-rate-dark.png');
    await a.emulateMedia({ colorScheme: 'light' });
    await a.locator('.tray-item', { has: a.locator('.tray-failed') }).locator('.tray-remove').click();
    await eventually(async () => assert.equal(await tray.count(), 2));
    await a.locator('#composer-input').fill('Two of the three');
    await a.locator('#composer-input').press('Enter');
    const row = b.locator('.messages .row.theirs', { hasText: 'Two of the three' });
    await eventually(async () => assert.equal(await row.locator('.att-file').count(), 2), { what: 'both files at Bob' });
  });

  assert.deepEqual(errors, []);
});
