/**
 * The device protocol over real HTTP: merchant endpoints through `inject`, and a real listening
 * server for the device side, so that what the SDK signs is what Node receives on the socket.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { DeviceApiError, type DeviceClient, MemoryKeyStore, activateDevice, generateDeviceKeyPair, signRequest, utf8 } from '@facepay/device-sdk';
import { describeEachDialect } from '../../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../../testing.ts';
import { requireDevice } from './devices.ts';

describeEachDialect('device protocol over HTTP', (dialect) => {
  let p: TestPlatform;
  let base: string;
  let storeId: string;
  let client: DeviceClient;
  let terminalId: string;
  let keyStore: MemoryKeyStore;
  const echoed: unknown[] = [];

  before(async () => {
    p = await testPlatform(dialect, { env: { FACEPAY_BODY_LIMIT_BYTES: '4096' } });
    storeId = (await p.services.merchants.createStore(p.merchantId, { name: 'Harbour', metadata: { currency: 'eur' } })).id;
    // A signed device route declared by another route file, after the devices routes: the guard covers it too.
    p.app.post('/device/v1/echo', async (request) => {
      echoed.push(request.body);
      return { terminal: requireDevice(request).terminalId, body: request.body };
    });
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await p.dispose();
  });

  const post = (url: string, payload: unknown) => p.app.inject({ method: 'POST', url, payload: payload as string, headers: p.auth });
  const get = (url: string) => p.app.inject({ method: 'GET', url, headers: p.auth });

  test('a merchant creates terminals in its stores, lists and reads them', async () => {
    const res = await post('/v1/terminals', { store: storeId, label: 'Till 1' });
    assert.equal(res.statusCode, 200, res.body);
    const t = res.json();
    assert.equal(t.object, 'terminal');
    assert.equal(t.status, 'pending');
    assert.equal(t.store, storeId);
    assert.match(t.activation_code, /^[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    assert.equal(typeof t.activation_code_expires_at, 'number');
    const list = (await get(`/v1/stores/${storeId}/terminals`)).json();
    assert.deepEqual(list.data.map((x: { id: string }) => x.id), [t.id]);
    assert.equal(list.data[0].activation_code, undefined, 'the code is shown once only');
    assert.equal((await get(`/v1/terminals/${t.id}`)).json().label, 'Till 1');
    assert.equal((await post('/v1/terminals', { store: 'store_elsewhere' })).json().error.code, 'store_not_found');
    assert.equal((await get('/v1/terminals/term_nope')).statusCode, 404);
    assert.equal((await p.app.inject({ method: 'POST', url: '/v1/terminals', payload: { store: storeId } })).statusCode, 401);
    const again = await post(`/v1/terminals/${t.id}/activation_code`, {});
    assert.equal(again.statusCode, 200, again.body);
    assert.notEqual(again.json().activation_code, t.activation_code);
  });

  test('a terminal activates with the SDK and its signed requests pass over real HTTP', async () => {
    const created = (await post('/v1/terminals', { store: storeId, label: 'Counter' })).json();
    keyStore = new MemoryKeyStore();
    ({ client } = await activateDevice({ baseUrl: base, code: created.activation_code.toLowerCase(), keyStore }));
    terminalId = client.deviceId;
    assert.equal(terminalId, created.id);
    const me = await client.json<Record<string, unknown>>('/device/v1/me');
    assert.equal(me.terminal_id, created.id);
    assert.equal(me.store_id, storeId);
    assert.equal(me.merchant_id, p.merchantId);
    assert.equal(me.name, 'Counter');
    assert.equal(me.currency, 'eur');
    assert.equal(me.status, 'active');
    const echo = await client.json<{ terminal: string; body: unknown }>('/device/v1/echo?x=%C3%A9&y=1', { json: { note: 'café', amount: 1250 } });
    assert.deepEqual(echo, { terminal: created.id, body: { note: 'café', amount: 1250 } });
    assert.equal((await get(`/v1/terminals/${created.id}`)).json().last_seen_at !== null, true);

    await assert.rejects(activateDevice({ baseUrl: base, code: created.activation_code, keyStore: new MemoryKeyStore() }), (e: unknown) => {
      assert.ok(e instanceof DeviceApiError);
      assert.equal(e.status, 401);
      assert.equal(e.code, 'activation_code_used');
      return true;
    });
  });

  test("a terminal in a store that names no currency is told the wallets' currency, never left to guess", async () => {
    const plain = (await p.services.merchants.createStore(p.merchantId, { name: 'Quay' })).id;
    const created = (await post('/v1/terminals', { store: plain, label: 'Till 2' })).json();
    const { client: other } = await activateDevice({ baseUrl: base, code: created.activation_code, keyStore: new MemoryKeyStore() });
    const me = await other.json<Record<string, unknown>>('/device/v1/me');
    assert.equal(me.currency, p.config.walletCurrency);
  });

  test('tampering, replay, missing headers, unknown devices and oversized bodies are refused with their codes', async () => {
    const identity = { ...(await generateDeviceKeyPair()), deviceId: terminalId };
    // Sign with the wrong key: a well-formed request that must not verify.
    const forged = await signRequest(identity, { method: 'GET', path: '/device/v1/me' });
    const call = async (path: string, init: RequestInit) => {
      const res = await fetch(base + path, init);
      return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code };
    };
    assert.deepEqual(await call('/device/v1/me', { headers: forged }), { status: 401, code: 'device_signature_invalid' });
    assert.deepEqual(await call('/device/v1/me', {}), { status: 401, code: 'device_auth_missing' });

    // A genuine signature over one body, sent with another.
    const res = await client.fetch('/device/v1/echo', { json: { amount: 1 } });
    assert.equal(res.status, 200);
    const body = utf8('{"amount":1}');
    const signedHeaders = await signRequest({ ...(await keyOf()), deviceId: terminalId }, { method: 'POST', path: '/device/v1/echo', body });
    const headers = { ...signedHeaders, 'content-type': 'application/json' };
    assert.deepEqual(await call('/device/v1/echo', { method: 'POST', headers, body: '{"amount":1000}' }), { status: 401, code: 'device_signature_invalid' });
    assert.deepEqual(await call('/device/v1/echo?amount=1', { method: 'POST', headers, body }), { status: 401, code: 'device_signature_invalid' });
    assert.deepEqual(await call('/device/v1/echo', { method: 'POST', headers, body }), { status: 200, code: undefined });
    assert.deepEqual(await call('/device/v1/echo', { method: 'POST', headers, body }), { status: 401, code: 'device_nonce_reused' });

    const stale = await signRequest({ ...(await keyOf()), deviceId: terminalId }, { method: 'GET', path: '/device/v1/me', timestamp: Date.now() - 3_600_000 });
    assert.deepEqual(await call('/device/v1/me', { headers: stale }), { status: 401, code: 'device_timestamp_stale' });
    const unknown = await signRequest({ ...identity, deviceId: 'term_unknown' }, { method: 'GET', path: '/device/v1/me' });
    assert.deepEqual(await call('/device/v1/me', { headers: unknown }), { status: 401, code: 'device_unknown' });
    const big = await client.fetch('/device/v1/echo', { json: { pad: 'x'.repeat(5000) } });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { error: { code: string } }).error.code, 'body_too_large');
    assert.equal((await fetch(`${base}/device/v1/activate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'AAAAA-AAAAA', public_key: 'nope' }) })).status, 400);
  });

  test('a device body is neither read without device headers nor parsed without a valid signature', async () => {
    // No device headers and a 6 MiB body announced: the answer comes before the body is sent.
    const early = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${base}/device/v1/face_attempts/att_none/captures`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(6 * 1024 * 1024) },
      });
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error('no answer while the body was still unsent: the server waited to read it'));
      }, 3000);
      req.on('response', (r) => {
        let b = '';
        r.on('data', (c: Buffer) => (b += c.toString()));
        r.on('end', () => {
          clearTimeout(timer);
          req.destroy();
          resolve({ status: r.statusCode ?? 0, body: b });
        });
      });
      req.on('error', () => undefined);
      req.write('['.repeat(65536));
    });
    assert.equal(early.status, 401);
    assert.equal(JSON.parse(early.body).error.code, 'device_auth_missing');

    // Well-formed headers of this terminal, signed by another key, over bodies the parser would refuse:
    // the signature is refused first, so the JSON parser never sees them.
    const stranger = { ...(await generateDeviceKeyPair()), deviceId: terminalId };
    for (const text of ['{not json', '['.repeat(500) + ']'.repeat(500)]) {
      const body = utf8(text);
      const headers = { ...(await signRequest(stranger, { method: 'POST', path: '/device/v1/echo', body })), 'content-type': 'application/json' };
      const res = await fetch(`${base}/device/v1/echo`, { method: 'POST', headers, body });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'device_signature_invalid');
    }

    // Activation is not signed, so its body limit is small.
    const big = await fetch(`${base}/device/v1/activate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'AAAAA-AAAAA', public_key: 'x'.repeat(64 * 1024) }),
    });
    assert.equal(big.status, 413);
  });

  test('a revoked terminal is refused at once', async () => {
    const revoked = await post(`/v1/terminals/${terminalId}/revoke`, {});
    assert.equal(revoked.json().status, 'revoked');
    await assert.rejects(client.json('/device/v1/me'), (e: unknown) => e instanceof DeviceApiError && e.status === 403 && e.code === 'device_revoked');
    assert.ok(echoed.length >= 2);
  });

  /** The activated device's identity, to sign requests by hand that the client would never send. */
  async function keyOf() {
    const identity = await keyStore.load();
    assert.ok(identity);
    return identity;
  }
});
