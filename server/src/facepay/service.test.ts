import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError, ManualClock, sequentialIds } from '../platform/index.ts';
import { describeEachDb } from '../storage/testing.ts';
import { AttemptRepo, createFacePayService, facePayMigrations, type CaptureVerdict, type Checkout, type Identification, type ShopperView } from './index.ts';

const terminal = { merchantId: 'mer_1', storeId: 'sto_1', terminalId: 'trm_1' };
const otherTerminal = { merchantId: 'mer_2', storeId: 'sto_9', terminalId: 'trm_9' };
const model = { name: 'm', version: '1' };
const frames = [{ at: 1, image: new Uint8Array([1, 2, 3]) }];

/** Stand-ins for the other modules; each records what it was asked. */
function world() {
  const state = {
    verdict: { ok: true, embedding: new Float32Array([1, 0]), model } as CaptureVerdict,
    identify: (_digits?: string): Identification => ({ outcome: 'match', shopperId: 'shp_a', falseMatchProbability: 1e-7 }),
    shoppers: new Map<string, ShopperView>([['shp_a', { id: 'shp_a', maskedName: 'A**** W.', facePayEnabled: true, perPaymentLimit: null }]]),
    payCodes: new Map<string, string>([['123456789012', 'shp_a']]),
    intents: new Map([['pi_1', { id: 'pi_1', amount: 1500, currency: 'EUR', status: 'requires_face', merchantId: 'mer_1' }]]),
    payments: new Map<string, { shopperId: string; method: string; couponId?: string; join?: string[] }>(),
    digitsAsked: [] as (string | undefined)[],
    verified: 0,
    arrivals: [] as number[],
    locked: [] as string[],
  };
  const checkout: Checkout = {
    async intent(id, t) {
      const i = state.intents.get(id);
      if (i === undefined || i.merchantId !== t.merchantId) throw new DomainError('not_found', 'intent_not_found', 'no');
      return i;
    },
    async offers() {
      return { discount: 200, coupon: { id: 'cpn_1', title: '€2 off' }, offers: [{ id: 'cpn_1', title: '€2 off' }] };
    },
    async pay(intentId, _t, shopperId, opts) {
      // The real checkout runs inPayment inside the payment's transaction; this fake has none.
      if (!state.payments.has(opts.paymentId)) await opts.inPayment?.({} as never);
      if (!state.payments.has(opts.paymentId)) state.payments.set(opts.paymentId, { shopperId, method: opts.method, ...(opts.couponId ? { couponId: opts.couponId } : {}), ...(opts.join ? { join: opts.join } : {}) });
      const i = state.intents.get(intentId);
      if (i) i.status = 'succeeded';
      return { status: 'succeeded' };
    },
  };
  return { state, checkout };
}

describeEachDb('face pay', facePayMigrations, (getDb) => {
  const ids = sequentialIds();
  const setup = () => {
    const w = world();
    const clock = new ManualClock('2026-11-25T12:00:00Z');
    const service = createFacePayService({
      attempts: new AttemptRepo(getDb()),
      face: {
        issueChallenge: () => ({ id: ids.next('ch'), kind: 'turn_left', issuedAt: clock.now().getTime(), expiresAt: clock.now().getTime() + 10_000 }),
        verify: async (_c, _f, arrivedAt) => {
          w.state.verified++;
          w.state.arrivals.push(arrivedAt);
          // A real check takes a while: two racing requests both get this far unless the challenge is used up first.
          await new Promise((r) => setTimeout(r, 5));
          return w.state.verdict;
        },
      },
      gallery: {
        identify: async (_p, _m, opts) => {
          w.state.digitsAsked.push(opts.phoneLast4);
          return w.state.identify(opts.phoneLast4);
        },
      },
      shoppers: {
        get: async (id) => w.state.shoppers.get(id),
        payCodeShopper: async (code) => {
          const id = w.state.payCodes.get(code);
          if (id === undefined) throw new DomainError('unprocessable', 'pay_code_invalid', 'no');
          return id;
        },
        usePayCode: async (_tx, code, shopperId) => {
          if (w.state.payCodes.get(code) !== shopperId) throw new DomainError('unprocessable', 'pay_code_invalid', 'no');
          w.state.payCodes.delete(code);
        },
        lockFacePay: async (id) => {
          w.state.locked.push(id);
          const s = w.state.shoppers.get(id);
          if (s) w.state.shoppers.set(id, { ...s, facePayEnabled: false });
        },
      },
      checkout: w.checkout,
      clock,
      ids,
    });
    return { ...w, clock, service };
  };

  test('a recognised shopper sees their masked name and coupon, and paying twice with one id pays once', async () => {
    const { service, state } = setup();
    const { attemptId, challenge } = await service.challenge(terminal, 'pi_1');
    assert.equal(challenge.kind, 'turn_left');
    const d = await service.capture(terminal, attemptId, frames);
    assert.equal(d.outcome, 'match');
    assert.ok(d.outcome === 'match');
    assert.equal(d.maskedName, 'A**** W.');
    assert.equal(d.amountDue, 1300);
    assert.equal(JSON.stringify(d).includes('shp_a'), false, 'the terminal never learns the shopper id');
    const first = await service.confirm(terminal, attemptId, { paymentId: 'pay_x', join: ['name'] });
    const retry = await service.confirm(terminal, attemptId, { paymentId: 'pay_x' });
    assert.equal(first.status, 'succeeded');
    assert.equal(retry.status, 'succeeded');
    assert.equal(state.payments.size, 1);
    assert.deepEqual(state.payments.get('pay_x'), { shopperId: 'shp_a', method: 'face', couponId: 'cpn_1', join: ['name'] });
    await assert.rejects(service.confirm(terminal, attemptId, { paymentId: 'pay_other' }), { code: 'attempt_already_paid' });
  });

  test('an ambiguous face asks for the digits, and the digits narrow the search', async () => {
    const { service, state } = setup();
    state.identify = (digits) => (digits === '4321' ? { outcome: 'match', shopperId: 'shp_a', falseMatchProbability: 1e-7 } : { outcome: 'ambiguous' });
    const { attemptId } = await service.challenge(terminal, 'pi_1');
    const d1 = await service.capture(terminal, attemptId, frames);
    assert.deepEqual(d1, { outcome: 'ambiguous', attemptId, attemptsLeft: 2, reason: 'look_alike' });
    const d2 = await service.capture(terminal, attemptId, frames, { phoneLast4: '0000' });
    assert.deepEqual(d2, { outcome: 'ambiguous', attemptId, attemptsLeft: 1, reason: 'look_alike' });
    const d3 = await service.capture(terminal, attemptId, frames, { phoneLast4: '4321' });
    assert.equal(d3.outcome, 'match');
    assert.deepEqual(state.digitsAsked, [undefined, '0000', '4321']);
    await assert.rejects(service.capture(terminal, attemptId, frames, { phoneLast4: '4321' }), { code: 'attempt_not_ready' });
    // The payment records that the digits settled it, not the face alone.
    await service.confirm(terminal, attemptId, { paymentId: 'pay_digits' });
    assert.equal(state.payments.get('pay_digits')?.method, 'face_digits');
  });

  test('wrong digits too often end in no match', async () => {
    const { service, state } = setup();
    state.identify = () => ({ outcome: 'ambiguous' });
    const { attemptId } = await service.challenge(terminal, 'pi_1');
    await service.capture(terminal, attemptId, frames);
    await service.capture(terminal, attemptId, frames, { phoneLast4: '1111' });
    assert.deepEqual(await service.capture(terminal, attemptId, frames, { phoneLast4: '2222' }), { outcome: 'no_match' });
    await assert.rejects(service.confirm(terminal, attemptId, { paymentId: 'pay_1' }), { code: 'attempt_not_ready' });
  });

  test('50 concurrent wrong digit guesses on one attempt are evaluated at most as often as it allows', async () => {
    const { service, state } = setup();
    state.identify = () => ({ outcome: 'ambiguous' });
    const { attemptId } = await service.challenge(terminal, 'pi_1');
    await service.capture(terminal, attemptId, frames);
    const guesses = Array.from({ length: 50 }, (_, i) => String(1000 + i));
    await Promise.allSettled(guesses.map((g) => service.capture(terminal, attemptId, frames, { phoneLast4: g })));
    assert.equal(state.digitsAsked.filter((d) => d !== undefined).length, 2);
    await assert.rejects(service.capture(terminal, attemptId, frames, { phoneLast4: '4321' }), { code: 'attempt_not_ready' });
  });

  test('7 wrong digits and the right ones sent together never match beyond the allowance', async () => {
    for (let round = 0; round < 5; round++) {
      const { service, state } = setup();
      state.identify = (digits) => (digits === '4321' ? { outcome: 'match', shopperId: 'shp_a', falseMatchProbability: 1e-7 } : { outcome: 'ambiguous' });
      const { attemptId } = await service.challenge(terminal, 'pi_1');
      await service.capture(terminal, attemptId, frames);
      const guesses = ['1111', '2222', '3333', '5555', '6666', '7777', '8888', '4321'];
      const results = await Promise.allSettled(guesses.map((g) => service.capture(terminal, attemptId, frames, { phoneLast4: g })));
      const evaluated = state.digitsAsked.filter((d) => d !== undefined);
      assert.ok(evaluated.length <= 2, `evaluated ${evaluated.length}`);
      const matched = results.some((r) => r.status === 'fulfilled' && r.value.outcome === 'match');
      // A match is only possible when the right guess was one of the tries the attempt allows.
      // (It may still lose the race to a wrong guess that spent the last try: that refuses the attempt.)
      if (matched) assert.ok(evaluated.includes('4321'));
    }
  });

  test('five wrong digits for one shopper within a day, across attempts, lock their face pay', async () => {
    const { service, state, clock } = setup();
    state.shoppers.set('shp_a', { id: 'shp_a', maskedName: 'A.', facePayEnabled: true, perPaymentLimit: 1000 });
    state.identify = (digits) => (digits === undefined ? { outcome: 'match', shopperId: 'shp_a', falseMatchProbability: 1e-7 } : { outcome: 'no_match' });
    const wrong = async () => {
      const { attemptId } = await service.challenge(terminal, 'pi_1');
      const d = await service.capture(terminal, attemptId, frames);
      assert.equal(d.outcome === 'ambiguous' && d.reason, 'limit');
      await service.capture(terminal, attemptId, frames, { phoneLast4: '0000' });
      await service.capture(terminal, attemptId, frames, { phoneLast4: '1111' });
    };
    await wrong();
    await wrong();
    assert.deepEqual(state.locked, []);
    // Failures older than a day no longer count.
    clock.advance(25 * 60 * 60 * 1000);
    await wrong();
    await wrong();
    assert.deepEqual(state.locked, []);
    const { attemptId } = await service.challenge(terminal, 'pi_1');
    await service.capture(terminal, attemptId, frames);
    await service.capture(terminal, attemptId, frames, { phoneLast4: '0000' });
    assert.deepEqual(state.locked, ['shp_a']);
    assert.deepEqual(await service.capture(terminal, (await service.challenge(terminal, 'pi_1')).attemptId, frames), { outcome: 'face_pay_off' });
  });

  test('wrong digits on a look-alike are charged to each candidate the gallery names', async () => {
    const { service, state } = setup();
    state.identify = () => ({ outcome: 'ambiguous', candidates: ['shp_lookalike'] });
    for (let i = 0; i < 3; i++) {
      const { attemptId } = await service.challenge(terminal, 'pi_1');
      await service.capture(terminal, attemptId, frames);
      await service.capture(terminal, attemptId, frames, { phoneLast4: '0000' });
      await service.capture(terminal, attemptId, frames, { phoneLast4: '1111' });
      // Two wrong guesses per attempt: the fifth, in the third attempt, locks.
      assert.equal(state.locked.length > 0, i === 2);
    }
    assert.ok(state.locked.every((id) => id === 'shp_lookalike'));
  });

  test('liveness failure refuses the attempt; a blurred face may try again', async () => {
    const { service, state } = setup();
    state.verdict = { ok: false, liveness: true, code: 'challenge_failed', message: 'The head did not turn.' };
    const a = await service.challenge(terminal, 'pi_1');
    assert.equal((await service.capture(terminal, a.attemptId, frames)).outcome, 'liveness_failed');
    await assert.rejects(service.capture(terminal, a.attemptId, frames), { code: 'attempt_not_ready' });
    state.verdict = { ok: false, liveness: false, code: 'face_blurred', message: 'Hold still.' };
    const b = await service.challenge(terminal, 'pi_1');
    assert.equal((await service.capture(terminal, b.attemptId, frames)).outcome, 'retry');
  });

  test('a challenge is answered once: a second or racing capture is refused 409 challenge_used before any face work', async () => {
    const { service, state } = setup();
    state.verdict = { ok: false, liveness: false, code: 'face_blurred', message: 'Hold still.' };
    const a = await service.challenge(terminal, 'pi_1');
    const raced = await Promise.allSettled([service.capture(terminal, a.attemptId, frames), service.capture(terminal, a.attemptId, frames)]);
    assert.equal(raced.filter((r) => r.status === 'fulfilled').length, 1);
    const refused = raced.find((r) => r.status === 'rejected');
    assert.equal((refused as PromiseRejectedResult).reason.code, 'challenge_used');
    assert.equal((refused as PromiseRejectedResult).reason.kind, 'conflict');
    // The retry answer left the attempt open, yet its challenge is spent: a new one is needed.
    await assert.rejects(service.capture(terminal, a.attemptId, frames), { code: 'challenge_used' });
    assert.equal(state.verified, 1);
  });

  test("the digits' resend is judged on the window of the answer it repeats, not on its own late arrival", async () => {
    const { service, state, clock } = setup();
    state.identify = (digits) => (digits === undefined ? { outcome: 'ambiguous' } : { outcome: 'match', shopperId: 'shp_a', falseMatchProbability: 1e-7 });
    const { attemptId } = await service.challenge(terminal, 'pi_1');
    clock.advance(3_000);
    const first = clock.now().getTime();
    assert.equal((await service.capture(terminal, attemptId, frames)).outcome, 'ambiguous');
    clock.advance(30_000);
    assert.equal((await service.capture(terminal, attemptId, frames, { phoneLast4: '4321' })).outcome, 'match');
    assert.deepEqual(state.arrivals, [first, first]);
  });

  test('face pay switched off, unknown faces and the shopper limit', async () => {
    const { service, state } = setup();
    state.identify = () => ({ outcome: 'no_match' });
    assert.deepEqual(await service.capture(terminal, (await service.challenge(terminal, 'pi_1')).attemptId, frames), { outcome: 'no_match' });
    state.identify = () => ({ outcome: 'match', shopperId: 'shp_a', falseMatchProbability: 1e-7 });
    state.shoppers.set('shp_a', { id: 'shp_a', maskedName: 'A.', facePayEnabled: false, perPaymentLimit: null });
    assert.deepEqual(await service.capture(terminal, (await service.challenge(terminal, 'pi_1')).attemptId, frames), { outcome: 'face_pay_off' });
    state.shoppers.set('shp_a', { id: 'shp_a', maskedName: 'A.', facePayEnabled: true, perPaymentLimit: 1000 });
    const { attemptId } = await service.challenge(terminal, 'pi_1');
    const d = await service.capture(terminal, attemptId, frames);
    assert.equal(d.outcome === 'ambiguous' && d.reason, 'limit');
    assert.equal((await service.capture(terminal, attemptId, frames, { phoneLast4: '9999' })).outcome, 'match');
    await service.confirm(terminal, attemptId, { paymentId: 'pay_over_limit' });
    assert.equal(state.payments.get('pay_over_limit')?.method, 'face_digits');
  });

  test('another terminal cannot see or use an attempt, and stale attempts expire', async () => {
    const { service, clock } = setup();
    const { attemptId } = await service.challenge(terminal, 'pi_1');
    await assert.rejects(service.capture(otherTerminal, attemptId, frames), { code: 'attempt_not_found' });
    await assert.rejects(service.challenge(otherTerminal, 'pi_1'), { code: 'intent_not_found' });
    clock.advance(4 * 60 * 1000);
    await assert.rejects(service.capture(terminal, attemptId, frames), { code: 'attempt_expired' });
  });

  test('bad frames and bad digits are refused before any work', async () => {
    const { service } = setup();
    const { attemptId } = await service.challenge(terminal, 'pi_1');
    await assert.rejects(service.capture(terminal, attemptId, []), { code: 'frames_invalid' });
    await assert.rejects(service.capture(terminal, attemptId, Array(151).fill(frames[0])), { code: 'frames_invalid' });
    await assert.rejects(service.capture(terminal, attemptId, [{ at: 1, image: new Uint8Array(600 * 1024) }]), { code: 'frame_too_large' });
    await assert.rejects(service.capture(terminal, attemptId, frames, { phoneLast4: '12a4' }), { code: 'digits_invalid' });
  });

  test('a pay code pays once, and a retry with the same payment id gets the same answer', async () => {
    const { service, state } = setup();
    const first = await service.payWithCode(terminal, 'pi_1', '123456789012', 'pay_code_1');
    const retry = await service.payWithCode(terminal, 'pi_1', '123456789012', 'pay_code_1');
    assert.equal(first.status, 'succeeded');
    assert.equal(retry.status, 'succeeded');
    assert.equal(state.payments.size, 1);
    assert.equal(state.payments.get('pay_code_1')?.method, 'pay_code');
    await assert.rejects(service.payWithCode(terminal, 'pi_1', '123456789012', 'pay_code_2'), { code: 'pay_code_invalid' });
  });
});
