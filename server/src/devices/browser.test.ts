/**
 * The SDK as our terminal runs it: bundled for the browser, in headless Chromium, over real HTTP,
 * against the devices service. It proves that Chromium's WebCrypto signatures (ES256 and Ed25519)
 * verify on the server, that the private key stays non-extractable, and that the identity kept in
 * IndexedDB survives a reload and still signs.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build } from 'esbuild';
import { cryptoRandom, isDomainError, randomIds, repoRoot } from '../platform/index.ts';
import type { Db } from '../storage/index.ts';
import { freshDb } from '../storage/testing.ts';
import { BROWSER_SKIP_REASON, launchBrowser } from '../testing/browser.ts';
import { DeviceRepo, type DevicesService, createDevicesService, deviceMigrations } from './index.ts';

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const CODE_SECRET = Buffer.alloc(32, 3);

describe('device SDK in Chromium', { skip: BROWSER_SKIP_REASON, timeout: 120_000 }, () => {
  let db: Db & { dispose(): Promise<void> };
  let service: DevicesService;
  let bundle: string;
  let server: ReturnType<typeof createServer>;
  let base: string;
  const seenBodies: string[] = [];

  before(async () => {
    db = await freshDb('sqlite', deviceMigrations);
    // The real clock: Chromium's timestamps come from its own Date.now().
    service = createDevicesService({
      repo: new DeviceRepo(db),
      clock: { now: () => new Date() },
      ids: randomIds(cryptoRandom),
      random: cryptoRandom,
      codeSecret: CODE_SECRET,
      storeBelongsTo: async () => true,
    });
    const out = await build({
      entryPoints: [join(repoRoot, 'packages/device-sdk/src/index.ts')],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      write: false,
    });
    bundle = out.outputFiles[0]!.text;
    assert.doesNotMatch(bundle, /node:|better-sqlite3|fastify/, 'the browser bundle holds no server or Node code');
    server = createServer((req, res) => {
      void (async () => {
        const body = await readBody(req);
        const url = req.url ?? '/';
        if (url === '/') return void res.end('<!doctype html><title>device</title>');
        if (url === '/sdk.js') {
          res.writeHead(200, { 'content-type': 'text/javascript' });
          return void res.end(bundle);
        }
        try {
          if (url === '/device/v1/activate') {
            const input = JSON.parse(body.toString()) as { code: string; public_key: unknown };
            const { terminal, serverTime } = await service.activate({ code: input.code, publicKey: input.public_key });
            return send(res, 200, { device_id: terminal.id, merchant_id: terminal.merchantId, store_id: terminal.storeId, algorithm: terminal.algorithm, server_time: serverTime });
          }
          // Exactly what the HTTP layer must hand over: the raw target and the raw body bytes.
          const who = await service.authenticate({ method: req.method ?? 'GET', path: url, headers: req.headers, body });
          seenBodies.push(body.toString());
          return send(res, 200, { terminal: who.terminalId, target: url });
        } catch (e) {
          if (isDomainError(e)) return send(res, 401, { error: { code: e.code, message: e.message } });
          return send(res, 500, { error: { code: 'internal', message: String(e) } });
        }
      })();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server?.close();
    await db?.dispose();
  });

  for (const algorithm of ['ES256', 'Ed25519'] as const) {
    test(`${algorithm}: activate, sign, survive a reload, refuse a replay`, async () => {
      const { activation } = await service.createTerminal({ merchantId: 'mer_b', storeId: 'sto_b', label: `Chromium ${algorithm}` });
      const browser = await launchBrowser();
      try {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(`${base}/`);
        const first = await page.evaluate(
          async ({ code, algorithm, dbName }) => {
            const sdk = await import('/sdk.js' as string);
            const store = new sdk.IndexedDbKeyStore(dbName);
            const { client } = await sdk.activateDevice({ baseUrl: location.origin, code, keyStore: store, algorithm });
            const me = await client.json('/device/v1/me');
            const paid = await client.json('/device/v1/payments?intent=pi_1&note=caf%C3%A9', { json: { payment_id: 'pay_1', amount: 1250, note: 'café ☕' } });
            let exported = 'refused';
            try {
              await crypto.subtle.exportKey('pkcs8', (await store.load()).privateKey);
              exported = 'EXPORTED';
            } catch {
              // The private key must not leave WebCrypto.
            }
            return { me, paid, exported, extractable: (await store.load()).privateKey.extractable as boolean };
          },
          { code: activation.code, algorithm, dbName: `facepay-${algorithm}` },
        );
        const terminalId = (first.me as { terminal: string }).terminal;
        assert.match(terminalId, /^term_/);
        assert.equal((first.paid as { target: string }).target, '/device/v1/payments?intent=pi_1&note=caf%C3%A9');
        assert.equal(seenBodies.at(-1), '{"payment_id":"pay_1","amount":1250,"note":"café ☕"}');
        assert.equal(first.exported, 'refused');
        assert.equal(first.extractable, false);
        assert.equal((await service.getTerminal('mer_b', terminalId)).algorithm, algorithm);

        await page.reload();
        const second = await page.evaluate(async ({ dbName }) => {
          const sdk = await import('/sdk.js' as string);
          const client = await sdk.DeviceClient.fromStore(new sdk.IndexedDbKeyStore(dbName), {});
          const me = await client.json('/device/v1/me');
          // The same signed request sent twice: the second is a replay.
          const identity = await new sdk.IndexedDbKeyStore(dbName).load();
          const headers = await sdk.signRequest(identity, { method: 'GET', path: '/device/v1/me' });
          const a = await fetch('/device/v1/me', { headers });
          const b = await fetch('/device/v1/me', { headers });
          return { me, a: a.status, b: b.status, bCode: ((await b.json()) as { error: { code: string } }).error.code };
        }, { dbName: `facepay-${algorithm}` });
        assert.equal((second.me as { terminal: string }).terminal, terminalId);
        assert.equal(second.a, 200);
        assert.equal(second.b, 401);
        assert.equal(second.bCode, 'device_nonce_reused');

        await service.revokeTerminal('mer_b', terminalId);
        const revoked = await page.evaluate(async ({ dbName }) => {
          const sdk = await import('/sdk.js' as string);
          const client = await sdk.DeviceClient.fromStore(new sdk.IndexedDbKeyStore(dbName), {});
          try {
            await client.json('/device/v1/me');
            return 'accepted';
          } catch (e) {
            return (e as { code: string }).code;
          }
        }, { dbName: `facepay-${algorithm}` });
        assert.equal(revoked, 'device_revoked');
      } finally {
        await browser.close();
      }
    });
  }
});
