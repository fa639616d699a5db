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
    shoppers: new Map<string, ShopperView>([['shp_a', { id: 'shp_a', maskedName: 'A**** W.', facePayEnabled: true, perPaymentLimit: null, hasPin: false }]]),
    pins: new Map<string, string>(),
    pinChecks: 0,
    decisions: [] as { choice: string; reasons: string[]; intentId: string }[],
    payCodes: new Map<string, string>([['123456789012', 'shp_a']]),
    intents: new Map([['pi_1', { id: 'pi_1', amount: 1500, currency: 'EUR', status: 'requires_face', merchantId: 'mer_1' }]]),
    payments: new Map<string, { shopperId: string; method: string; couponId?: string; join?: string[]; maxAmount?: number }>(),
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
      const i = state.intents.get(intentId);
      // As the real payments module does inside the payment's transaction (tested in payments.test.ts).
      if (opts.maxAmount !== undefined && i !== undefined && i.amount - (opts.couponId ? 200 : 0) > opts.maxAmount) return { status: 'failed', code: 'face_limit_exceeded' };
      if (!state.payments.has(opts.paymentId)) await opts.inPayment?.({} as never);
      if (!state.payments.has(opts.paymentId))
        state.payments.set(opts.paymentId, { shopperId, method: opts.method, ...(opts.couponId ? { couponId: opts.couponId } : {}), ...(opts.join ? { join: opts.join } : {}) });
      if (i) i.status = 'succeeded';
      return { status: 'succeeded' };
    },
  };
  return { state, checkout };
}

describeEachDb('face pay', facePayMigrations, (getDb) => {
  const ids = sequentialIds();
  let setups = 0;
  const setup = () => {
    const w = world();
    // Each test starts ten days after the last: the failures it records are out of the next one's windows.
    const clock = new ManualClock(new Date(Date.parse('2026-11-25T12:00:00Z') + setups++ * 10 * 86_400_000));
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
        verifyPin: async (id, pin) => {
          w.state.pinChecks++;
          await new Promise((r) => setTimeout(r, 5));
          return w.state.pins.get(id) === pin;
        },
        lockFacePay: async (id) => {
          w.state.locked.push(id);
          const s = w.state.shoppers.get(id);
          if (s) w.state.shoppers.set(id, { ...s, facePayEnabled: false });
        },
      },
      checkout: w.checkout,
      risk: {
        terminalCapability: async () => 'camera_2d',
        recordDecision: async (d) => {
          w.state.decisions.push({ choice: d.choice, reasons: d.reasons, intentId: d.intentId });
        },
      },
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
    // A bound above the face-alone rule: the engine asks this known shopper for the digits.
    state.identify = (digits) => (digits === undefined ? { outcome: 'match', shopperId: 'shp_a', falseMatchProbability: 5e-6 } : { outcome: 'no_match' });
    const wrong = async () => {
      const { attemptId } = await service.challenge(terminal, 'pi_1');
      const d = await service.capture(terminal, attemptId, frames);
      assert.equal(d.outcome === 'ambiguous' && d.reason, 'risk');
      await service.capture(terminal, attemptId, frames, { phoneLast4: '0000' });
      await service.capture(terminal, attemptId, frames, { phoneLast4: '1111' });
      // The next attempt meets the engine's rule on recent wrong factors: no more digits for this shopper.
      clock.advance(61 * 60 * 1000);
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

  test('after two wrong factors within the hour the digits no longer do: the PIN, or another way', async () => {
    const { service, state } = setup();
    state.identify = (digits) => (digits === undefined ? { outcome: 'match', shopperId: 'shp_a', falseMatchProbability: 5e-6 } : { outcome: 'no_match' });
    const first = await service.challenge(terminal, 'pi_1');
    await service.capture(terminal, first.attemptId, frames);
    await service.capture(terminal, first.attemptId, frames, { phoneLast4: '0000' });
    await service.capture(terminal, first.attemptId, frames, { phoneLast4: '1111' });
    assert.deepEqual(await service.capture(terminal, (await service.challenge(terminal, 'pi_1')).attemptId, frames), { outcome: 'no_face' });
    state.shoppers.set('shp_a', { ...state.shoppers.get('shp_a')!, hasPin: true });
    const d = await service.capture(terminal, (await service.challenge(terminal, 'pi_1')).attemptId, frames);
    assert.equal(d.outcome, 'pin');
    assert.ok(state.decisions.at(-1)!.reasons.includes('shopper_recent_failures'));
  });

  test('wrong digits on a look-alike are charged to each candidate the first search named', async () => {
    const { service, state } = setup();
    // As the real gallery answers: the candidates come with the ambiguous decision, and the search
    // narrowed to wrong digits answers only no_match.
    state.identify = (digits) => (digits === undefined ? { outcome: 'ambiguous', candidates: ['shp_lookalike', 'shp_twin'] } : { outcome: 'no_match' });
    for (let i = 0; i < 3; i++) {
      const { attemptId } = await service.challenge(terminal, 'pi_1');
      await service.capture(terminal, attemptId, frames);
      await service.capture(terminal, attemptId, frames, { phoneLast4: '0000' });
      await service.capture(terminal, attemptId, frames, { phoneLast4: '1111' });
      // Two wrong guesses per attempt: the fifth, in the third attempt, locks each of them.
      assert.equal(state.locked.length > 0, i === 2);
    }
    assert.deepEqual([...new Set(state.locked)].sort(), ['shp_lookalike', 'shp_twin']);
  });

  test("a candidate's lockout is shared: wrong digits as someone's look-alike add to their own wrong factors", async () => {
    const { service, state, clock } = setup();
    const till = { ...terminal, terminalId: 'trm_2' };
    state.shoppers.set('shp_b', { id: 'shp_b', maskedName: 'B**** K.', facePayEnabled: true, perPaymentLimit: null, hasPin: false });
    // First shp_b, known by the face but asked for the digits by the engine, gets them wrong twice.
    state.identify = (digits) => (digits === undefined ? { outcome: 'match', shopperId: 'shp_b', falseMatchProbability: 5e-6 } : { outcome: 'no_match' });
    const own = await service.challenge(till, 'pi_1');
    assert.equal((await service.capture(till, own.attemptId, frames)).outcome, 'ambiguous');
    await service.capture(till, own.attemptId, frames, { phoneLast4: '0000' });
    await service.capture(till, own.attemptId, frames, { phoneLast4: '1111' });
    clock.advance(61 * 60 * 1000);
    // Then, at another terminal, a face that could be shp_a or shp_b, with three wrong guesses.
    state.identify = (digits) => (digits === undefined ? { outcome: 'ambiguous', candidates: ['shp_a', 'shp_b'] } : { outcome: 'no_match' });
    for (const guesses of [['2222', '3333'], ['4444']]) {
      const { attemptId } = await service.challenge(terminal, 'pi_1');
      assert.equal((await service.capture(terminal, attemptId, frames)).outcome, 'ambiguous');
      for (const g of guesses) await service.capture(terminal, attemptId, frames, { phoneLast4: g });
    }
    // shp_b has five wrong factors within the day and is locked; shp_a has three.
    assert.deepEqual(state.locked, ['shp_b']);
    state.identify = () => ({ outcome: 'match', shopperId: 'shp_b', falseMatchProbability: 1e-9 });
    assert.deepEqual(await service.capture(till, (await service.challenge(till, 'pi_1')).attemptId, frames), { outcome: 'face_pay_off' });
  });

  test('wrong digits on look-alikes nobody is charged for still count at the terminal: new attempts stop bringing new tries', async () => {
    const { service, state, clock } = setup();
    state.identify = () => ({ outcome: 'ambiguous' });
    let guesses = 0;
    let offered = 0;
    for (let i = 0; i < 10; i++) {
      const { attemptId } = await service.challenge(terminal, 'pi_1');
      const d = await service.capture(terminal, attemptId, frames);
      if (d.outcome === 'no_face') break;
      offered++;
      for (const g of ['0000', '1111']) {
        guesses++;
        await service.capture(terminal, attemptId, frames, { phoneLast4: g });
      }
    }
    // Five wrong digits within the hour at this terminal close the digits there: the third attempt
    // starts at four, so six guesses in all, and not 10,000 in an hour.
    assert.equal(offered, 3);
    assert.equal(guesses, 6);
    assert.deepEqual(state.decisions.at(-1)?.reasons, ['look_alike', 'terminal_recent_failures']);
    // An hour later the terminal offers the digits again.
    clock.advance(61 * 60 * 1000);
    assert.equal((await service.capture(terminal, (await service.challenge(terminal, 'pi_1')).attemptId, frames)).outcome, 'ambiguous');
  });

  test('liveness failure refuses the attempt; a blurred face may try again', async () => {
    const { service, state } = setup();
    state.verdict = { ok: false, liveness: true, code: 'challenge_failed', message: 'The head did not turn.' };
    const a = await service.challenge(terminal, 'pi_1');
    assert.equal((await service.capture(terminal, a.attemptId, frames)).outcome, 'liveness_failed');
    assert.deepEqual(state.decisions.at(-1), { choice: 'no_face', reasons: ['liveness_failed'], intentId: 'pi_1' });
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
    state.shoppers.set('shp_a', { id: 'shp_a', maskedName: 'A.', facePayEnabled: false, perPaymentLimit: null, hasPin: false });
    assert.deepEqual(await service.capture(terminal, (await service.challenge(terminal, 'pi_1')).attemptId, frames), { outcome: 'face_pay_off' });
    // Above the shopper's own face-alone limit without a PIN: another way to pay, never the digits.
    state.shoppers.set('shp_a', { id: 'shp_a', maskedName: 'A.', facePayEnabled: true, perPaymentLimit: 1000, hasPin: false });
    assert.deepEqual(await service.capture(terminal, (await service.challenge(terminal, 'pi_1')).attemptId, frames), { outcome: 'no_face' });
    assert.deepEqual(state.decisions.at(-1), { choice: 'no_face', reasons: ['false_match_bound_ok', 'amount_above_face_alone_limit', 'pin_not_set'], intentId: 'pi_1' });
  });

  test("above the shopper's face-alone limit the digits never lead to a charge above it", async () => {
    const { service, state } = setup();
    state.shoppers.set('shp_a', { id: 'shp_a', maskedName: 'A.', facePayEnabled: true, perPaymentLimit: 1000, hasPin: false });
    state.identify = () => ({ outcome: 'match', shopperId: 'shp_a', falseMatchProbability: 1e-7 });
    const { attemptId } = await service.challenge(terminal, 'pi_1');
    const first = await service.capture(terminal, attemptId, frames);
    assert.notEqual(first.outcome, 'match');
    // Whatever the terminal sends next, the right digits included, nothing above 1000 is charged.
    await service.capture(terminal, attemptId, frames, { phoneLast4: '9999' }).catch(() => undefined);
    await service.confirm(terminal, attemptId, { paymentId: 'pay_limit' }).catch(() => undefined);
    assert.equal(state.payments.size, 0);
  });

  test('above the face-alone limit a shopper with a PIN pays with face and PIN, up to the largest face payment', async () => {
    const { service, state } = setup();
    state.shoppers.set('shp_a', { id: 'shp_a', maskedName: 'A.', facePayEnabled: true, perPaymentLimit: 1000, hasPin: true });
    state.pins.set('shp_a', '482915');
    const { attemptId } = await service.challenge(terminal, 'pi_1');
    assert.deepEqual(await service.capture(terminal, attemptId, frames), { outcome: 'pin', attemptId, attemptsLeft: 3 });
    // The digits are not what this attempt waits for.
    await assert.rejects(service.capture(terminal, attemptId, frames, { phoneLast4: '9999' }), { code: 'attempt_not_ready' });
    await assert.rejects(service.pin(terminal, attemptId, '12345'), { code: 'pin_invalid' });
    assert.deepEqual(await service.pin(terminal, attemptId, '000001'), { outcome: 'pin', attemptId, attemptsLeft: 2 });
    assert.equal((await service.pin(terminal, attemptId, '482915')).outcome, 'match');
    assert.equal((await service.confirm(terminal, attemptId, { paymentId: 'pay_pin' })).status, 'succeeded');
    assert.equal(state.payments.size, 1);
    assert.deepEqual(state.decisions.at(-1), { choice: 'face_pin', reasons: ['false_match_bound_ok', 'amount_above_face_alone_limit'], intentId: 'pi_1' });
  });

  test('50 concurrent wrong PINs on one attempt are checked at most as often as it allows', async () => {
    const { service, state } = setup();
    state.shoppers.set('shp_a', { id: 'shp_a', maskedName: 'A.', facePayEnabled: true, perPaymentLimit: 1000, hasPin: true });
    state.pins.set('shp_a', '482915');
    const { attemptId } = await service.challenge(terminal, 'pi_1');
    await service.capture(terminal, attemptId, frames);
    const guesses = Array.from({ length: 50 }, (_, i) => String(100_000 + i));
    guesses[49] = '482915';
    const results = await Promise.allSettled(guesses.map((g) => service.pin(terminal, attemptId, g)));
    assert.ok(state.pinChecks <= 3, `checked ${state.pinChecks}`);
    // The right PIN among 49 wrong ones matches only if it was one of the three tries.
    const matched = results.filter((r) => r.status === 'fulfilled' && r.value.outcome === 'match').length;
    assert.ok(matched <= 1);
    await assert.rejects(service.pin(terminal, attemptId, '482915'), { code: 'attempt_not_ready' });
  });

  test('wrong PINs count across attempts: the fifth within a day locks face pay', async () => {
    const { service, state } = setup();
    state.shoppers.set('shp_a', { id: 'shp_a', maskedName: 'A.', facePayEnabled: true, perPaymentLimit: 1000, hasPin: true });
    state.pins.set('shp_a', '482915');
    for (let i = 0; i < 2; i++) {
      const { attemptId } = await service.challenge(terminal, 'pi_1');
      assert.equal((await service.capture(terminal, attemptId, frames)).outcome, 'pin');
      await service.pin(terminal, attemptId, '111112');
      await service.pin(terminal, attemptId, '111113');
    }
    assert.deepEqual(state.locked, []);
    const { attemptId } = await service.challenge(terminal, 'pi_1');
    assert.equal((await service.capture(terminal, attemptId, frames)).outcome, 'pin');
    await service.pin(terminal, attemptId, '111114');
    assert.deepEqual(state.locked, ['shp_a']);
    // Locked means off, even for the right PIN on the attempt still open.
    assert.deepEqual(await service.pin(terminal, attemptId, '482915'), { outcome: 'face_pay_off' });
  });

  test("a merchant's settings tighten the rules; a loosening one changes nothing", async () => {
    const { service, state } = setup();
    const m = 'mer_1';
    await service.setRiskSettings(m, { faceAloneLimit: 1_000_000, faceMaxAmount: 10_000_000 });
    assert.deepEqual((await service.riskSettings(m)).effective.faceAloneLimit.camera_2d, 20_000);
    let d = await service.capture(terminal, (await service.challenge(terminal, 'pi_1')).attemptId, frames);
    assert.equal(d.outcome, 'match');
    await service.setRiskSettings(m, { faceAloneLimit: 1_000 });
    d = await service.capture(terminal, (await service.challenge(terminal, 'pi_1')).attemptId, frames);
    assert.equal(d.outcome, 'no_face');
    assert.ok(state.decisions.at(-1)!.reasons.includes('amount_above_face_alone_limit'));
    await assert.rejects(service.setRiskSettings(m, { faceAloneLimit: -5 }), { code: 'risk_setting_invalid' });
    await service.setRiskSettings(m, {});
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
