/**
 * Webhook delivery against real HTTP receivers: one merchant's slow and failing endpoints do not
 * hold up another merchant's webhooks, a failing endpoint backs off as a whole, and test events go
 * to test endpoints only, live to live. (Loopback targets pass because testPlatform sets
 * FACEPAY_WEBHOOK_ALLOW_PRIVATE.)
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

interface Receiver {
  url: string;
  hits: { at: number; body: string }[];
  close(): Promise<void>;
}

async function receiver(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<Receiver> {
  const hits: Receiver['hits'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits.push({ at: Date.now(), body });
      answer(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describeEachDialect('webhook delivery', (dialect) => {
  let p: TestPlatform;
  const receivers: Receiver[] = [];
  const timers: NodeJS.Timeout[] = [];

  before(async () => {
    p = await testPlatform(dialect);
  });
  after(async () => {
    await p.dispose();
    for (const t of timers) clearTimeout(t);
    for (const r of receivers) await r.close();
  });

  const record = (merchantId: string, mode: 'test' | 'live', n: number) =>
    p.db.transaction(async (tx) => {
      for (let i = 0; i < n; i++) await p.services.webhooks.record(tx, { merchantId, mode, type: 'payment_intent.created', objectId: `pi_${mode}_${i}`, data: { n: i, mode } });
    });

  test("one merchant's slow and failing endpoints do not delay another merchant's webhooks", async () => {
    const slow = await receiver((_req, res) => void timers.push(setTimeout(() => res.end('late'), 4000)));
    const failing = await receiver((_req, res) => {
      res.statusCode = 500;
      res.end('down');
    });
    const healthy = await receiver((_req, res) => res.end('ok'));
    receivers.push(slow, failing, healthy);
    const a = await p.services.merchants.createMerchant({ name: 'Merchant A' });
    const b = await p.services.merchants.createMerchant({ name: 'Merchant B' });
    await p.services.webhooks.createEndpoint(a.id, { url: slow.url });
    await p.services.webhooks.createEndpoint(a.id, { url: failing.url });
    await p.services.webhooks.createEndpoint(b.id, { url: healthy.url });
    // A's backlog goes first, and its slow sends are under way when B's event happens.
    await record(a.id, 'live', 30);
    p.services.webhooks.start(20, (e) => assert.fail(String(e)));
    try {
      while (slow.hits.length === 0) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      await record(b.id, 'live', 1);
      while (healthy.hits.length === 0 && Date.now() - started < 8000) await new Promise((r) => setTimeout(r, 10));
      const latency = healthy.hits[0] ? healthy.hits[0].at - started : Number.POSITIVE_INFINITY;
      console.log(`# B's webhook arrived ${latency} ms after its event, while A's 60 deliveries (slow and failing endpoints) were queued`);
      assert.ok(latency < 1500, `B's webhook took ${latency} ms behind A's slow endpoint`);
      await new Promise((r) => setTimeout(r, 300));
      // Back-off per endpoint: once the failing endpoint has failed, A's other deliveries to it wait
      // with it, instead of 30 sends to a dead endpoint.
      console.log(`# A's failing endpoint called ${failing.hits.length} times, its slow one ${slow.hits.length} times`);
      assert.ok(failing.hits.length <= 4, `the failing endpoint was called ${failing.hits.length} times`);
      // No merchant holds more than its share of the slots (perMerchant, 4 by default).
      assert.ok(slow.hits.length <= 4, `${slow.hits.length} sends to the slow endpoint at once`);
    } finally {
      // A's endpoints go away, so that what is left of its backlog fails fast in the next test.
      await slow.close();
      await failing.close();
      await p.services.webhooks.stop();
    }
  });

  test('test events go only to test endpoints, live events only to live ones; each key sees its own mode', async () => {
    const testHook = await receiver((_req, res) => res.end('ok'));
    const liveHook = await receiver((_req, res) => res.end('ok'));
    receivers.push(testHook, liveHook);
    const testEp = await p.app.inject({ method: 'POST', url: '/v1/webhook_endpoints', payload: { url: testHook.url }, headers: p.auth });
    const liveEp = await p.app.inject({ method: 'POST', url: '/v1/webhook_endpoints', payload: { url: liveHook.url }, headers: p.liveAuth });
    assert.equal(testEp.json().livemode, false);
    assert.equal(liveEp.json().livemode, true);
    await record(p.merchantId, 'test', 2);
    await record(p.merchantId, 'live', 3);
    await p.services.webhooks.tick();
    await p.services.webhooks.tick();
    assert.deepEqual(testHook.hits.map((h) => JSON.parse(h.body).data.object.mode), ['test', 'test']);
    assert.deepEqual(liveHook.hits.map((h) => JSON.parse(h.body).data.object.mode), ['live', 'live', 'live']);
    const list = (auth: Record<string, string>) => p.app.inject({ method: 'GET', url: '/v1/webhook_endpoints', headers: auth }).then((r) => r.json().data.map((e: { id: string }) => e.id));
    assert.deepEqual(await list(p.auth), [testEp.json().id]);
    assert.deepEqual(await list(p.liveAuth), [liveEp.json().id]);
    const cross = await p.app.inject({ method: 'GET', url: `/v1/webhook_endpoints/${liveEp.json().id}`, headers: p.auth });
    assert.equal(cross.statusCode, 404);
    const deliveries = await p.app.inject({ method: 'GET', url: '/v1/webhook_deliveries', headers: p.auth });
    assert.equal(deliveries.json().data.length, 2);
    assert.ok(deliveries.json().data.every((d: { endpoint: string }) => d.endpoint === testEp.json().id));
  });
});
