/**
 * Photo attacks in Chromium, against the sequence checks of the challenge (verifyChallenge in
 * server/src/face/challenge.ts). The genuine shopper (real live video, testing/live-video.ts) enrols
 * first; then, built from stills of that very clip:
 * - a slideshow of three stills, frontal, turned and frontal again, each held before the camera
 *   (with sensor noise and a tremble, so no two frames share their landmarks): its turn jumps, and
 *   the continuity check refuses it;
 * - the frontal still as a print turned by hand (a perspective warp along a smooth path): its
 *   landmarks stay on one plane, and the flatness check refuses it, or its turn never reaches the
 *   angle asked.
 * Each must fail at a terminal and fail to enrol for another account. Which check refused it is not
 * asserted: any refusal is a pass here, and the checks are measured one by one in bench:liveness.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeY4m } from '../testing/fake-camera.ts';
import { LIVE_SHOPPER, liveClipVideo, shifted, VIDEO_CLIPS } from '../testing/live-video.ts';
import { movedPhoto } from '../testing/photo-attacks.ts';
import { enrolFace, FACE_BROWSER_SKIP_REASON, signUp, startFaceE2e, waitScreen, type FaceE2e } from './harness.ts';

/** Stills of the live shopper: frontal, turned to his left (about 30 degrees), frontal. */
function still(frame: number): Buffer {
  return readFileSync(join(VIDEO_CLIPS!, LIVE_SHOPPER.clip, `frame_${String(frame).padStart(5, '0')}.jpg`));
}

/**
 * 30 frames a second: 1.2 s frontal, 0.6 s turned, 1.2 s frontal again, over and over, each photo
 * trembling by a few pixels as in a hand (so no two frames share their landmarks, which the
 * replay check alone would catch).
 */
async function slideshow(file: string): Promise<void> {
  const poses = [...Array<number>(36).fill(20), ...Array<number>(18).fill(60), ...Array<number>(36).fill(100)];
  const frames = await Promise.all(poses.map((f, i) => shifted(still(f), 2 + Math.round(2 * Math.sin(i * 0.9)), 2 + Math.round(2 * Math.cos(i * 0.7)))));
  await writeY4m(file, frames, { fps: 30, holdFrames: 1, noise: 2 });
}

/**
 * The frontal still held up as a print and turned by hand, 0 to 50 degrees and back over 1.2 s,
 * between two holds of 1.2 s: what a "turn" looks like when the face is flat.
 */
async function movedPrint(file: string): Promise<void> {
  const hold = (i: number) => shifted(still(25), 2 + Math.round(2 * Math.sin(i * 0.9)), 2 + Math.round(2 * Math.cos(i * 0.7)));
  const before = await Promise.all(Array.from({ length: 36 }, (_, i) => hold(i)));
  const turn = await movedPhoto(still(25), 36, 50);
  const after = await Promise.all(Array.from({ length: 36 }, (_, i) => hold(i + 36)));
  await writeY4m(file, [...before, ...turn, ...after], { fps: 30, holdFrames: 1, noise: 2 });
}

/** Pays by face at a new terminal with the given camera; the attack must end at "another way", never at confirm. */
async function attackTerminal(h: FaceE2e, browser: Awaited<ReturnType<FaceE2e['browserWithCamera']>>, name: string): Promise<void> {
  const { page, terminalId, screens } = await h.activatedTerminal(browser, name);
  const intent = await h.tillIntent(terminalId, 800);
  await waitScreen(page, 'amount');
  await page.getByRole('button', { name: 'Pay with your face' }).click();
  // Told to retry, the terminal asks again; it must never reach confirm.
  await waitScreen(page, 'other_way', 300_000);
  assert.ok(!screens.includes('confirm'), `the attack was recognised: ${screens.join(' > ')}`);
  assert.notEqual(await h.intentStatus(intent), 'succeeded');
}

describe('photo attacks in the browser (needs the sequence checks)', { skip: FACE_BROWSER_SKIP_REASON, timeout: 900_000 }, () => {
  let h: FaceE2e;
  before(async () => {
    h = await startFaceE2e(['terminal', 'portal']);
  });
  after(async () => {
    await h?.close();
  });

  test('a slideshow of stills of an enrolled shopper fails at the terminal and at enrolment', async () => {
    const live = join(h.videoDir, 'live.y4m');
    await liveClipVideo(live, LIVE_SHOPPER);
    const genuine = await h.browserWithCamera(live);
    const portal = await h.portalPage(genuine);
    await signUp(portal, { name: 'Tran Victim', email: `v-${randomUUID()}@example.com`, password: 'correct horse battery', phone: '+1 202 555 1111' }, '50.00');
    await enrolFace(portal, 'attack-victim');
    await genuine.close();

    const video = join(h.videoDir, 'slideshow.y4m');
    await slideshow(video);
    const browser = await h.browserWithCamera(video);
    await attackTerminal(h, browser, 'terminal-slideshow');

    const attacker = await h.portalPage(browser);
    await signUp(attacker, { name: 'Mallory', email: `m-${randomUUID()}@example.com`, password: 'another good password', phone: '+1 202 555 2222' }, '10.00');
    await assert.rejects(enrolFace(attacker, 'attack-enrol'), 'the slideshow must not enrol');
    await browser.close();
  });

  test('a print of the enrolled shopper turned by hand fails at the terminal and at enrolment', async () => {
    const video = join(h.videoDir, 'moved-print.y4m');
    await movedPrint(video);
    const browser = await h.browserWithCamera(video);
    await attackTerminal(h, browser, 'terminal-moved-print');
    const attacker = await h.portalPage(browser);
    await signUp(attacker, { name: 'Trudy', email: `t-${randomUUID()}@example.com`, password: 'yet another good password', phone: '+1 202 555 3333' }, '10.00');
    await assert.rejects(enrolFace(attacker, 'attack-enrol-print'), 'the moved print must not enrol');
    await browser.close();
  });
});
