/**
 * The face-pay PIN and the risk engine's decisions over real HTTP: a shopper sets a PIN in the
 * portal, a terminal (activated with the SDK) is asked for it above the face-alone limit and pays,
 * the merchant reads the decision in the intent's events and the shopper in their history. The
 * face engine is replaced by a stand-in that names this shopper; everything else is the real
 * platform on both databases. Every log line, response body and webhook event is scanned for the PIN.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { activateDevice, MemoryKeyStore, type DeviceClient } from '@facepay/device-sdk';
import { describeEachDialect } from '../../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../../testing.ts';

const PIN = '738105';
const PASSWORD = 'a long passphrase';

describeEachDialect('face-pay PIN and risk decisions over HTTP', (dialect) => {
  let p: TestPlatform;
  let base: string;
  let device: DeviceClient;
  let cookie = '';
  let shopperId = '';
  const logs: string[] = [];
  const bodies: string[] = [];

  before(async () => {
    p = await testPlatform(dialect, {
      env: { FACEPAY_LOG_LEVEL: 'trace' },
      overrides: {
        logStream: { write: (line: string) => void logs.push(line) },
        faceStandIn: {
          faceCheck: {
            issueChallenge: () => ({ id: `ch_${Math.random().toString(36).slice(2)}`, kind: 'blink', issuedAt: Date.now(), expiresAt: Date.now() + 60_000 }),
            verify: async () => ({ ok: true, embedding: new Float32Array([1, 0]), model: { name: 'stand-in', version: '1' } }),
          },
          identifier: { identify: async () => ({ outcome: 'match', shopperId, falseMatchProbability: 1e-8 }) },
        },
      },
    });
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
    const created = await p.app.inject({ method: 'POST', url: '/v1/terminals', payload: { store: p.storeId }, headers: p.auth });
    ({ client: device } = await activateDevice({ baseUrl: base, code: created.json().activation_code, keyStore: new MemoryKeyStore() }));
  });
  after(async () => {
    await p.dispose();
  });

  async function shopper(method: string, url: string, body?: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(base + url, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(cookie ? { cookie } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    bodies.push(text);
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }
  async function terminal(path: string, json: unknown): Promise<any> {
    const res = await device.fetch(path, { json });
    const text = await res.text();
    bodies.push(text);
    return JSON.parse(text);
  }
  const frames = () => ({ sent_at: Date.now(), frames: [{ at: Date.now() - 10, jpeg: Buffer.from('not a real frame').toString('base64') }] });

  test('the shopper sets a PIN with their password; it is refused when simple, wrong or without the password', async () => {
    assert.equal((await shopper('POST', '/v1/shopper/signup', { email: 'pin@example.com', password: PASSWORD, name: 'Pia Nunes', phone: '+351 912 000 111' })).status, 202);
    const signedIn = await shopper('POST', '/v1/shopper/login', { email: 'pin@example.com', password: PASSWORD });
    assert.equal(signedIn.status, 200);
    shopperId = signedIn.json.id;
    assert.equal(signedIn.json.has_face_pay_pin, false);
    assert.equal((await shopper('PUT', '/v1/shopper/face_pay_pin', { pin: '123456', password: PASSWORD })).json.error.code, 'pin_too_simple');
    assert.equal((await shopper('PUT', '/v1/shopper/face_pay_pin', { pin: '12345', password: PASSWORD })).json.error.code, 'pin_invalid');
    assert.equal((await shopper('PUT', '/v1/shopper/face_pay_pin', { pin: PIN, password: 'not my password' })).status, 403);
    const set = await shopper('PUT', '/v1/shopper/face_pay_pin', { pin: PIN, password: PASSWORD });
    assert.equal(set.status, 200);
    assert.equal(set.json.has_face_pay_pin, true);
    // Face pay on, as after a real enrolment (the stand-in gallery needs no template).
    await p.db.execute('UPDATE shoppers SET face_enrolled_at = $2, face_pay_enabled = 1 WHERE id = $1', [shopperId, Date.now()]);
    await p.services.payments.topUp(shopperId, 60_000, 'eur', 'seed-pin');
  });

  test('above the face-alone limit the terminal asks for the PIN, a wrong one is counted, the right one pays', async () => {
    const me = await device.json<{ terminal_id: string }>('/device/v1/me');
    const created = await p.app.inject({ method: 'POST', url: '/v1/payment_intents', payload: { amount: 25_000, currency: 'eur', store: p.storeId, terminal: me.terminal_id }, headers: p.liveAuth });
    const intentId = created.json().id as string;
    const { attempt_id: attemptId } = await terminal(`/device/v1/payment_intents/${intentId}/face_challenges`, {});
    const asked = await terminal(`/device/v1/face_attempts/${attemptId}/captures`, frames());
    assert.deepEqual(asked, { outcome: 'pin', attempt_id: attemptId, attempts_left: 3 });
    assert.equal((await terminal(`/device/v1/face_attempts/${attemptId}/pin`, { pin: 'abcdef' })).error.code, 'parameter_invalid');
    assert.deepEqual(await terminal(`/device/v1/face_attempts/${attemptId}/pin`, { pin: '902211' }), { outcome: 'pin', attempt_id: attemptId, attempts_left: 2 });
    const ok = await terminal(`/device/v1/face_attempts/${attemptId}/pin`, { pin: PIN });
    assert.equal(ok.outcome, 'match', JSON.stringify(ok));
    const paid = await terminal(`/device/v1/face_attempts/${attemptId}/confirm`, { payment_id: 'tpay_pin_000001' });
    assert.equal(paid.status, 'succeeded', JSON.stringify(paid));

    // The merchant sees the decision and its reasons in the payment's events.
    const events = await p.app.inject({ method: 'GET', url: `/v1/payment_intents/${intentId}/events?limit=100`, headers: p.liveAuth });
    bodies.push(events.body);
    const decision = events.json().data.find((e: { type: string }) => e.type === 'payment_intent.face_decision');
    assert.equal(decision.data.object.choice, 'face_pin');
    assert.deepEqual(decision.data.object.reasons, ['false_match_bound_ok', 'amount_above_face_alone_limit']);
    // The shopper sees it in their history.
    const history = await shopper('GET', '/v1/shopper/payments');
    assert.deepEqual(history.json.data.find((x: { id: string }) => x.id === intentId).face_decision, { choice: 'face_pin', reasons: ['false_match_bound_ok', 'amount_above_face_alone_limit'] });
  });

  test('a small payment is face alone; above what any face payment may pay, another way', async () => {
    const me = await device.json<{ terminal_id: string }>('/device/v1/me');
    const small = (await p.app.inject({ method: 'POST', url: '/v1/payment_intents', payload: { amount: 900, currency: 'eur', store: p.storeId, terminal: me.terminal_id }, headers: p.liveAuth })).json().id;
    const a = await terminal(`/device/v1/payment_intents/${small}/face_challenges`, {});
    assert.equal((await terminal(`/device/v1/face_attempts/${a.attempt_id}/captures`, frames())).outcome, 'match');
    await p.services.payments.cancel(p.merchantId, small);
    const big = (await p.app.inject({ method: 'POST', url: '/v1/payment_intents', payload: { amount: 100_001, currency: 'eur', store: p.storeId, terminal: me.terminal_id }, headers: p.liveAuth })).json().id;
    const b = await terminal(`/device/v1/payment_intents/${big}/face_challenges`, {});
    assert.deepEqual(await terminal(`/device/v1/face_attempts/${b.attempt_id}/captures`, frames()), { outcome: 'no_face' });
    await p.services.payments.cancel(p.merchantId, big);
  });

  test('the PIN is in no log line, no response body and no webhook event', async () => {
    assert.ok(logs.length > 5, `captured ${logs.length} log lines`);
    assert.ok(logs.some((l) => l.includes('/pin')), 'the PIN requests themselves were logged (and so scanned)');
    for (const line of logs) assert.equal(line.includes(PIN), false, `a log line holds the PIN: ${line.slice(0, 200)}`);
    for (const b of bodies) assert.equal(b.includes(PIN), false, `a response holds the PIN: ${b.slice(0, 200)}`);
    const events = await p.db.query<{ data: string }>('SELECT data FROM events');
    assert.ok(events.length > 0);
    for (const e of events) assert.equal(String(typeof e.data === 'string' ? e.data : JSON.stringify(e.data)).includes(PIN), false);
    const rows = await p.db.query<{ face_pay_pin_hash: string }>('SELECT face_pay_pin_hash FROM shoppers WHERE id = $1', [shopperId]);
    assert.match(rows[0]!.face_pay_pin_hash, /^scrypt\$/);
    assert.equal(rows[0]!.face_pay_pin_hash.includes(PIN), false);
  });

  test('the password of the PIN routes is throttled like sign-in: wrong guesses end in 429, even for the right one', async () => {
    let last = 0;
    for (let i = 0; i < 10; i++) last = (await shopper('DELETE', '/v1/shopper/face_pay_pin', { password: `guess ${i}` })).status;
    assert.equal(last, 403);
    const locked = await shopper('PUT', '/v1/shopper/face_pay_pin', { pin: '902417', password: PASSWORD });
    assert.equal(locked.status, 429);
    assert.equal(locked.json.error.code, 'too_many_login_attempts');
    const me = await shopper('GET', '/v1/shopper/me');
    assert.equal(me.json.has_face_pay_pin, true, 'the locked request changed nothing');
  });
});
