/**
 * Security headers and rate limits (issue 17, items 5 and 7): each bucket bites, keyed by the
 * socket's address unless a trusted proxy says otherwise, and headers are on every response.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';
import { handleError } from './errors.ts';
import { registerSecurity, type RateLimits } from './security.ts';

const tiny = (max: number) => ({ max, windowMs: 60_000 });

function limitedApp(limits: Partial<RateLimits>, trustProxy: boolean | string = false): FastifyInstance {
  const app = Fastify({ trustProxy });
  app.setErrorHandler(handleError);
  registerSecurity(app, { rateLimits: limits });
  for (const url of ['/v1/staff/login', '/v1/shopper/login', '/v1/shopper/signup', '/device/v1/activate', '/device/v1/payment_intents/:id/pay_code', '/device/v1/me']) {
    app.post(url, async () => ({ ok: true }));
  }
  app.get('/v1/things', async () => ({ ok: true }));
  return app;
}

async function statuses(app: FastifyInstance, n: number, req: InjectOptions): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await app.inject(req)).statusCode);
  return out;
}

test('the per-address limit answers 429 rate_limited with Retry-After, per address', async () => {
  const app = limitedApp({ perAddress: tiny(5) });
  assert.deepEqual(await statuses(app, 6, { method: 'GET', url: '/v1/things' }), [200, 200, 200, 200, 200, 429]);
  const res = await app.inject({ method: 'GET', url: '/v1/things' });
  assert.equal(res.json().error.code, 'rate_limited');
  assert.ok(Number(res.headers['retry-after']) >= 1);
  assert.equal(res.headers['x-frame-options'], 'DENY', 'a 429 carries the security headers too');
  assert.equal((await app.inject({ method: 'GET', url: '/v1/things', remoteAddress: '10.9.9.9' })).statusCode, 200, 'another address has its own budget');
  await app.close();
});

test('X-Forwarded-For is believed only from a trusted proxy', async () => {
  const direct = limitedApp({ perAddress: tiny(2) });
  const spoofed = await Promise.all([1, 2, 3].map((i) => direct.inject({ method: 'GET', url: '/v1/things', headers: { 'x-forwarded-for': `10.0.0.${i}` } })));
  assert.equal(spoofed[2]!.statusCode, 429, 'a client cannot buy a fresh budget with a made-up header');
  await direct.close();
  const proxied = limitedApp({ perAddress: tiny(2) }, '127.0.0.1');
  const viaProxy = await Promise.all([1, 2, 3].map((i) => proxied.inject({ method: 'GET', url: '/v1/things', headers: { 'x-forwarded-for': `10.0.0.${i}` } })));
  assert.deepEqual(viaProxy.map((r) => r.statusCode), [200, 200, 200], 'behind the proxy, each client has its own budget');
  await proxied.close();
});

test('sign-in, sign-up, activation and pay codes have stricter buckets', async () => {
  const app = limitedApp({ login: tiny(3), signup: tiny(2), activation: tiny(2), payCode: tiny(2) });
  assert.deepEqual(await statuses(app, 4, { method: 'POST', url: '/v1/staff/login' }), [200, 200, 200, 429]);
  assert.deepEqual(await statuses(app, 3, { method: 'POST', url: '/v1/shopper/signup' }), [200, 200, 429]);
  assert.deepEqual(await statuses(app, 3, { method: 'POST', url: '/device/v1/activate' }), [200, 200, 429]);
  assert.deepEqual(await statuses(app, 3, { method: 'POST', url: '/device/v1/payment_intents/pi_1/pay_code' }), [200, 200, 429]);
  assert.equal((await app.inject({ method: 'GET', url: '/v1/things' })).statusCode, 200, 'other routes are not affected');
  await app.close();
});

test('each device has its own request budget: 429 device_rate_limited', async () => {
  const app = limitedApp({ perDevice: tiny(3) });
  const as = (id: string) => ({ method: 'POST' as const, url: '/device/v1/me', headers: { 'facepay-device-id': id } });
  assert.deepEqual(await statuses(app, 4, as('dev_a')), [200, 200, 200, 429]);
  assert.equal((await app.inject(as('dev_a'))).json().error.code, 'device_rate_limited');
  assert.equal((await app.inject(as('dev_b'))).statusCode, 200);
  await app.close();
});

describeEachDialect('security headers, Secure cookies and limits on the real app', (dialect) => {
  let p: TestPlatform;
  let proxied: TestPlatform;
  before(async () => {
    p = await testPlatform(dialect, { env: { FACEPAY_RATE_LIMITS: '1' } });
    proxied = await testPlatform(dialect, { env: { FACEPAY_TRUST_PROXY: '127.0.0.1' } });
  });
  after(async () => {
    await p.dispose();
    await proxied.dispose();
  });

  test('every response carries the security headers; HSTS only over HTTPS', async () => {
    for (const req of [
      { method: 'GET' as const, url: '/console/' },
      { method: 'GET' as const, url: '/v1/payment_intents' },
      { method: 'GET' as const, url: '/nope' },
      { method: 'POST' as const, url: '/v1/shopper/login', payload: '{' , headers: { 'content-type': 'application/json' } },
    ]) {
      const res = await p.app.inject(req);
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /frame-ancestors 'none'/, req.url);
      assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.match(String(res.headers['permissions-policy']), /camera=\(self\)/);
      assert.equal(res.headers['strict-transport-security'], undefined);
    }
    const viaTls = await proxied.app.inject({ method: 'GET', url: '/console/', headers: { 'x-forwarded-proto': 'https' } });
    assert.match(String(viaTls.headers['strict-transport-security']), /max-age=\d+/);
    const spoofed = await p.app.inject({ method: 'GET', url: '/console/', headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(spoofed.headers['strict-transport-security'], undefined, 'no proxy is trusted by default');
  });

  test('session cookies are Secure behind a trusted TLS proxy, and not over plain HTTP', async () => {
    const signup = async (app: TestPlatform, email: string, headers: Record<string, string> = {}) => {
      const up = await app.app.inject({ method: 'POST', url: '/v1/shopper/signup', payload: { email, password: 'a long passphrase', name: 'Ana Lima' }, headers });
      assert.equal(up.statusCode, 202, up.body);
      return app.app.inject({ method: 'POST', url: '/v1/shopper/login', payload: { email, password: 'a long passphrase' }, headers });
    };
    const tls = await signup(proxied, 'tls@example.com', { 'x-forwarded-proto': 'https' });
    assert.equal(tls.statusCode, 200, tls.body);
    assert.match(String(tls.headers['set-cookie']), /; Secure$/);
    const plain = await signup(proxied, 'plain@example.com');
    assert.doesNotMatch(String(plain.headers['set-cookie']), /Secure/);
  });

  test('sign-in attempts from one address over many accounts meet 429 rate_limited', async () => {
    const codes: string[] = [];
    // The bucket counts every attempt, answered or not: most of these stop at validation, which
    // spares the test thirty password hashes.
    for (let i = 0; i < 32; i++) {
      const payload = i < 3 ? { email: `who${i}@example.com`, password: 'not this one' } : { email: `who${i}@example.com` };
      const res = await p.app.inject({ method: 'POST', url: '/v1/shopper/login', payload });
      codes.push(res.json().error.code);
    }
    assert.equal(codes[0], 'invalid_credentials');
    assert.equal(codes.at(-1), 'rate_limited');
  });
});
