import assert from 'node:assert/strict';
import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import {
  DeviceClient,
  HEADERS,
  type DeviceIdentity,
  exportPublicJwk,
  exportPublicSpki,
  generateDeviceKeyPair,
  signRequest,
  utf8,
} from '@facepay/device-sdk';
import { ManualClock, cryptoRandom, isDomainError, randomIds } from '../platform/index.ts';
import { migrate } from '../storage/index.ts';
import { describeEachDb, describeEachDialect, freshDb } from '../storage/testing.ts';
import { DeviceRepo, type DeviceRequest, type DevicesService, createDevicesService, deviceMigrations } from './index.ts';

const CODE_SECRET = Buffer.alloc(32, 7);
const STORES = new Set(['m1/s1', 'm1/s2', 'm2/s9']);
const storeBelongsTo = async (merchantId: string, storeId: string): Promise<boolean> => STORES.has(`${merchantId}/${storeId}`);

/** Asserts that a promise is refused with a DomainError of this code. */
async function refused(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isDomainError(e), `expected a DomainError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

describeEachDb('devices', deviceMigrations, (getDb) => {
  let clock: ManualClock;
  let service: DevicesService;

  function fresh(config: Partial<DevicesService['config']> = {}): DevicesService {
    clock = new ManualClock('2026-11-25T10:00:00Z');
    service = createDevicesService({
      config,
      repo: new DeviceRepo(getDb()),
      clock,
      ids: randomIds(cryptoRandom),
      random: cryptoRandom,
      codeSecret: CODE_SECRET,
      storeBelongsTo,
    });
    return service;
  }

  /** A terminal created by m1 in s1 and activated with a new SDK key pair. */
  async function activeDevice(algorithm: 'ES256' | 'Ed25519' = 'ES256'): Promise<DeviceIdentity & { deviceId: string }> {
    const { activation } = await service.createTerminal({ merchantId: 'm1', storeId: 's1', label: 'Till 1' });
    const pair = await generateDeviceKeyPair(algorithm);
    const { terminal } = await service.activate({ code: activation.code, publicKey: await exportPublicJwk(pair) });
    return { ...pair, deviceId: terminal.id };
  }

  /** What the server receives for a request the SDK signed. */
  async function signed(
    identity: DeviceIdentity & { deviceId: string },
    method: string,
    path: string,
    body = '',
    timestamp = clock.now().getTime(),
  ): Promise<DeviceRequest> {
    const bytes = utf8(body);
    const headers = await signRequest(identity, { method, path, body: bytes, timestamp });
    return { method, path, headers, body: bytes };
  }

  test('a merchant creates a terminal in its own store and gets a one-time code', async () => {
    fresh();
    const { terminal, activation } = await service.createTerminal({ merchantId: 'm1', storeId: 's2', label: ' Front desk ' });
    assert.equal(terminal.status, 'pending');
    assert.equal(terminal.label, 'Front desk');
    assert.match(activation.code, /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
    assert.equal(activation.expiresAt, clock.now().getTime() + service.config.activationCodeTtlMs);
    const listed = await service.listTerminals('m1', 's2');
    assert.deepEqual(
      listed.map((t) => t.id),
      [terminal.id],
    );
    await refused(service.createTerminal({ merchantId: 'm1', storeId: 's9' }), 'store_not_found');
    await refused(service.listTerminals('m2', 's2'), 'store_not_found');
    await refused(service.createTerminal({ merchantId: 'm1', storeId: 's1', label: '' }), 'terminal_label_invalid');
    await refused(service.getTerminal('m2', terminal.id), 'terminal_not_found');
  });

  test('activation registers the key; the code is single use and typed loosely', async () => {
    fresh();
    const { terminal, activation } = await service.createTerminal({ merchantId: 'm1', storeId: 's1' });
    const pair = await generateDeviceKeyPair('ES256');
    const typed = activation.code.toLowerCase().replace('-', ' ');
    const done = await service.activate({ code: typed, publicKey: await exportPublicJwk(pair) });
    assert.equal(done.terminal.id, terminal.id);
    assert.equal(done.terminal.status, 'active');
    assert.equal(done.terminal.algorithm, 'ES256');
    assert.match(done.terminal.keyThumbprint ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(done.serverTime, clock.now().getTime());

    const other = await generateDeviceKeyPair('ES256');
    await refused(service.activate({ code: activation.code, publicKey: await exportPublicJwk(other) }), 'activation_code_used');
    await refused(service.activate({ code: 'ZZZZZ-ZZZZZ', publicKey: await exportPublicJwk(other) }), 'activation_code_invalid');
    await refused(service.activate({ code: 'not a code', publicKey: await exportPublicJwk(other) }), 'activation_code_invalid');
  });

  test('activation codes are stored as an HMAC under a secret outside the database, not as a plain hash', async () => {
    fresh();
    const { terminal, activation } = await service.createTerminal({ merchantId: 'm1', storeId: 's1' });
    const rows = await getDb().query<{ code_hash: string }>('SELECT code_hash FROM device_activation_codes WHERE terminal_id = $1', [terminal.id]);
    assert.equal(rows.length, 1);
    const normalised = activation.code.replace('-', '');
    // What 0001 stored: anyone with the database could brute-force 50 bits against this.
    assert.notEqual(rows[0]!.code_hash, createHash('sha256').update(`facepay-activation:${normalised}`).digest('hex'));
    assert.equal(rows[0]!.code_hash, createHmac('sha256', CODE_SECRET).update(`facepay-activation:${normalised}`).digest('hex'));
    // A server with another secret (say, one that has only the database) cannot use the code.
    const stranger = createDevicesService({
      repo: new DeviceRepo(getDb()),
      clock,
      ids: randomIds(cryptoRandom),
      random: cryptoRandom,
      codeSecret: Buffer.alloc(32, 8),
      storeBelongsTo,
    });
    const jwk = await exportPublicJwk(await generateDeviceKeyPair('ES256'));
    await refused(stranger.activate({ code: activation.code, publicKey: jwk }), 'activation_code_invalid');
    assert.equal((await service.activate({ code: activation.code, publicKey: jwk })).terminal.status, 'active');
    assert.throws(() => createDevicesService({ repo: new DeviceRepo(getDb()), clock, ids: randomIds(cryptoRandom), random: cryptoRandom, codeSecret: Buffer.alloc(8), storeBelongsTo }));
  });

  test('an expired code is refused, and a new code replaces the old one', async () => {
    fresh();
    const { terminal, activation } = await service.createTerminal({ merchantId: 'm1', storeId: 's1' });
    clock.advance(service.config.activationCodeTtlMs);
    const pair = await generateDeviceKeyPair('ES256');
    const jwk = await exportPublicJwk(pair);
    await refused(service.activate({ code: activation.code, publicKey: jwk }), 'activation_code_expired');

    const again = await service.issueActivationCode('m1', terminal.id);
    assert.notEqual(again.activation.code, activation.code);
    await refused(service.activate({ code: activation.code, publicKey: jwk }), 'activation_code_used');
    const done = await service.activate({ code: again.activation.code, publicKey: jwk });
    assert.equal(done.terminal.status, 'active');
    await refused(service.issueActivationCode('m1', terminal.id), 'terminal_not_pending');
  });

  test('public keys are validated: private parts, other curves and reused keys are refused', async () => {
    fresh();
    const code = async (): Promise<string> => (await service.createTerminal({ merchantId: 'm1', storeId: 's1' })).activation.code;
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
    await refused(service.activate({ code: await code(), publicKey: p384 }), 'device_key_unsupported');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'der', type: 'spki' });
    await refused(service.activate({ code: await code(), publicKey: rsa.toString('base64url') }), 'device_key_unsupported');
    const priv = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    await refused(service.activate({ code: await code(), publicKey: priv }), 'device_key_invalid');
    // A point that is not on the curve.
    const offCurve = { kty: 'EC', crv: 'P-256', x: 'A'.repeat(42) + 'E', y: 'A'.repeat(42) + 'E' };
    await refused(service.activate({ code: await code(), publicKey: offCurve }), 'device_key_invalid');
    await refused(service.activate({ code: await code(), publicKey: 'not base64url!' }), 'device_key_invalid');
    await refused(service.activate({ code: await code(), publicKey: 42 }), 'device_key_invalid');

    const pair = await generateDeviceKeyPair('Ed25519');
    const spki = await exportPublicSpki(pair);
    const first = await service.activate({ code: await code(), publicKey: spki });
    assert.equal(first.terminal.algorithm, 'Ed25519');
    await refused(service.activate({ code: await code(), publicKey: await exportPublicJwk(pair) }), 'device_key_in_use');
  });

  test('two activations racing with one key: one wins, the other is told the key is in use', async () => {
    fresh();
    const pair = await generateDeviceKeyPair('ES256');
    const jwk = await exportPublicJwk(pair);
    const codes = await Promise.all([1, 2].map(async () => (await service.createTerminal({ merchantId: 'm1', storeId: 's1' })).activation.code));
    const results = await Promise.allSettled(codes.map((code) => service.activate({ code, publicKey: jwk })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.equal((loser.reason as { code: string }).code, 'device_key_in_use');
  });

  for (const algorithm of ['ES256', 'Ed25519'] as const) {
    test(`an SDK-signed request verifies (${algorithm}) and records last-seen`, async () => {
      fresh();
      const device = await activeDevice(algorithm);
      const who = await service.authenticate(await signed(device, 'POST', '/device/v1/payments?intent=pi_1', '{"amount":1250}'));
      assert.deepEqual(who, { terminalId: device.deviceId, merchantId: 'm1', storeId: 's1', algorithm });
      const t = await service.getTerminal('m1', device.deviceId);
      assert.equal(t.lastSeenAt, clock.now().getTime());
    });
  }

  test('a tampered method, path, query, body or device id is refused', async () => {
    fresh();
    const device = await activeDevice();
    const other = await activeDevice();
    const good = await signed(device, 'POST', '/device/v1/payments?intent=pi_1', '{"amount":1250}');
    await refused(service.authenticate({ ...good, method: 'PUT' }), 'device_signature_invalid');
    await refused(service.authenticate({ ...good, path: '/device/v1/refunds?intent=pi_1' }), 'device_signature_invalid');
    await refused(service.authenticate({ ...good, path: '/device/v1/payments?intent=pi_2' }), 'device_signature_invalid');
    await refused(service.authenticate({ ...good, body: utf8('{"amount":9250}') }), 'device_signature_invalid');
    await refused(service.authenticate({ ...good, headers: { ...good.headers, [HEADERS.deviceId]: other.deviceId } }), 'device_signature_invalid');
    const flipped = good.headers[HEADERS.signature] as string;
    const bad = (flipped[0] === 'A' ? 'B' : 'A') + flipped.slice(1);
    await refused(service.authenticate({ ...good, headers: { ...good.headers, [HEADERS.signature]: bad } }), 'device_signature_invalid');
    // The refusals above did not spend the nonce: the untouched request still passes, once.
    await service.authenticate(good);
    await refused(service.authenticate(good), 'device_nonce_reused');
  });

  test('stale timestamps are refused either way; the window edge is accepted', async () => {
    fresh();
    const device = await activeDevice();
    const now = clock.now().getTime();
    const w = service.config.clockSkewMs;
    await refused(service.authenticate(await signed(device, 'GET', '/device/v1/me', '', now - w - 1)), 'device_timestamp_stale');
    await refused(service.authenticate(await signed(device, 'GET', '/device/v1/me', '', now + w + 1)), 'device_timestamp_stale');
    await service.authenticate(await signed(device, 'GET', '/device/v1/me', '', now - w));
    await service.authenticate(await signed(device, 'GET', '/device/v1/me', '', now + w));
    const late = await signed(device, 'GET', '/device/v1/me');
    clock.advance(w + 1);
    await assert.rejects(service.authenticate(late), (e: unknown) => {
      assert.ok(isDomainError(e) && e.code === 'device_timestamp_stale');
      assert.equal(e.details?.server_time, clock.now().getTime());
      return true;
    });
  });

  test('a replayed request is refused, also when replays race', async () => {
    fresh();
    const device = await activeDevice();
    const req = await signed(device, 'POST', '/device/v1/payments', '{"id":"pay_1"}');
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => service.authenticate(req)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { code: string }).code, 'device_nonce_reused');
  });

  test('nonces are kept for the window, then pruned', async () => {
    fresh();
    const device = await activeDevice();
    const db = getDb();
    await db.execute('DELETE FROM device_nonces');
    for (let i = 0; i < 3; i++) await service.authenticate(await signed(device, 'GET', '/device/v1/me'));
    assert.equal(await service.pruneNonces(), 0);
    clock.advance(service.config.clockSkewMs + 1);
    assert.equal(await service.pruneNonces(), 3);
    const left = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM device_nonces');
    assert.equal(Number(left[0]?.n), 0);
  });

  test('one device cannot fill the nonce table: live nonces are bounded per device; refusals write none', async () => {
    fresh({ maxNoncesPerDevice: 3 });
    const device = await activeDevice();
    const other = await activeDevice('Ed25519');
    const db = getDb();
    const count = async (id: string) => Number((await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM device_nonces WHERE terminal_id = $1', [id]))[0]?.n);
    for (let i = 0; i < 3; i++) await service.authenticate(await signed(device, 'GET', '/device/v1/me'));
    await refused(service.authenticate(await signed(device, 'GET', '/device/v1/me')), 'device_nonce_limit');
    assert.equal(await count(device.deviceId), 3, 'the refused request spent no nonce');
    // Another device is not affected.
    await service.authenticate(await signed(other, 'GET', '/device/v1/me'));
    // Requests refused before their signature verified spend no nonce and write nothing.
    const stranger = { ...(await generateDeviceKeyPair('ES256')), deviceId: other.deviceId };
    const forged = await signed(stranger, 'GET', '/device/v1/me');
    await refused(service.authenticate(forged), 'device_signature_invalid');
    assert.equal(await count(other.deviceId), 1);
    // ... so the device's own request with the forged request's nonce still passes.
    const nonce = String(forged.headers[HEADERS.nonce]);
    const headers = await signRequest(other, { method: 'GET', path: '/device/v1/me', timestamp: clock.now().getTime(), nonce });
    await service.authenticate({ method: 'GET', path: '/device/v1/me', headers, body: new Uint8Array(0) });
    // Once the window has passed, the device's old nonces no longer count.
    clock.advance(service.config.clockSkewMs + 1);
    await service.authenticate(await signed(device, 'GET', '/device/v1/me'));
  });

  test('unknown, pending and revoked terminals are refused', async () => {
    fresh();
    const device = await activeDevice();
    await refused(service.authenticate(await signed({ ...device, deviceId: 'term_nobody' }, 'GET', '/device/v1/me')), 'device_unknown');

    const pending = await service.createTerminal({ merchantId: 'm1', storeId: 's1' });
    await refused(service.authenticate(await signed({ ...device, deviceId: pending.terminal.id }, 'GET', '/device/v1/me')), 'device_not_activated');

    await refused(service.revokeTerminal('m2', device.deviceId), 'terminal_not_found');
    const revoked = await service.revokeTerminal('m1', device.deviceId);
    assert.equal(revoked.status, 'revoked');
    assert.equal(revoked.revokedAt, clock.now().getTime());
    await refused(service.authenticate(await signed(device, 'GET', '/device/v1/me')), 'device_revoked');

    // Revoking a terminal before activation makes its code useless too.
    await service.revokeTerminal('m1', pending.terminal.id);
    const pair = await generateDeviceKeyPair();
    await refused(service.activate({ code: pending.activation.code, publicKey: await exportPublicJwk(pair) }), 'device_revoked');
  });

  test('missing and malformed headers are refused before any lookup', async () => {
    fresh();
    const device = await activeDevice();
    const good = await signed(device, 'GET', '/device/v1/me');
    const { [HEADERS.nonce]: _drop, ...noNonce } = good.headers;
    await assert.rejects(service.authenticate({ ...good, headers: noNonce }), (e: unknown) => {
      assert.ok(isDomainError(e) && e.code === 'device_auth_missing');
      assert.deepEqual(e.details?.missing, [HEADERS.nonce]);
      return true;
    });
    await refused(service.authenticate({ ...good, headers: { ...good.headers, [HEADERS.timestamp]: '1.5e12' } }), 'device_auth_malformed');
    await refused(service.authenticate({ ...good, headers: { ...good.headers, [HEADERS.nonce]: 'short' } }), 'device_auth_malformed');
    await refused(service.authenticate({ ...good, headers: { ...good.headers, [HEADERS.signature]: 'a+b/' } }), 'device_auth_malformed');
    await refused(service.authenticate({ ...good, headers: { ...good.headers, [HEADERS.nonce]: ['a'.repeat(22), 'b'.repeat(22)] } }), 'device_auth_malformed');
    await refused(service.authenticate({ ...good, method: 'get' }), 'device_auth_malformed');
    await refused(service.authenticate({ ...good, path: 'http://pay.example/device/v1/me' }), 'device_auth_malformed');
  });

  test('DeviceClient.fetch signs what goes on the wire: normalised path, query and exact body bytes', async () => {
    fresh();
    const device = await activeDevice('Ed25519');
    const seen: string[] = [];
    // A fetch that hands the request to the verifier the way the HTTP layer will: raw target and raw bytes.
    const fakeFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const url = new URL(String(input));
      const headers = Object.fromEntries(new Headers(init?.headers).entries());
      const body = init?.body instanceof Uint8Array ? init.body : new Uint8Array(0);
      try {
        const who = await service.authenticate({ method: init?.method ?? 'GET', path: url.pathname + url.search, headers, body });
        seen.push(url.pathname + url.search);
        return Response.json({ terminal: who.terminalId });
      } catch (e) {
        return Response.json({ code: (e as { code: string }).code }, { status: 401 });
      }
    };
    const client = new DeviceClient({ baseUrl: 'http://terminal.test', identity: device, fetch: fakeFetch, now: () => clock.now().getTime() });
    assert.deepEqual(await client.json('/device/v1/me'), { terminal: device.deviceId });
    assert.deepEqual(await client.json('/device/v1/x y/../pay ments?q=é&x=1', { json: { amount: 1250, note: 'café' } }), { terminal: device.deviceId });
    assert.deepEqual(seen, ['/device/v1/me', '/device/v1/pay%20ments?q=%C3%A9&x=1']);
  });
});

describeEachDialect('devices migration 0002', (dialect) => {
  test('codes stored under the old plain SHA-256 are expired, used ones left alone', async () => {
    const db = await freshDb(dialect, deviceMigrations.slice(0, 1));
    try {
      await db.execute(
        `INSERT INTO device_terminals (id, merchant_id, store_id, label, status, created_at) VALUES ('term_old', 'm1', 's1', 'Old', 'pending', 1000)`,
      );
      await db.execute(`INSERT INTO device_activation_codes (code_hash, terminal_id, created_at, expires_at, used_at) VALUES ('a', 'term_old', 1000, 9999999999999, NULL)`);
      await db.execute(`INSERT INTO device_activation_codes (code_hash, terminal_id, created_at, expires_at, used_at) VALUES ('b', 'term_old', 900, 9999999999999, 950)`);
      await migrate(db, deviceMigrations);
      const rows = await db.query<{ code_hash: string; expires_at: number | string }>('SELECT code_hash, expires_at FROM device_activation_codes ORDER BY code_hash');
      assert.deepEqual(rows.map((r) => [r.code_hash, Number(r.expires_at)]), [['a', 1000], ['b', 9999999999999]]);
    } finally {
      await db.dispose();
    }
  });
});
