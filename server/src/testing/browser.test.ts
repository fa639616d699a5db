import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { BROWSER_SKIP_REASON, fakeCameraArgs, launchBrowser } from './browser.ts';
import { writeY4m } from './fake-camera.ts';

test('the fake camera shows the page what the test wrote', { skip: BROWSER_SKIP_REASON, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'facepay-cam-'));
  const video = join(dir, 'camera.y4m');
  const red = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#d02020' } }).png().toBuffer();
  await writeY4m(video, [red], { width: 320, height: 240, fps: 10, holdFrames: 5 });

  // getUserMedia needs a secure context, and http://127.0.0.1 is one.
  const server = createServer((_req, res) => res.end('<!doctype html><title>cam</title>'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const browser = await launchBrowser(fakeCameraArgs(video));
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    const pixel = await page.evaluate(async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ video: true });
      const v = document.createElement('video');
      v.muted = true;
      v.srcObject = stream;
      await v.play();
      await new Promise((r) => setTimeout(r, 300));
      const c = document.createElement('canvas');
      c.width = v.videoWidth;
      c.height = v.videoHeight;
      const ctx = c.getContext('2d');
      if (!ctx) throw new Error('no 2d context');
      ctx.drawImage(v, 0, 0);
      return { w: c.width, h: c.height, rgb: Array.from(ctx.getImageData(c.width / 2, c.height / 2, 1, 1).data.slice(0, 3)) };
    });
    assert.equal(pixel.w, 320);
    assert.equal(pixel.h, 240);
    const [r, g, b] = pixel.rgb;
    assert.ok(r! > 170 && g! < 80 && b! < 80, `expected red, got ${pixel.rgb.join(',')}`);
  } finally {
    await browser.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
