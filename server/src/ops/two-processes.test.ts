/**
 * Two API processes on one PostgreSQL schema, the face engine on in both, the same master key: a
 * shopper enrols her face (real live video) through process A and pays at a terminal served by
 * process B; her face, deleted through A, is unknown to B at once; the payment's webhook, although
 * both processes run delivery workers, arrives once. Everything goes over real HTTP to child
 * processes started with `facepay start`, as an operator would run them behind one address.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { activateDevice, MemoryKeyStore, type DeviceClient } from '@facepay/device-sdk';
import { allMigrations, createPlatform, type Platform } from '../composition.ts';
import { loadConfig } from '../config/index.ts';
import { repoRoot } from '../platform/index.ts';
import { migrate, PostgresDb } from '../storage/index.ts';
import { pgUrl } from '../storage/testing.ts';
import { LIVE_SHOPPER, VIDEO_CLIPS, liveClipFrames, shifted } from '../testing/live-video.ts';

const skip = !pgUrl
  ? 'FACEPAY_PG_URL is not set: two processes need one PostgreSQL to share'
  : VIDEO_CLIPS === undefined
    ? 'the video clips are absent: set FACEPAY_DATASETS or place them at ../shared/datasets'
    : false;

const PASSWORD = 'a long passphrase';
/** What a terminal sends: 60 frames at 12 a second (packages/face-capture's STREAM). */
const STREAM = { count: 60, fps: 12 };

interface Proc {
  child: ChildProcess;
  base: string;
}

function startServer(name: string, env: Record<string, string>): Promise<Proc> {
  const child = spawn(process.execPath, [join(repoRoot, 'server/bin/facepay.js'), 'start'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', FACEPAY_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    // The face engine loads its models and the gallery its index: tens of seconds on a busy machine.
    const timer = setTimeout(() => reject(new Error(`process ${name} did not start: ${out}`)), 240_000);
    child.once('exit', (code) => reject(new Error(`process ${name} exited with ${code}: ${out}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const api = /API\s+(http:\/\/\S+)\/v1/.exec(out);
      if (!api) return;
      clearTimeout(timer);
      resolve({ child, base: api[1]! });
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('two API processes on one PostgreSQL', { skip }, () => {
  const schema = `twoproc_${process.pid}_${Date.now().toString(36)}`;
  const dirs = [mkdtempSync(join(tmpdir(), 'facepay-a-')), mkdtempSync(join(tmpdir(), 'facepay-b-')), mkdtempSync(join(tmpdir(), 'facepay-setup-'))];
  const masterKey = randomBytes(32).toString('base64');
  const children: ChildProcess[] = [];
  let db: PostgresDb;
  let setup: Platform;
  let a: Proc;
  let b: Proc;
  let liveKey = '';
  let storeId = '';
  let device: DeviceClient;
  let cookie = '';
  let shopperId = '';
  let loop: Buffer[] = [];
  let hooks: HttpServer;
  const received: { id: string; type: string; object: string }[] = [];

  before(async () => {
    db = new PostgresDb({ url: pgUrl!, schema });
    await db.init();
    await migrate(db, allMigrations);
    // The merchant exists before either process starts, so neither seeds the demo.
    setup = await createPlatform(loadConfig({ FACEPAY_LOG_LEVEL: 'silent', FACEPAY_FACE: '0', FACEPAY_DATA_DIR: dirs[2]!, FACEPAY_MASTER_KEY: masterKey }), { db });
    const m = await setup.services.merchants.createMerchant({ name: 'Two tills' });
    storeId = (await setup.services.merchants.createStore(m.id, { name: 'High street', metadata: { currency: 'eur' } })).id;
    liveKey = (await setup.services.merchants.createApiKey(m.id, { mode: 'live' })).secret;

    hooks = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const e = JSON.parse(body) as { id: string; type: string; data: { object: { id: string } } };
        received.push({ id: e.id, type: e.type, object: e.data.object.id });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', () => r()));

    const u = new URL(pgUrl!);
    u.searchParams.set('options', `-c search_path=${schema}`);
    const env = (dir: string): Record<string, string> => ({
      FACEPAY_PG_URL: u.toString(),
      FACEPAY_DATA_DIR: dir,
      FACEPAY_MASTER_KEY: masterKey,
      FACEPAY_FACE: '1',
      // One model set each: two processes share the machine's cores.
      FACEPAY_FACE_WORKERS: '1',
      // The clip answers a turn to the left.
      FACEPAY_CHALLENGE_KINDS: 'turn_left',
      FACEPAY_WEBHOOK_ALLOW_HTTP: '1',
      FACEPAY_WEBHOOK_ALLOW_PRIVATE: '1',
      FACEPAY_WEBHOOK_INTERVAL_MS: '100',
      FACEPAY_RATE_LIMITS: '0',
    });
    // Both at once, as after a deploy: the migrations are already in place, each reads the gallery.
    const started = await Promise.all([startServer('A', env(dirs[0]!)), startServer('B', env(dirs[1]!))]);
    [a, b] = started;
    children.push(a.child, b.child);
    loop = await liveClipFrames(LIVE_SHOPPER);
  });

  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    hooks?.close();
    await setup?.close();
    if (db) {
      await db.dropSchema();
      await db.close();
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function shopper(base: string, method: string, url: string, body?: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(base + url, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(cookie ? { cookie } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }

  async function api(base: string, method: string, url: string, body?: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(base + url, {
      method,
      headers: { authorization: `Bearer ${liveKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: await res.json() };
  }

  /**
   * A 5 s stream of the looping clip as a terminal grabs it at 12 fps from the 30 fps loop,
   * beginning at `start`, moved by (dx, dy) pixels so that no two streams send the same picture.
   * It waits until the stream's length has passed since the challenge was issued, as a camera does.
   */
  async function stream(issuedAt: number, start: number, dx: number, dy: number): Promise<{ sent_at: number; frames: { at: number; jpeg: string }[] }> {
    const step = 30 / STREAM.fps;
    const interval = 1000 / STREAM.fps;
    const jpegs = await Promise.all(Array.from({ length: STREAM.count }, (_, i) => shifted(loop[(start + Math.floor(i * step)) % loop.length]!, dx, dy)));
    const wait = issuedAt + STREAM.count * interval + 50 - Date.now();
    if (wait > 0) await sleep(wait);
    const sentAt = Date.now();
    return { sent_at: sentAt, frames: jpegs.map((j, i) => ({ at: Math.round(sentAt - 10 - (STREAM.count - 1 - i) * interval), jpeg: j.toString('base64') })) };
  }

  async function payAtB(amount: number, start: number, dx: number, dy: number): Promise<{ intentId: string; decision: any }> {
    const created = await api(b.base, 'POST', '/v1/payment_intents', { amount, currency: 'eur', store: storeId, terminal: device.deviceId });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const intentId = created.json.id as string;
    const asked = Date.now();
    const ch = await device.json<{ attempt_id: string; challenge: { kind: string } }>(`/device/v1/payment_intents/${intentId}/face_challenges`, { json: {} });
    assert.equal(ch.challenge.kind, 'turn_left');
    const res = await device.fetch(`/device/v1/face_attempts/${ch.attempt_id}/captures`, { json: await stream(asked, start, dx, dy) });
    return { intentId, decision: await res.json() };
  }

  test('both processes answer on the same database', async () => {
    for (const p of [a, b]) assert.equal((await fetch(`${p.base}/health/ready`)).status, 200);
    assert.notEqual(a.base, b.base);
  });

  test('a shopper signs up and enrols her face with live video through process A', { timeout: 120_000 }, async () => {
    assert.equal((await shopper(a.base, 'POST', '/v1/shopper/signup', { email: 'two@example.com', password: PASSWORD, name: 'Tia Two' })).status, 202);
    const login = await shopper(a.base, 'POST', '/v1/shopper/login', { email: 'two@example.com', password: PASSWORD });
    assert.equal(login.status, 200, JSON.stringify(login.json));
    shopperId = login.json.id;
    const consent = await shopper(a.base, 'GET', '/v1/shopper/consent');
    assert.equal((await shopper(a.base, 'POST', '/v1/shopper/consent', { version: consent.json.version })).status, 200);
    const asked = Date.now();
    const ch = await shopper(a.base, 'POST', '/v1/shopper/face/challenges', {});
    assert.equal(ch.status, 200, JSON.stringify(ch.json));
    assert.equal(ch.json.kind, 'turn_left');
    const enrolled = await shopper(a.base, 'POST', '/v1/shopper/face', { challenge_id: ch.json.challenge_id, ...(await stream(asked, 0, 0, 0)) });
    assert.equal(enrolled.status, 200, JSON.stringify(enrolled.json));
    assert.equal(enrolled.json.face_enrolled, true);
    await setup.services.payments.topUp(shopperId, 20_000, 'eur', 'twoproc-seed');
    // The webhook endpoint is registered through A too; B's workers see it in the database.
    const hook = await api(a.base, 'POST', '/v1/webhook_endpoints', { url: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`, enabled_events: ['payment_intent.succeeded'] });
    assert.equal(hook.status, 200, JSON.stringify(hook.json));
  });

  test('a terminal activated on process B pays by face for her at once', { timeout: 120_000 }, async () => {
    const t = await api(b.base, 'POST', '/v1/terminals', { store: storeId, label: 'Till B' });
    assert.equal(t.status, 200, JSON.stringify(t.json));
    ({ client: device } = await activateDevice({ baseUrl: b.base, code: t.json.activation_code, keyStore: new MemoryKeyStore() }));
    const { intentId, decision } = await payAtB(900, 1, 1, 2);
    assert.equal(decision.outcome, 'match', JSON.stringify(decision));
    const paid = await device.json<{ status: string }>(`/device/v1/face_attempts/${decision.attempt_id}/confirm`, { json: { payment_id: 'tpay_twoproc_0001' } });
    assert.equal(paid.status, 'succeeded', JSON.stringify(paid));
    const read = await api(a.base, 'GET', `/v1/payment_intents/${intentId}`);
    assert.equal(read.json.status, 'succeeded');

    // Both processes poll for deliveries every 100 ms: the event arrives, and after a few more
    // rounds of both workers it has still arrived once.
    const deadline = Date.now() + 30_000;
    while (!received.some((e) => e.object === intentId) && Date.now() < deadline) await sleep(100);
    await sleep(3_000);
    const mine = received.filter((e) => e.object === intentId);
    assert.equal(mine.length, 1, `deliveries of the payment's event: ${JSON.stringify(received)}`);
    assert.equal(mine[0]!.type, 'payment_intent.succeeded');
  });

  test('her face deleted through A is unknown to B at once', { timeout: 120_000 }, async () => {
    const gone = await shopper(a.base, 'DELETE', '/v1/shopper/face');
    assert.equal(gone.status, 200);
    assert.equal(gone.json.face_enrolled, false);
    const { intentId, decision } = await payAtB(900, 2, 2, 1);
    assert.notEqual(decision.outcome, 'match', JSON.stringify(decision));
    assert.equal(decision.outcome, 'no_match', JSON.stringify(decision));
    const read = await api(b.base, 'GET', `/v1/payment_intents/${intentId}`);
    assert.notEqual(read.json.status, 'succeeded');
  });
});
