import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialState, step, type Decision, type Event, type Intent, type State } from './flow.ts';

const intent: Intent = { id: 'pi_1', amount: 1250, currency: 'EUR' };
const match: Decision = { outcome: 'match', attemptId: 'fa_1', maskedName: 'A**** W.', amountDue: 1150, discount: 100, offers: [] };

function run(events: Event[], from: State = initialState): State {
  return events.reduce(step, from);
}

test('a face payment goes amount, scan, challenge, decision, confirm, paying, done', () => {
  const s = run([
    { type: 'intent', intent },
    { type: 'start_face' },
    { type: 'guidance', guidance: 'come_closer' },
    { type: 'challenge', challenge: { id: 'ch_1', kind: 'turn_left', expiresAt: 1 } },
    { type: 'captured' },
    { type: 'decision', decision: match },
  ]);
  assert.equal(s.screen, 'confirm');
  const paying = step(s, { type: 'confirm', paymentId: 'pay_1' });
  assert.deepEqual(paying, { screen: 'paying', intent, paymentId: 'pay_1', via: { method: 'face', attemptId: 'fa_1' }, retries: 0, offline: false, amountDue: 1150 });
  const done = step(paying, { type: 'paid', outcome: 'succeeded' });
  assert.equal(done.screen, 'done');
  assert.equal(done.screen === 'done' && done.outcome, 'succeeded');
});

test('while paying, neither cancel nor a stray event leaves the screen; retries are counted', () => {
  const paying: State = { screen: 'paying', intent, paymentId: 'pay_1', via: { method: 'pay_code', code: '1' }, retries: 0, offline: false };
  assert.equal(step(paying, { type: 'cancel' }), paying);
  assert.equal(step(paying, { type: 'other_way' }), paying);
  const retried = run([{ type: 'retrying', offline: true }, { type: 'retrying', offline: true }], paying);
  assert.deepEqual(retried, { ...paying, retries: 2, offline: true });
});

test('ambiguous asks for four digits, then pays or sends the shopper another way', () => {
  const digits = run([
    { type: 'intent', intent },
    { type: 'start_face' },
    { type: 'challenge', challenge: { id: 'ch_1', kind: 'blink', expiresAt: 1 } },
    { type: 'captured' },
    { type: 'decision', decision: { outcome: 'ambiguous', attemptId: 'fa_1', attemptsLeft: 2 } },
    ...['1', '2', '3', '4', '5'].map((key) => ({ type: 'key', key }) as Event),
  ]);
  assert.equal(digits.screen === 'digits' && digits.entered, '1234');
  assert.equal(step(digits, { type: 'decision', decision: match }).screen, 'confirm');
  const failed = step(digits, { type: 'decision', decision: { outcome: 'no_match' } });
  assert.equal(failed.screen === 'other_way' && failed.reason, 'digits_failed');
});

test('the PIN: six digits on the keypad, a wrong one leaves the tries, the last sends the shopper another way', () => {
  const pin = run([
    { type: 'intent', intent },
    { type: 'start_face' },
    { type: 'challenge', challenge: { id: 'ch_1', kind: 'blink', expiresAt: 1 } },
    { type: 'captured' },
    { type: 'decision', decision: { outcome: 'pin', attemptId: 'fa_1', attemptsLeft: 3 } },
    ...['4', '8', '2', '9', '1', '5', '7'].map((key) => ({ type: 'key', key }) as Event),
  ]);
  assert.equal(pin.screen === 'pin' && pin.entered, '482915');
  const again = step(pin, { type: 'decision', decision: { outcome: 'pin', attemptId: 'fa_1', attemptsLeft: 2 } });
  assert.deepEqual(again.screen === 'pin' && [again.entered, again.attemptsLeft], ['', 2]);
  assert.equal(step(pin, { type: 'decision', decision: match }).screen, 'confirm');
  const failed = step(pin, { type: 'decision', decision: { outcome: 'no_match' } });
  assert.equal(failed.screen === 'other_way' && failed.reason, 'pin_failed');
});

test('every refusal leads to another way to pay, with its reason', () => {
  for (const outcome of ['no_match', 'face_pay_off', 'liveness_failed', 'no_face'] as const) {
    const s = run([{ type: 'intent', intent }, { type: 'start_face' }, { type: 'challenge', challenge: { id: 'c', kind: 'blink', expiresAt: 1 } }, { type: 'captured' }, { type: 'decision', decision: { outcome } }]);
    assert.equal(s.screen === 'other_way' && s.reason, outcome);
    assert.equal(step(s, { type: 'pay_code', code: '123', paymentId: 'pay_2' }).screen, 'paying');
  }
});

test('one tap joins, only where the merchant has a programme, with the fields it asks for', () => {
  const confirmOf = (decision: Decision) =>
    run([{ type: 'intent', intent }, { type: 'start_face' }, { type: 'challenge', challenge: { id: 'c', kind: 'blink', expiresAt: 1 } }, { type: 'captured' }, { type: 'decision', decision }]);
  const without = step(confirmOf(match), { type: 'confirm', paymentId: 'p', join: true });
  assert.deepEqual(without.screen === 'paying' && without.via, { method: 'face', attemptId: 'fa_1' }, 'no programme, nothing to join');
  const s = confirmOf({ ...match, discount: 0, amountDue: 1250, membership: { programme: 'Club', fields: ['name', 'email'] } });
  const joining = step(s, { type: 'confirm', paymentId: 'p', join: true });
  assert.deepEqual(joining.screen === 'paying' && joining.via, { method: 'face', attemptId: 'fa_1', join: ['name', 'email'] });
  const notJoining = step(s, { type: 'confirm', paymentId: 'p' });
  assert.deepEqual(notJoining.screen === 'paying' && notJoining.via, { method: 'face', attemptId: 'fa_1' });
});

test('the cashier keypad types whole minor units without a leading zero', () => {
  const s = run(['0', '1', '2', 'back', '5', '0'].map((key) => ({ type: 'key', key }) as Event));
  assert.deepEqual(s, { screen: 'idle', typed: '150' });
});


test('a capture the server could not use sends the shopper back to the camera with its reason', () => {
  const s = run([
    { type: 'intent', intent },
    { type: 'start_face' },
    { type: 'challenge', challenge: { id: 'c', kind: 'blink', expiresAt: 1 } },
    { type: 'captured' },
    { type: 'decision', decision: { outcome: 'retry', code: 'face_blurred', message: 'Hold still.' } },
  ]);
  // The code travels with the server's text, so that the screen words the reason in its own language.
  assert.deepEqual(s, { screen: 'scanning', intent, guidance: 'no_face', notice: 'Hold still.', noticeCode: 'face_blurred' });
});

test('no steady face in time, or a camera that did not open, stops the capture with a retry and another way to pay', () => {
  const timedOut = run([
    { type: 'intent', intent },
    { type: 'start_face' },
    { type: 'guidance', guidance: 'no_face_dark' },
    { type: 'face_problem', problem: { kind: 'timeout', guidance: 'no_face_dark' } },
  ]);
  assert.deepEqual(timedOut, { screen: 'face_problem', intent, problem: { kind: 'timeout', guidance: 'no_face_dark' } });
  assert.deepEqual(step(timedOut, { type: 'start_face' }), { screen: 'scanning', intent, guidance: 'no_face' });
  assert.equal(step(timedOut, { type: 'other_way' }).screen, 'other_way');
  const denied = run([{ type: 'intent', intent }, { type: 'start_face' }, { type: 'face_problem', problem: { kind: 'camera', problem: 'denied' } }]);
  assert.deepEqual(denied, { screen: 'face_problem', intent, problem: { kind: 'camera', problem: 'denied' } });
  assert.equal(step(denied, { type: 'cancel' }).screen, 'done');
});

test('a failed payment keeps the platform’s code for the screen to word', () => {
  const paying = run([{ type: 'intent', intent }, { type: 'other_way' }, { type: 'pay_code', code: '123456789012', paymentId: 'tpay_1' }]);
  const done = step(paying, { type: 'paid', outcome: 'failed', code: 'insufficient_funds', message: 'no money' });
  assert.equal(done.screen === 'done' && done.code, 'insufficient_funds');
});

test('a coupon lowers what the paying and done screens show as charged', () => {
  const confirm: State = { screen: 'confirm', intent, decision: match };
  const paying = step(confirm, { type: 'confirm', paymentId: 'p' });
  assert.equal(paying.screen === 'paying' && paying.amountDue, 1150);
  const done = step(paying, { type: 'paid', outcome: 'succeeded' });
  assert.equal(done.screen === 'done' && done.amountDue, 1150);
  const noCoupon = step({ screen: 'confirm', intent, decision: { ...match, discount: 0, amountDue: 1250 } }, { type: 'confirm', paymentId: 'p' });
  assert.equal(noCoupon.screen === 'paying' && noCoupon.amountDue, undefined, 'without a coupon the intent amount is charged');
});

test('a mistyped pay code is refused without closing the payment: the code can be typed again, then pays', () => {
  const paying = run([
    { type: 'intent', intent },
    { type: 'other_way' },
    { type: 'pay_code', code: '123456789013', paymentId: 'pay_1' },
  ]);
  assert.equal(paying.screen, 'paying');
  const again = step(paying, { type: 'paid', outcome: 'failed', code: 'pay_code_invalid', message: 'This pay code is wrong, used or expired.' });
  assert.equal(again.screen, 'other_way');
  assert.ok(again.screen === 'other_way');
  assert.equal(again.reason, 'pay_code_rejected');
  assert.equal(again.rejectedCode, '123456789013', 'the code is put back to be corrected');
  assert.deepEqual(again.intent, intent, 'the same payment, still open');
  const retried = step(again, { type: 'pay_code', code: '123456789012', paymentId: 'pay_2' });
  assert.equal(retried.screen === 'paying' && retried.paymentId, 'pay_2', 'a new try has a new payment id');
  assert.equal(step(retried, { type: 'paid', outcome: 'succeeded' }).screen, 'done');
  // Any other refusal (the wallet is empty, a limit) is the end of this payment.
  const final = step(paying, { type: 'paid', outcome: 'failed', code: 'insufficient_funds', message: 'no money' });
  assert.equal(final.screen === 'done' && final.outcome, 'failed');
  // A face payment's failure is final too, whatever its code.
  const face: State = { screen: 'paying', intent, paymentId: 'pay_3', via: { method: 'face', attemptId: 'fa_1' }, retries: 0, offline: false };
  assert.equal(step(face, { type: 'paid', outcome: 'failed', code: 'pay_code_invalid' }).screen, 'done');
});
