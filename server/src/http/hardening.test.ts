/**
 * Inputs that used to answer 500 (issue 17, item 4): malformed cookies, deeply nested JSON, NUL
 * characters, doubly encoded app paths and deep values inside campaign objects. Each is a 4xx now.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Fastify from 'fastify';
import { handleError } from './errors.ts';
import { registerAppRoutes } from './routes/apps.ts';
import type { AppServices } from './types.ts';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

describeEachDialect('no 5xx from odd input', (dialect) => {
  let p: TestPlatform;
  const lines: string[] = [];
  before(async () => {
    p = await testPlatform(dialect, { env: { FACEPAY_LOG_LEVEL: 'info' }, overrides: { logStream: { write: (l: string) => void lines.push(l) } } });
  });
  after(async () => {
    await p.dispose();
  });

  const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);

  test('a malformed session or staff cookie is no cookie', async () => {
    for (const value of ['%', '%E0%A4%A', 'a%00b']) {
      const me = await p.app.inject({ method: 'GET', url: '/v1/shopper/me', headers: { cookie: `fp_session=${value}` } });
      assert.equal(me.statusCode, 401, me.body);
      assert.equal(me.json().error.code, 'session_missing');
      const staff = await p.app.inject({ method: 'GET', url: '/v1/payment_intents', headers: { cookie: `fp_staff=${value}` } });
      assert.ok(staff.statusCode >= 400 && staff.statusCode < 500, staff.body);
      const out = await p.app.inject({ method: 'POST', url: '/v1/staff/logout', headers: { cookie: `fp_staff=${value}` } });
      assert.ok(out.statusCode < 500, out.body);
    }
  });

  test('JSON nested deeper than 20 levels is 400 json_too_deep on every route', async () => {
    for (const url of ['/v1/payment_intents', '/v1/webhook_endpoints', '/v1/shopper/login', '/v1/api_keys']) {
      const res = await p.app.inject({ method: 'POST', url, payload: `{"a":${deep(5000)}}`, headers: { ...p.auth, 'content-type': 'application/json', 'idempotency-key': `k-${url}` } });
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.equal(res.json().error.code, 'json_too_deep');
    }
    // Brackets inside strings are text, not nesting.
    const res = await p.app.inject({ method: 'POST', url: '/v1/payment_intents', payload: { amount: 100, currency: 'usd', store: p.storeId, order_reference: '[[[[[[[[[[[[[[[[[[[[[[[[[[' }, headers: p.auth });
    assert.equal(res.statusCode, 200, res.body);
  });

  test('NUL characters in bodies and URLs are 400 nul_character', async () => {
    const body = await p.app.inject({ method: 'POST', url: '/v1/payment_intents', payload: '{"amount":100,"currency":"usd","order_reference":"a\\u0000b"}', headers: { ...p.auth, 'content-type': 'application/json' } });
    assert.equal(body.statusCode, 400, body.body);
    assert.equal(body.json().error.code, 'nul_character');
    const escaped = await p.app.inject({ method: 'POST', url: '/v1/payment_intents', payload: { amount: 100, currency: 'usd', store: p.storeId, order_reference: 'a\\u0000b' }, headers: p.auth });
    assert.equal(escaped.statusCode, 200, 'an escaped backslash before u0000 is plain text');
    const url = await p.app.inject({ method: 'GET', url: '/v1/payment_intents/pi_%00', headers: p.auth });
    assert.equal(url.statusCode, 400);
    assert.equal(url.json().error.code, 'nul_character');
  });

  test('app paths with an encoded percent are 4xx or the app, never 5xx', async () => {
    for (const app of ['console', 'portal', 'terminal']) {
      for (const path of ['%25', '%E0%A4%A', '..%2F..%2Fpackage.json', '%25E0']) {
        const res = await p.app.inject({ method: 'GET', url: `/${app}/${path}` });
        assert.ok(res.statusCode < 500, `/${app}/${path}: ${res.statusCode}`);
        assert.doesNotMatch(res.body, /"workspaces"/);
      }
    }
  });

  test('campaign objects are closed: unknown or deep fields are 400', async () => {
    const campaign = {
      name: 'Ten off',
      trigger: 'manual',
      audience: { kind: 'all' },
      reward: { kind: 'percent_off', percent: 10, cap: 300 },
      currency: 'eur',
      valid_to: p.clock.now().getTime() + 86_400_000,
    };
    const nested = { x: { y: { z: [1, 2, { w: 'v' }] } } };
    for (const [url, body] of [
      ['/v1/campaigns', { ...campaign, reward: { ...campaign.reward, extra: nested } }],
      ['/v1/campaigns', { ...campaign, audience: { kind: 'all', more: nested } }],
      ['/v1/campaigns', { ...campaign, reward: { kind: 'free_item', code: nested, label: 'x' } }],
      ['/v1/audiences/preview', { audience: { kind: 'tag', tag: 'a', deep: nested } }],
      ['/v1/messages', { audience: { kind: 'all', deep: nested }, title: 'Hi', body: 'there' }],
    ] as const) {
      const res = await p.app.inject({ method: 'POST', url, payload: body, headers: p.auth });
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.equal(res.json().error.code, 'parameter_invalid');
    }
  });

  test('only ISO 4217 currencies are accepted', async () => {
    for (const currency of ['abc', 'XXX', 'xts', 'zzz']) {
      const res = await p.app.inject({ method: 'POST', url: '/v1/payment_intents', payload: { amount: 100, currency, store: p.storeId }, headers: p.auth });
      assert.equal(res.statusCode, 400, `${currency}: ${res.body}`);
      assert.equal(res.json().error.code, 'currency_invalid');
    }
    const programme = await p.app.inject({ method: 'PUT', url: '/v1/membership_programme', payload: { currency: 'ABC' }, headers: p.auth });
    assert.ok(programme.statusCode >= 400 && programme.statusCode < 500);
    for (const currency of ['usd', 'EUR', 'jpy']) {
      const res = await p.app.inject({ method: 'POST', url: '/v1/payment_intents', payload: { amount: 100, currency, store: p.storeId }, headers: p.auth });
      assert.equal(res.statusCode, 200, `${currency}: ${res.body}`);
    }
  });

  test('the request log holds paths, not query strings', async () => {
    await p.app.inject({ method: 'GET', url: '/v1/members?phone=%2B351912345678&password=hunter2', headers: p.auth });
    const logged = lines.filter((l) => l.includes('"request"')).join('\n');
    assert.match(logged, /"url":"\/v1\/members"/);
    assert.doesNotMatch(logged, /351912345678|hunter2/);
  });
});

test('built app paths with an encoded percent are the app, never 5xx', async () => {
  const apps = mkdtempSync(join(tmpdir(), 'fp-apps-'));
  for (const name of ['console', 'portal', 'terminal']) {
    mkdirSync(join(apps, name, 'dist'), { recursive: true });
    writeFileSync(join(apps, name, 'dist', 'index.html'), `<p>${name}</p>`);
  }
  const app = Fastify();
  app.setErrorHandler(handleError);
  registerAppRoutes(app, {} as AppServices, apps);
  for (const name of ['console', 'portal', 'terminal']) {
    for (const path of ['%25', '%25E0%A4%A', '%E0%A4%A', '..%2F..%2Fpackage.json']) {
      const res = await app.inject({ method: 'GET', url: `/${name}/${path}` });
      assert.ok(res.statusCode < 500, `/${name}/${path}: ${res.statusCode} ${res.body}`);
      if (res.statusCode === 200) assert.equal(res.body, `<p>${name}</p>`);
    }
  }
  await app.close();
});
