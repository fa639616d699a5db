import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

/** Prometheus' text format, parsed: `name{labels} value` per sample, with the TYPE of each family. */
function parseMetrics(text: string): { types: Map<string, string>; samples: { name: string; labels: Record<string, string>; value: number }[] } {
  const types = new Map<string, string>();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const t = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (t) {
      types.set(t[1]!, t[2]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    // The format spells special values +Inf, -Inf and NaN (prom-client writes Nan).
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : /^nan$/i.test(m[3]!) ? NaN : Number(m[3]);
    assert.ok(!Number.isNaN(value) || /^nan$/i.test(m[3]!), line);
    samples.push({ name: m[1]!, labels, value });
  }
  return { types, samples };
}

describeEachDialect('health and metrics', (dialect) => {
  let p: TestPlatform;
  let galleryLoading = true;
  before(async () => {
    p = await testPlatform(dialect, {
      env: { FACEPAY_METRICS_TOKEN: 'scrape-token-0123456789' },
      overrides: { probes: { gallery: () => (galleryLoading ? { ready: false, detail: 'loading: 12000 of 50000 templates' } : { ready: true, detail: '50000 templates loaded' }) } },
    });
  });
  after(async () => {
    await p.dispose();
  });

  test('live answers while a part is not ready; ready says 503 and names the part until it is', async () => {
    assert.equal((await p.app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200);
    assert.deepEqual((await p.app.inject({ method: 'GET', url: '/health' })).json(), { status: 'ok' }, '/health keeps its old answer');
    galleryLoading = true;
    const r = await p.app.inject({ method: 'GET', url: '/health/ready' });
    assert.equal(r.statusCode, 503);
    const body = r.json() as { status: string; failing: string[]; checks: Record<string, { ready: boolean; detail?: string }> };
    assert.equal(body.status, 'not_ready');
    assert.deepEqual(body.failing, ['gallery']);
    assert.equal(body.checks.database?.ready, true);
    assert.equal(body.checks.database?.detail, dialect);
    assert.match(body.checks.gallery?.detail ?? '', /loading/);
    galleryLoading = false;
    const ok = await p.app.inject({ method: 'GET', url: '/health/ready' });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json().failing, []);
  });

  test('metrics: latency by route pattern, payments by outcome, webhook backlog, in Prometheus text', async () => {
    const created = await p.app.inject({ method: 'POST', url: '/v1/payment_intents', headers: p.auth, payload: { amount: 500, currency: 'eur', store: p.storeId } });
    assert.equal(created.statusCode, 200, created.body);
    const id = created.json().id as string;
    await p.app.inject({ method: 'GET', url: `/v1/payment_intents/${id}`, headers: p.auth });
    await p.app.inject({ method: 'POST', url: `/v1/payment_intents/${id}/cancel`, headers: p.auth, payload: {} });
    const r = await p.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const { types, samples } = parseMetrics(r.body);
    assert.equal(types.get('facepay_http_request_duration_seconds'), 'histogram');
    const count = samples.find(
      (s) => s.name === 'facepay_http_request_duration_seconds_count' && s.labels.route === '/v1/payment_intents/:id' && s.labels.method === 'GET',
    );
    assert.equal(count?.value, 1, 'one GET of an intent, counted under its pattern');
    assert.ok(!samples.some((s) => s.labels.route?.includes(id)), 'no series per object id');
    const outcome = (o: string) => samples.find((s) => s.name === 'facepay_payment_events_total' && s.labels.outcome === o && s.labels.mode === 'test')?.value;
    assert.equal(outcome('created'), 1);
    assert.equal(outcome('cancelled'), 1);
    const backlog = samples.find((s) => s.name === 'facepay_webhook_backlog' && s.labels.kind === 'events');
    assert.ok(backlog !== undefined && backlog.value >= 2, `the two events wait for the worker (not started here): ${backlog?.value}`);
    assert.equal(types.get('facepay_gallery_templates'), 'gauge');
    assert.equal(types.get('facepay_login_throttled_total'), 'counter');
    assert.ok(samples.some((s) => /^facepay_process_.*heap_size_used_bytes$/.test(s.name)), 'the process metrics too');
  });

  // Ten password hashes take seconds; the throttle holds no database state, so one dialect says it.
  test('login throttles are counted', { skip: dialect === 'postgres' ? 'the throttle is in memory: checked on SQLite only' : false }, async () => {
    await p.services.staff!.create(p.merchantId, { email: 'cashier@shop.test', name: 'Cashier', password: 'correct horse battery', role: 'cashier' });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await p.app.inject({ method: 'POST', url: '/v1/staff/login', payload: { email: 'cashier@shop.test', password: `wrong ${i}` } });
      statuses.push(r.statusCode);
    }
    assert.ok(statuses.includes(429), statuses.join(' '));
    const throttled = statuses.filter((s) => s === 429).length;
    const { samples } = parseMetrics((await p.app.inject({ method: 'GET', url: '/metrics' })).body);
    assert.equal(samples.find((s) => s.name === 'facepay_login_throttled_total' && s.labels.reason === 'account')?.value, throttled);
  });

  test('/metrics: loopback, or the token from elsewhere; anyone else is refused', async () => {
    const far = { remoteAddress: '203.0.113.9' };
    const refused = await p.app.inject({ method: 'GET', url: '/metrics', ...far });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().error.code, 'metrics_forbidden');
    const wrong = await p.app.inject({ method: 'GET', url: '/metrics', ...far, headers: { authorization: 'Bearer scrape-token-0123456780' } });
    assert.equal(wrong.statusCode, 403);
    const right = await p.app.inject({ method: 'GET', url: '/metrics', ...far, headers: { authorization: 'Bearer scrape-token-0123456789' } });
    assert.equal(right.statusCode, 200);
  });
});

test('/metrics behind proxies: a forged X-Forwarded-For does not make a far client local, nor does a local proxy', async () => {
  const trustAll = await testPlatform('sqlite', { env: { FACEPAY_TRUST_PROXY: '1' } });
  try {
    const forged = await trustAll.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.9', headers: { 'x-forwarded-for': '127.0.0.1' } });
    assert.equal(forged.statusCode, 403);
    const viaLocalProxy = await trustAll.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '198.51.100.4' } });
    assert.equal(viaLocalProxy.statusCode, 403, 'a client of the local proxy is not local');
    assert.equal((await trustAll.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200, 'a scraper on this machine');
  } finally {
    await trustAll.dispose();
  }
});
