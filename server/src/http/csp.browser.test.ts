/**
 * The Content-Security-Policy against the apps as shipped (issue 17, item 7): the console, portal
 * and terminal load without a violation, and inside their pages what face capture needs still
 * works: compiling tfjs's WebAssembly, a worker from a blob, the camera. Framing is refused.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { BROWSER_SKIP_REASON, fakeCameraArgs, launchBrowser } from '../testing/browser.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

test('the apps pass their CSP, and face capture still can', { skip: BROWSER_SKIP_REASON, timeout: 120_000 }, async (t) => {
  let p: TestPlatform | undefined;
  let browser: Browser | undefined;
  t.after(async () => {
    await browser?.close();
    await p?.dispose();
  });
  p = await testPlatform('sqlite');
  await p.app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
  browser = await launchBrowser(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream']);
  const context = await browser.newContext({ permissions: ['camera'] });
  for (const app of ['console', 'portal', 'terminal']) {
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => console.error(`Refused to load: ${e.violatedDirective} ${e.blockedURI}`));
    });
    const res = await page.goto(`${base}/${app}/`, { waitUntil: 'networkidle' });
    assert.match(String(res?.headers()['content-security-policy']), /frame-ancestors 'none'/);
    assert.ok((await page.locator('#app').innerHTML()).length > 0, `${app} rendered`);
    const probe = await page.evaluate(async () => {
      const wasm = await (await fetch('/assets/face/wasm/tfjs-backend-wasm-simd.wasm')).arrayBuffer();
      const compiled = await WebAssembly.compile(wasm).then(() => 'ok', (e: Error) => e.message);
      const worker = await new Promise<string>((resolve) => {
        const w = new Worker(URL.createObjectURL(new Blob(['postMessage("ok")'], { type: 'text/javascript' })));
        w.onmessage = (e) => resolve(String(e.data));
        w.onerror = () => resolve('refused');
        setTimeout(() => resolve('timeout'), 5000);
      });
      const camera = await navigator.mediaDevices.getUserMedia({ video: true }).then(
        (s) => (s.getTracks().forEach((tr) => tr.stop()), 'ok'),
        (e: Error) => e.name,
      );
      return { compiled, worker, camera };
    });
    assert.deepEqual(probe, { compiled: 'ok', worker: 'ok', camera: 'ok' }, app);
    assert.deepEqual(violations, [], app);
    await page.close();
  }
  // Another origin's page cannot frame the console.
  const page = await context.newPage();
  const violations: string[] = [];
  page.on('console', (m) => void violations.push(m.text()));
  await page.setContent(`<iframe src="${base}/console/"></iframe>`);
  await page.waitForTimeout(1000);
  const framed = page.frames().find((f) => f.url().includes('/console/'));
  const framedHtml = framed ? await framed.content().catch(() => '') : '';
  assert.doesNotMatch(framedHtml, /id="app"/, 'the console does not render inside a frame');
});
