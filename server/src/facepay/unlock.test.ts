/**
 * Unlocking face pay in the portal after the lockout, over the API, on both databases. With the
 * account password the wrong digits and PINs counted against the shopper are cleared; with the
 * session alone face pay comes back on but the count stays, so the next wrong factor locks again
 * (a borrowed, unlocked phone must not buy fresh PIN guesses without end).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ShopperRepo } from '../shoppers/index.ts';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';
import { AttemptRepo } from './index.ts';

const DAY = 24 * 60 * 60 * 1000;

describeEachDialect('face pay: unlocking in the portal', (dialect) => {
  let p: TestPlatform;
  let shopper = { id: '', cookie: '' };
  let n = 0;

  before(async () => {
    p = await testPlatform(dialect);
    const email = 'lia@example.com';
    assert.equal((await p.app.inject({ method: 'POST', url: '/v1/shopper/signup', payload: { email, password: 'a long passphrase', name: 'Lia Park' } })).statusCode, 202);
    const res = await p.app.inject({ method: 'POST', url: '/v1/shopper/login', payload: { email, password: 'a long passphrase' } });
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    const id = (await p.app.inject({ method: 'GET', url: '/v1/shopper/me', headers: { cookie } })).json().id as string;
    // The face engine is off in these tests: an enrolled face is set in storage as enrolment leaves it.
    await new ShopperRepo(p.db).update(id, { face_enrolled_at: Date.now(), face_pay_enabled: 1 });
    shopper = { id, cookie };
  });
  after(async () => {
    await p.dispose();
  });

  const attempts = () => new AttemptRepo(p.db);
  const counted = () => attempts().shopperFailuresSince(shopper.id, Date.now() - DAY);
  /** Wrong factors charged to the shopper as the terminal flow charges them, and the lockout they cause. */
  async function wrongFactors(k: number): Promise<number> {
    let failures = 0;
    for (let i = 0; i < k; i++) {
      failures = await attempts().recordFailure(
        { id: `fpf_unlock_${n++}`, shopper_id: shopper.id, attempt_id: 'fpa_x', terminal_id: 'trm_x', factor: 'pin', at: Date.now() },
        Date.now() - DAY,
      );
    }
    if (failures >= 5) await p.services.shoppers.freezeFacePay(shopper.id);
    return failures;
  }
  const patch = (payload: Record<string, unknown>) => p.app.inject({ method: 'PATCH', url: '/v1/shopper/me', headers: { cookie: shopper.cookie }, payload });
  const enabled = async () => (await p.services.shoppers.get(shopper.id)).facePayEnabled;

  test('with the session alone face pay comes back on, but the count stays: one more wrong factor locks it again', async () => {
    assert.equal(await wrongFactors(5), 5);
    assert.equal(await enabled(), false);
    const on = await patch({ face_pay_enabled: true });
    assert.equal(on.statusCode, 200, on.body);
    assert.equal(on.json().face_pay_enabled, true);
    assert.equal(await counted(), 5);
    assert.equal(await wrongFactors(1), 6);
    assert.equal(await enabled(), false);
  });

  test('a wrong password unlocks nothing and clears nothing; the password alone, without switching on, is refused', async () => {
    const wrong = await patch({ face_pay_enabled: true, password: 'not my passphrase' });
    assert.equal(wrong.statusCode, 403, wrong.body);
    assert.equal(wrong.json().error.code, 'password_wrong');
    assert.equal(await enabled(), false);
    assert.equal(await counted(), 6);
    const stray = await patch({ name: 'Lia P.', password: 'a long passphrase' });
    assert.equal(stray.statusCode, 400, stray.body);
    assert.equal(stray.json().error.code, 'password_unexpected');
  });

  test('with the password face pay is on and the count starts again: four wrong factors do not lock, the fifth does', async () => {
    const on = await patch({ face_pay_enabled: true, password: 'a long passphrase' });
    assert.equal(on.statusCode, 200, on.body);
    assert.equal(on.json().face_pay_enabled, true);
    assert.equal(await counted(), 0);
    // The rows stay, marked cleared, for the record.
    const rows = await p.db.query<{ cleared_at: number | null }>('SELECT cleared_at FROM face_pay_failures WHERE shopper_id = $1', [shopper.id]);
    assert.equal(rows.length, 6);
    assert.ok(rows.every((r) => r.cleared_at !== null));
    assert.equal(await wrongFactors(4), 4);
    assert.equal(await enabled(), true);
    assert.equal(await wrongFactors(1), 5);
    assert.equal(await enabled(), false);
  });
});
