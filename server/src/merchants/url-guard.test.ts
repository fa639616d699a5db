import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';
import { isPublicAddress } from './url-guard.ts';

test('only global unicast addresses count as public', () => {
  for (const ip of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111']) assert.equal(isPublicAddress(ip), true, ip);
  for (const ip of [
    '127.0.0.1', '127.8.9.10', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '0.0.0.0', '100.64.0.1',
    '100.127.255.254', '224.0.0.1', '255.255.255.255', '::1', '::', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'ff02::1',
    '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', 'not-an-ip',
  ]) {
    assert.equal(isPublicAddress(ip), false, ip);
  }
});

describeEachDialect('webhook targets (SSRF)', (dialect) => {
  let p: TestPlatform;
  let receiver: Server;
  let port = 0;
  let hits = 0;
  // A name that answers with a public address when the endpoint is registered, then with loopback.
  let rebindAnswer = '93.184.216.34';
  const dns: Record<string, string[]> = { localhost: ['127.0.0.1', '::1'], 'mixed.example': ['93.184.216.34', '10.0.0.5'], 'public.example': ['93.184.216.34'] };

  before(async () => {
    receiver = createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    port = (receiver.address() as AddressInfo).port;
    p = await testPlatform(dialect, {
      env: { FACEPAY_WEBHOOK_ALLOW_PRIVATE: '0' },
      overrides: {
        webhookResolver: async (host) => {
          const answers = host === 'rebind.example' ? [rebindAnswer] : dns[host];
          if (!answers) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
          return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
        },
      },
    });
  });
  after(async () => {
    await p.dispose();
    await new Promise((r) => receiver.close(r));
  });

  const post = (url: string, payload: unknown) => p.app.inject({ method: 'POST', url, payload: payload as string, headers: p.auth });

  test('endpoints on loopback, private, link-local or CGNAT addresses are refused at creation', async () => {
    for (const url of [
      'https://127.0.0.1/hook', 'https://[::1]/hook', 'https://localhost/hook', 'https://[::ffff:127.0.0.1]/hook', 'https://10.0.0.1/hook',
      'https://169.254.169.254/latest', 'https://100.64.0.1/', 'https://[fd00::1]/', 'https://0.0.0.0/', 'https://mixed.example/hook',
      `http://127.0.0.1:${port}/hook`,
    ]) {
      const res = await post('/v1/webhook_endpoints', { url });
      assert.equal(res.statusCode, 400, url);
      assert.equal(res.json().error.code, 'webhook_url_not_public', url);
    }
    const unknown = await post('/v1/webhook_endpoints', { url: 'https://nowhere.example/hook' });
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.json().error.code, 'webhook_url_unresolvable');
    assert.equal((await post('/v1/webhook_endpoints', { url: 'https://public.example/hook' })).statusCode, 200);
  });

  test('each delivery resolves again and never connects to a private address (DNS rebinding)', async () => {
    const ep = await post('/v1/webhook_endpoints', { url: `http://rebind.example:${port}/hook`, enabled_events: ['payment_intent.created'] });
    assert.equal(ep.statusCode, 200, ep.body);
    await p.services.webhooks.tick();
    rebindAnswer = '127.0.0.1';
    const pi = await post('/v1/payment_intents', { amount: 500, currency: 'usd', store: p.storeId });
    assert.equal(pi.statusCode, 200, pi.body);
    const t = await p.services.webhooks.tick();
    assert.ok(t.attempted >= 1);
    assert.equal(hits, 0, 'the receiver on loopback was never reached');
    const list = (await p.app.inject({ method: 'GET', url: `/v1/webhook_deliveries?endpoint=${ep.json().id}`, headers: p.auth })).json();
    assert.equal(list.data.length, 1);
    assert.equal(list.data[0].status, 'pending');
    assert.match(String(list.data[0].last_error), /public address/);
  });
});
