/**
 * Face and PIN end to end: the genuine shopper (real live video, testing/live-video.ts) sets a
 * face-pay PIN and a face-alone limit in the portal, then pays at the terminal an amount above
 * that limit. The risk engine asks for the PIN; a wrong one leaves a try fewer, the right one
 * pays, and the payment records that the PIN settled it. The PIN is then looked for in the
 * server's log and in every answer the pages received: it must be in none.
 *
 * The server asks only for a turn to the left, which is what the clip shows (harness.ts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LIVE_SHOPPER, liveClipVideo } from '../testing/live-video.ts';
import { enrolFace, FACE_BROWSER_SKIP_REASON, shot, signUp, startFaceE2e, waitFaceScreen, waitScreen, walletOf, type FaceE2e } from './harness.ts';

const PIN = '482915';
const WRONG_PIN = '739104';

describe('face pay with the PIN in the browser, end to end', { skip: FACE_BROWSER_SKIP_REASON, timeout: 1_200_000 }, () => {
  let h: FaceE2e;
  const shopper = { name: 'George Walker', email: `pin-${randomUUID()}@example.com`, password: 'correct horse battery', phone: '+1 202 555 4321' };

  before(async () => {
    h = await startFaceE2e(['terminal', 'portal']);
  });
  after(async () => {
    await h?.close();
  });

  test('above the face-alone limit the terminal asks for the PIN: a wrong one costs a try, the right one pays', async () => {
    const video = join(h.videoDir, 'person-a-pin.y4m');
    await liveClipVideo(video, LIVE_SHOPPER);
    const browser = await h.browserWithCamera(video);

    const portal = await h.portalPage(browser);
    await signUp(portal, shopper, '80.00');
    await enrolFace(portal, 'portal-pin');
    await portal.getByRole('link', { name: 'Settings' }).click();
    // Face alone pays up to €20.00; above it the PIN.
    await portal.getByLabel(/Limit per face payment/).fill('20.00');
    await portal.getByRole('button', { name: 'Save' }).click();
    await portal.getByText('Saved.').waitFor();
    await portal.getByLabel('New 6-digit PIN').fill(PIN);
    await portal.getByLabel('Your account password').fill(shopper.password);
    await portal.getByRole('button', { name: 'Set PIN' }).click();
    await portal.getByText('PIN saved.').waitFor();
    await shot(portal, 'portal-pin-01-settings');

    const { page, terminalId, screens, settled } = await h.activatedTerminal(browser, 'terminal-pin');
    const intent = await h.tillIntent(terminalId, 3500);
    await waitScreen(page, 'amount');
    await page.getByRole('button', { name: 'Pay with your face' }).click();
    // The genuine clip often needs several answers before one shows the turn (facepay.browser.test.ts).
    await waitFaceScreen(page, 'pin');
    assert.ok(!screens.includes('confirm'), 'the face alone was not enough above the limit');
    await page.getByText('3 tries left').waitFor();
    const keypad = page.getByRole('group', { name: 'face-pay PIN' });
    for (const d of WRONG_PIN) await keypad.getByRole('button', { name: d, exact: true }).click();
    await page.getByText('2 tries left').waitFor({ timeout: 30_000 });
    assert.notEqual(await h.intentStatus(intent), 'succeeded', 'a wrong PIN pays nothing');
    for (const d of PIN) await keypad.getByRole('button', { name: d, exact: true }).click();
    await waitScreen(page, 'confirm', 60_000);
    assert.match((await page.getByRole('heading').first().textContent()) ?? '', /^Hello, G\*{4} W\.$/);
    await page.getByRole('button', { name: 'Pay €35.00' }).click();
    await waitScreen(page, 'done');
    assert.match((await page.locator('.outcome h1').textContent()) ?? '', /Paid/);
    assert.equal(await h.intentStatus(intent), 'succeeded');
    assert.equal(await walletOf(portal), 8000 - 3500);
    await settled();

    // The attempt that paid was settled by the face and the PIN, as the risk engine chose.
    const [paid] = await h.platform.db.query<{ second_factor: string; risk_choice: string; risk_reasons: string }>(
      "SELECT second_factor, risk_choice, risk_reasons FROM face_pay_attempts WHERE intent_id = $1 AND state = 'paid'",
      [intent],
    );
    assert.equal(paid?.second_factor, 'pin');
    assert.equal(paid?.risk_choice, 'face_pin');
    assert.ok((JSON.parse(paid!.risk_reasons) as string[]).includes('amount_above_face_alone_limit'), paid!.risk_reasons);
    // The wrong PIN counts against the shopper.
    const [{ n } = { n: 0 }] = await h.platform.db.query<{ n: number }>("SELECT COUNT(*) AS n FROM face_pay_failures WHERE factor = 'pin' AND shopper_id <> ''");
    assert.equal(Number(n), 1);

    // Neither PIN is in the log or in any answer (the terminal sent them; nothing sends them back).
    const log = h.logs.join('');
    assert.ok(log.length > 1000);
    for (const p of [PIN, WRONG_PIN]) {
      assert.ok(!log.includes(p), 'the log holds no PIN');
      for (const r of h.captured.responses) assert.ok(!r.body.includes(p), `${r.url} answered with a PIN`);
    }
    await browser.close();
  });
});
