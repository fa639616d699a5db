import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeviceApiError, DeviceClient, activateDevice } from './client.ts';
import { MemoryKeyStore } from './key-store.ts';
import { HEADERS, base64urlDecode, canonicalString, sha256Hex, utf8 } from './protocol.ts';

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** A fetch that records requests and answers from a script, one entry per call. */
function scriptedFetch(script: ((seen: Seen) => Response | Promise<Response>)[]): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetchFn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const s: Seen = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body: init?.body instanceof Uint8Array ? init.body : utf8(typeof init?.body === 'string' ? init.body : ''),
    };
    seen.push(s);
    const step = script[Math.min(seen.length - 1, script.length - 1)];
    if (step === undefined) throw new Error('no script');
    return step(s);
  };
  return { fetch: fetchFn as typeof fetch, seen };
}

const activationAnswer = { device_id: 'term_abc', merchant_id: 'm1', store_id: 's1', algorithm: 'ES256', server_time: 1_764_064_800_000 };

test('activation sends the code and the public JWK, then stores the identity', async () => {
  const store = new MemoryKeyStore();
  const { fetch, seen } = scriptedFetch([() => Response.json(activationAnswer)]);
  const { client, activation } = await activateDevice({ baseUrl: 'http://pay.test', code: 'ABCDE-FGHJK', keyStore: store, fetch, now: () => 1_764_064_790_000 });
  assert.equal(activation.device_id, 'term_abc');
  assert.equal(seen[0]?.url, 'http://pay.test/device/v1/activate');
  const sent = JSON.parse(new TextDecoder().decode(seen[0]?.body)) as { code: string; public_key: JsonWebKey };
  assert.equal(sent.code, 'ABCDE-FGHJK');
  assert.equal(sent.public_key.kty, 'EC');
  assert.equal('d' in sent.public_key, false);
  const stored = await store.load();
  assert.equal(stored?.deviceId, 'term_abc');
  assert.equal(stored?.privateKey.extractable, false);
  assert.equal(client.deviceId, 'term_abc');
  // The device clock was 10 s behind the server's: the client corrects its timestamps.
  assert.equal(client.clockOffsetMs, 10_000);
});

test('a failed activation keeps the key pair for the next try and reports the code', async () => {
  const store = new MemoryKeyStore();
  const { fetch, seen } = scriptedFetch([
    () => Response.json({ error: { code: 'activation_code_expired', message: 'expired' } }, { status: 401 }),
    () => Response.json(activationAnswer),
  ]);
  await assert.rejects(activateDevice({ baseUrl: 'http://pay.test', code: 'x', keyStore: store, fetch }), (e: unknown) => {
    assert.ok(e instanceof DeviceApiError);
    assert.equal(e.code, 'activation_code_expired');
    assert.equal(e.status, 401);
    return true;
  });
  const pending = await store.load();
  assert.equal(pending?.deviceId, null);
  await activateDevice({ baseUrl: 'http://pay.test', code: 'y', keyStore: store, fetch });
  assert.equal((await store.load())?.privateKey, pending?.privateKey);
  const keys = seen.map((s) => (JSON.parse(new TextDecoder().decode(s.body)) as { public_key: { x: string } }).public_key.x);
  assert.equal(keys[0], keys[1]);
  await assert.rejects(activateDevice({ baseUrl: 'http://pay.test', code: 'z', keyStore: store, fetch }), /already activated/);
});

test('a signed request carries the four headers and a signature over the canonical string', async () => {
  const store = new MemoryKeyStore();
  const { fetch, seen } = scriptedFetch([() => Response.json(activationAnswer), () => Response.json({ ok: true })]);
  const { client } = await activateDevice({ baseUrl: 'http://pay.test', code: 'c', keyStore: store, fetch, now: () => 1_764_064_800_000 });
  await client.json('/device/v1/payments?intent=pi_1', { json: { id: 'pay_1', amount: 1250 } });
  const req = seen[1]!;
  assert.equal(req.method, 'POST');
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.headers[HEADERS.deviceId], 'term_abc');
  assert.equal(req.headers[HEADERS.timestamp], '1764064800000');
  const canonical = canonicalString({
    method: 'POST',
    path: '/device/v1/payments?intent=pi_1',
    deviceId: 'term_abc',
    timestamp: req.headers[HEADERS.timestamp]!,
    nonce: req.headers[HEADERS.nonce]!,
    bodySha256: await sha256Hex(utf8('{"id":"pay_1","amount":1250}')),
  });
  const identity = (await store.load())!;
  const ok = await crypto.subtle.verify(
    { name: 'ECDSA', hash: 'SHA-256' },
    identity.publicKey,
    base64urlDecode(req.headers[HEADERS.signature]!) as Uint8Array<ArrayBuffer>,
    utf8(canonical) as Uint8Array<ArrayBuffer>,
  );
  assert.equal(ok, true);
});

test('fetchUntilFinal retries through network loss and 503, signing every attempt anew', async () => {
  const store = new MemoryKeyStore();
  const { fetch, seen } = scriptedFetch([
    () => Response.json(activationAnswer),
    () => {
      throw new TypeError('network down');
    },
    () => new Response('busy', { status: 503 }),
    () => Response.json({ status: 'succeeded' }),
  ]);
  const { client } = await activateDevice({ baseUrl: 'http://pay.test', code: 'c', keyStore: store, fetch });
  const retries: number[] = [];
  const res = await client.fetchUntilFinal(
    '/device/v1/payments',
    { json: { id: 'pay_fixed', amount: 100 } },
    { sleep: async () => undefined, onRetry: (i) => retries.push(i.attempt) },
  );
  assert.equal(res.status, 200);
  assert.deepEqual(retries, [1, 2]);
  const attempts = seen.slice(1);
  assert.equal(attempts.length, 3);
  assert.equal(new Set(attempts.map((a) => a.headers[HEADERS.nonce])).size, 3);
  assert.equal(new Set(attempts.map((a) => new TextDecoder().decode(a.body))).size, 1);
});

test('a stale-timestamp refusal corrects the clock offset and the request goes once more, signed anew', async () => {
  const store = new MemoryKeyStore();
  const serverTime = 1_764_064_800_000;
  const stale = { error: { code: 'device_timestamp_stale', message: 'stale', details: { server_time: serverTime + 5, window_ms: 300_000 } } };
  const { fetch, seen } = scriptedFetch([
    () => Response.json(activationAnswer),
    () => Response.json(stale, { status: 401 }),
    () => Response.json({ ok: true }),
    () => Response.json({ error: { code: 'device_signature_invalid', message: 'no' } }, { status: 401 }),
  ]);
  let deviceNow = serverTime;
  const { client } = await activateDevice({ baseUrl: 'http://pay.test', code: 'c', keyStore: store, fetch, now: () => deviceNow });
  // The device clock jumps an hour behind after activation.
  deviceNow -= 3_600_000;
  const res = await client.fetch('/device/v1/me');
  assert.equal(res.status, 200);
  assert.equal(seen.length, 3);
  assert.equal(seen[1]?.headers[HEADERS.timestamp], String(serverTime - 3_600_000));
  assert.equal(seen[2]?.headers[HEADERS.timestamp], String(serverTime + 5));
  assert.notEqual(seen[1]?.headers[HEADERS.nonce], seen[2]?.headers[HEADERS.nonce]);
  // Any other refusal is returned as it is, without a second try.
  assert.equal((await client.fetch('/device/v1/me')).status, 401);
  assert.equal(seen.length, 4);
});

test('a client made from the key store keeps the learnt clock offset', async () => {
  const store = new MemoryKeyStore();
  const { fetch } = scriptedFetch([() => Response.json(activationAnswer)]);
  await activateDevice({ baseUrl: 'http://pay.test', code: 'c', keyStore: store, fetch, now: () => activationAnswer.server_time - 42_000 });
  const client = await DeviceClient.fromStore(store, { fetch });
  assert.equal(client?.clockOffsetMs, 42_000);
  assert.equal(client?.baseUrl, 'http://pay.test');
});

test('a client cannot be made for a device that is not activated', async () => {
  const store = new MemoryKeyStore();
  assert.equal(await DeviceClient.fromStore(store, { baseUrl: 'http://pay.test' }), undefined);
});
