/**
 * A tablet's view of HTTPS on the shop's network (issue 19): Chromium opens the terminal at
 * https://shop.test:PORT/terminal/, a name that is not localhost (mapped to 127.0.0.1 as the shop's
 * router would resolve it), trusting the local CA made by `facepay tls init`. The page is a secure
 * context, so WebCrypto and the camera work: the terminal activates (its device key is made with
 * WebCrypto) and a fake camera opens. Plain HTTP on the redirect port lands on the same page.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import type { Browser } from 'playwright-core';
import { serve, type Served } from '../cli/start.ts';
import { waitScreen } from '../e2e/harness.ts';
import { repoRoot } from '../platform/index.ts';
import { BROWSER_SKIP_REASON, launchBrowser } from '../testing/browser.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';
import { makeLocalCa, spkiHash, writeLocalCa } from './index.ts';

test('the terminal at https://shop.test is a secure context: WebCrypto, activation and the camera work', { skip: BROWSER_SKIP_REASON, timeout: 180_000 }, async (t) => {
  let p: TestPlatform | undefined;
  let served: Served | undefined;
  let browser: Browser | undefined;
  t.after(async () => {
    await browser?.close();
    await served?.close();
    await p?.dispose();
  });
  const { buildApps } = (await import(pathToFileURL(join(repoRoot, 'scripts/build-apps.mjs')).href)) as {
    buildApps(o: { quiet?: boolean; only?: string[] }): Promise<string[]>;
  };
  await buildApps({ quiet: true, only: ['terminal'] });
  const dir = mkdtempSync(join(tmpdir(), 'fp-https-browser-'));
  const files = makeLocalCa({ hosts: ['shop.test'], ips: [], now: new Date() });
  writeLocalCa(dir, files);
  p = await testPlatform('sqlite', {
    env: { PORT: '0', FACEPAY_TLS_CERT: join(dir, 'server.pem'), FACEPAY_TLS_KEY: join(dir, 'server-key.pem'), FACEPAY_HTTP_PORT: '0' },
  });
  served = await serve(p);
  const port = new URL(served.origins[0]!).port;
  const base = `https://shop.test:${port}`;
  assert.equal(served.origins[0], base);

  // Chromium trusts the certificate by its public key's hash, as a tablet with the CA installed
  // would. The hash is the server certificate's: Chromium matches it against the chain the server
  // sends, which stops at the server certificate (the CA is what the client already has).
  browser = await launchBrowser([
    '--host-resolver-rules=MAP shop.test 127.0.0.1',
    `--ignore-certificate-errors-spki-list=${spkiHash(files.certPem)}`,
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
  ]);
  const context = await browser.newContext({ permissions: ['camera'] });
  const page = await context.newPage();

  // Typed as a tablet user would: plain http, redirected to https.
  const res = await page.goto(`http://shop.test:${served.redirectPort}/terminal/`);
  assert.equal(page.url(), `${base}/terminal/`);
  assert.match(String(res?.headers()['strict-transport-security']), /max-age=/);
  const env = await page.evaluate(async () => {
    const key = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    return { secure: isSecureContext, subtle: typeof crypto.subtle, key: key.privateKey.type };
  });
  assert.deepEqual(env, { secure: true, subtle: 'object', key: 'private' });

  const created = await p.app.inject({ method: 'POST', url: '/v1/terminals', headers: p.liveAuth, payload: { store: p.storeId, label: 'Counter' } });
  assert.equal(created.statusCode, 200, created.body);
  await page.getByLabel('Activation code').fill(created.json().activation_code as string);
  await page.getByRole('button', { name: 'Activate' }).click();
  await waitScreen(page, 'idle', 60_000);

  const camera = await page.evaluate(() =>
    navigator.mediaDevices.getUserMedia({ video: true }).then(
      (s) => {
        const settings = s.getVideoTracks()[0]?.getSettings();
        s.getTracks().forEach((tr) => tr.stop());
        return `ok ${settings?.width ?? 0}x${settings?.height ?? 0}`;
      },
      (e: Error) => e.name,
    ),
  );
  assert.match(camera, /^ok \d+x\d+$/);
});
