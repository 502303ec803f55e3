// Helpers for the browser end-to-end test: the real chat-server as a child process, a REST
// client for the "third person", headless Chromium, and polling assertions.

import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const SCREENSHOTS = join(ROOT, 'target', 'screenshots');

/**
 * A port for a server a test starts, below the kernel's ephemeral range (32768 and up), so that
 * neither another process's bind to port 0 nor an outgoing connection takes it between our
 * choice and the server binding it. The counter keeps this process's choices apart; the PID
 * spreads test files running at once.
 */
let nextPort = 0;
export async function freePort() {
  const FIRST = 10000;
  const SPAN = 22000;
  const start = (process.pid * 7919) % SPAN;
  for (;;) {
    const port = FIRST + ((start + nextPort++) % SPAN);
    const free = await new Promise((ok) => {
      const srv = createServer();
      srv.once('error', () => ok(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => ok(true)));
    });
    if (free) return port;
  }
}

/**
 * The real server on a fixed port and a temporary SQLite file, so it can be stopped and
 * started again on the same address and data. Only the processes started here are killed.
 */
export class ChatServer {
  /** `env`: extra variables for the server (e.g. `{ CHAT_UPLOAD_MAX_BYTES: '200000' }`). */
  static async create({ env = {} } = {}) {
    const dir = await mkdtemp(join(tmpdir(), 'chat-e2e-'));
    const port = await freePort();
    return new ChatServer(dir, port, env);
  }

  constructor(dir, port, env = {}) {
    this.env = env;
    this.dir = dir;
    this.port = port;
    this.base = `http://127.0.0.1:${port}`;
    this.bin = process.env.CHAT_SERVER_BIN || join(ROOT, 'target', 'release', 'chat-server');
    this.child = null;
    this.logFile = join(dir, 'server.log');
    this.starts = 0;
  }

  async start() {
    const { openSync } = await import('node:fs');
    const log = openSync(this.logFile, 'a');
    this.starts += 1;
    this.child = spawn(this.bin, [], {
      cwd: ROOT,
      env: {
        ...process.env,
        CHAT_BIND: `127.0.0.1:${this.port}`,
        DATABASE_URL: `sqlite://${join(this.dir, 'chat.db')}`,
        CHAT_STATIC_DIR: join(ROOT, 'frontend', 'dist'),
        CHAT_ALLOWED_ORIGINS: this.base,
        RUST_LOG: process.env.RUST_LOG || 'info',
        ...this.env,
      },
      stdio: ['ignore', log, log],
    });
    const child = this.child;
    child.exited = new Promise((ok) => child.once('exit', (code, signal) => ok({ code, signal })));
    // Safety net: never leave our server running if the test process dies early.
    const reap = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.removeListener('exit', reap));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new Error(`chat-server exited at start (${child.exitCode}):\n${await this.logTail()}`);
      }
      try {
        const res = await fetch(`${this.base}/api/health`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`chat-server did not become healthy:\n${await this.logTail()}`);
  }

  /** Stops the server (SIGTERM, then SIGKILL after a grace period). */
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killed = await Promise.race([child.exited, sleep(5_000).then(() => null)]);
    if (!killed) {
      child.kill('SIGKILL');
      await child.exited;
    }
    this.child = null;
  }

  async logTail(lines = 40) {
    try {
      return (await readFile(this.logFile, 'utf8')).split('\n').slice(-lines).join('\n');
    } catch {
      return '(no server log)';
    }
  }
}

/** A REST client, as a third-party API user would write it. */
export class ApiClient {
  constructor(base) {
    this.base = base;
    this.token = null;
    this.user = null;
  }

  async call(method, path, body) {
    for (;;) {
      const res = await fetch(`${this.base}/api${path}`, {
        method,
        headers: {
          'content-type': 'application/json',
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status === 429) {
        // Rate limited: wait as told, then retry (sends are idempotent by client_id).
        await sleep(1000 * Number(res.headers.get('retry-after') || 1));
        continue;
      }
      if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
      return text ? JSON.parse(text) : null;
    }
  }

  async register(username, password, display_name) {
    const { user, token } = await this.call('POST', '/auth/register', { username, password, display_name });
    this.user = user;
    this.token = token;
    return user;
  }

  async openRoom(peer) {
    return this.call('POST', '/rooms', { peer });
  }

  async send(roomId, body) {
    return this.call('POST', `/rooms/${roomId}/messages`, { body, client_id: crypto.randomUUID() });
  }
}

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * A fresh server (with the extra environment `env`) and a headless browser for the test `t`,
 * both ended after it; `errors` is for `watchErrors` and is printed at the end if not empty.
 */
export async function startChat(t, { env = {} } = {}) {
  const server = await ChatServer.create({ env });
  await server.start();
  const browser = await launchBrowser();
  const errors = [];
  t.after(async () => {
    await browser.close().catch(() => {});
    await server.stop();
  });
  t.after(() => {
    if (errors.length) console.log(`page errors:\n${errors.join('\n')}`);
  });
  return { server, browser, errors };
}

/**
 * Registers one person per display name through the API ('Alice Martin' signs up as
 * `alice_<sfx>` with `password`), in order.
 */
export async function registerPeople(server, sfx, password, ...names) {
  const people = [];
  for (const name of names) {
    const api = new ApiClient(server.base);
    await api.register(`${name.split(' ')[0].toLowerCase()}_${sfx}`, password, name);
    people.push(api);
  }
  return people;
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
}

/** Collects page errors so a test can assert the SPA never crashed. */
export function watchErrors(page, label, sink) {
  page.on('pageerror', (e) => sink.push(`${label}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource|ERR_CONNECTION_REFUSED|WebSocket connection/.test(m.text())) {
      sink.push(`${label} console: ${m.text()}`);
    }
  });
}

/** Polls `check` until it stops throwing (or returns true), like an `expect.poll`. */
export async function eventually(check, { timeout = 15_000, interval = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const out = await check();
      if (out !== false) return out;
      last = new Error(`${what}: still false`);
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      last.message = `timed out after ${timeout} ms waiting for ${what}: ${last.message}`;
      throw last;
    }
    await sleep(interval);
  }
}

export async function screenshot(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, name);
  await page.screenshot({ path });
  return path;
}

/**
 * Makes `username` an administrator with the real CLI against the server's database, as the
 * README tells a person to: `chat-server admin create --username NAME`, password on stdin
 * (an existing user is promoted and no password is read).
 */
export async function makeAdmin(server, username, password, displayName) {
  const args = ['admin', 'create', '--username', username];
  if (displayName) args.push('--display-name', displayName);
  const child = spawn(server.bin, args, {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: `sqlite://${join(server.dir, 'chat.db')}`, RUST_LOG: 'warn' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  child.stdin.end(`${password}\n`);
  const code = await new Promise((ok) => child.once('exit', ok));
  if (code !== 0) throw new Error(`chat-server admin create exited ${code}:\n${out}`);
  return out.trim();
}

/** Signs in through the SPA's sign-in page and waits for the main screen's live socket. */
export async function signIn(page, base, username, password) {
  await page.goto(`${base}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('.sidebar');
}
