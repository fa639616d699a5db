import { DomainError, type Clock, type IdGenerator } from '../platform/index.ts';
import { decide, DEFAULT_RULES, satisfied, tighten, type RiskDecision, type RiskInput, type RiskRules, type RiskSettings } from '../risk/index.ts';
import type {
  CaptureFrame,
  ChallengeKind,
  Checkout,
  FaceCheck,
  Identifier,
  Offer,
  RiskContext,
  ShopperDirectory,
  ShopperView,
  TerminalRef,
} from './ports.ts';
import type { AttemptRepo, AttemptRow, AttemptState } from './repo.ts';

/** What the terminal is told after a capture (or after the digits). Never an image, a template or a shopper id. */
export type FacePayDecision =
  | {
      outcome: 'match';
      attemptId: string;
      maskedName: string;
      amount: number;
      amountDue: number;
      discount: number;
      currency: string;
      coupon?: Offer;
      offers: Offer[];
      membership?: { programme: string; fields: string[] };
    }
  /** Asks for the last four phone digits: `look_alike` when the gallery cannot tell who it is, `risk` when the engine wants a second factor. */
  | { outcome: 'ambiguous'; attemptId: string; attemptsLeft: number; reason: 'look_alike' | 'risk' }
  /** Asks for the shopper's 6-digit face-pay PIN on the keypad. */
  | { outcome: 'pin'; attemptId: string; attemptsLeft: number }
  | { outcome: 'no_match' }
  /** Face pay cannot be used for this payment (the risk engine's `no_face`): the shopper pays another way. */
  | { outcome: 'no_face' }
  | { outcome: 'face_pay_off' }
  | { outcome: 'liveness_failed'; code: string; message: string }
  | { outcome: 'retry'; code: string; message: string };

export interface PaymentOutcome {
  status: 'succeeded' | 'failed';
  paymentId: string;
  code?: string;
  message?: string;
}

export interface FacePayLimits {
  /** Frames per capture: the challenge needs a dense stream (10 a second), and each frame costs a model run. */
  maxFrames: number;
  maxFrameBytes: number;
  /** How long after the challenge the attempt may still be confirmed. */
  attemptTtlMs: number;
  digitsTries: number;
  pinTries: number;
  /** Wrong digits (or PINs) per shopper within `lockoutWindowMs` that lock their face pay. */
  lockoutFailures: number;
  lockoutWindowMs: number;
}

export const DEFAULT_FACE_PAY_LIMITS: FacePayLimits = {
  maxFrames: 150,
  maxFrameBytes: 512 * 1024,
  attemptTtlMs: 3 * 60 * 1000,
  digitsTries: 2,
  pinTries: 3,
  lockoutFailures: 5,
  lockoutWindowMs: 24 * 60 * 60 * 1000,
};

export interface FacePayDeps {
  attempts: AttemptRepo;
  face: FaceCheck;
  gallery: Identifier;
  shoppers: ShopperDirectory;
  checkout: Checkout;
  /** Terminal capability and where decisions are recorded; without it, a 2-D camera and no event. */
  risk?: RiskContext;
  /**
   * The platform's rules; the defaults of risk/rules.ts unless given. A function is asked at each
   * decision (the operator's limits change at run time). Settings may only tighten them.
   */
  riskRules?: RiskRules | (() => Promise<RiskRules>);
  clock: Clock;
  ids: IdGenerator;
  limits?: Partial<FacePayLimits>;
}

const DIGITS = /^\d{4}$/;
const PIN = /^\d{6}$/;
const SETTING_KEYS = ['faceAloneLimit', 'firstVisitFaceAloneLimit', 'faceMaxAmount', 'faceAloneMaxFalseMatch', 'terminalFailuresForPin', 'shopperFailuresForPin', 'alwaysSecondFactor'] as const;

export function createFacePayService(deps: FacePayDeps) {
  const { attempts, face, gallery, shoppers, checkout, clock, ids } = deps;
  const limits = { ...DEFAULT_FACE_PAY_LIMITS, ...deps.limits };
  const given = deps.riskRules ?? DEFAULT_RULES;
  const platformRules = typeof given === 'function' ? given : async (): Promise<RiskRules> => given;
  const riskContext: RiskContext = deps.risk ?? { terminalCapability: async () => 'camera_2d', recordDecision: async () => undefined };
  const now = (): number => clock.now().getTime();

  async function ownAttempt(terminal: TerminalRef, attemptId: string): Promise<AttemptRow> {
    const a = await attempts.get(attemptId);
    // Another terminal's attempt is answered exactly like a missing one.
    if (a === undefined || a.terminal_id !== terminal.terminalId || a.merchant_id !== terminal.merchantId)
      throw new DomainError('not_found', 'attempt_not_found', 'This face-pay attempt does not exist.');
    return a;
  }

  function checkFresh(a: AttemptRow): void {
    if (a.expires_at <= now()) throw new DomainError('conflict', 'attempt_expired', 'This attempt has expired: start again.');
  }

  async function move(a: AttemptRow, from: readonly AttemptState[], patch: Parameters<AttemptRepo['transition']>[2]): Promise<void> {
    if (!(await attempts.transition(a.id, from, { ...patch, updated_at: now() })))
      throw new DomainError('conflict', 'attempt_changed', 'This attempt was changed by another request: start again.');
  }

  /** A new attempt: what is not given starts empty. */
  function newAttempt(terminal: TerminalRef, intentId: string, fields: Partial<AttemptRow> & Pick<AttemptRow, 'method' | 'state'>): AttemptRow {
    const t = now();
    return {
      id: ids.next('fpa'),
      intent_id: intentId,
      merchant_id: terminal.merchantId,
      store_id: terminal.storeId,
      terminal_id: terminal.terminalId,
      challenge_id: null,
      challenge_kind: null,
      challenge_issued_at: null,
      challenge_expires_at: null,
      challenge_used_at: null,
      expires_at: t + limits.attemptTtlMs,
      outcome: null,
      shopper_id: null,
      digits_tries_left: 0,
      pin_tries_left: 0,
      risk_choice: null,
      risk_reasons: null,
      max_amount: null,
      second_factor: null,
      coupon_id: null,
      payment_id: null,
      created_at: t,
      updated_at: t,
      ...fields,
    };
  }

  /** One wrong second factor for this shopper; the fifth within the window locks their face pay. */
  async function chargeFailure(shopperId: string, a: AttemptRow, factor: 'digits' | 'pin'): Promise<void> {
    const t = now();
    const failures = await attempts.recordFailure(
      { id: ids.next('fpf'), shopper_id: shopperId, attempt_id: a.id, terminal_id: a.terminal_id, factor, at: t },
      t - limits.lockoutWindowMs,
    );
    if (failures >= limits.lockoutFailures) await shoppers.lockFacePay(shopperId, { code: 'too_many_wrong_factors', failures, merchantId: a.merchant_id });
  }

  /**
   * The risk engine's choice for this attempt, from the platform's rules tightened by the
   * merchant's and the shopper's settings. Kept on the attempt and in the intent's events.
   */
  async function assess(a: AttemptRow, terminal: TerminalRef, amount: number, identification: RiskInput['identification'], shopper?: ShopperView): Promise<RiskDecision> {
    const t = now();
    const rules = await platformRules();
    // The look-ups are independent: on PostgreSQL they go out together on the pool.
    const since = t - rules.recentWindowMs;
    const [merchantSettings, capability, terminalFailures, paidHereBefore, shopperFailures] = await Promise.all([
      attempts.riskSettings(a.merchant_id),
      riskContext.terminalCapability(terminal),
      attempts.terminalFailuresSince(a.terminal_id, since),
      shopper ? attempts.paidAtMerchant(shopper.id, a.merchant_id) : false,
      shopper ? attempts.shopperFailuresSince(shopper.id, since) : 0,
    ]);
    const own: RiskSettings | undefined = shopper ? { faceAloneLimit: shopper.perPaymentLimit } : undefined;
    const effective = tighten(rules, merchantSettings as RiskSettings | undefined, own);
    const decision = decide(
      {
        identification,
        // Only a passed challenge reaches the engine today; the liveness work adds its signals here.
        liveness: { challenge: 'passed' },
        terminal: { capability, recentFailures: terminalFailures },
        amount,
        ...(shopper ? { shopper: { paidHereBefore, recentFailures: shopperFailures, hasPin: shopper.hasPin } } : {}),
      },
      effective,
    );
    await riskContext.recordDecision({ merchantId: a.merchant_id, intentId: a.intent_id, attemptId: a.id, choice: decision.choice, reasons: decision.reasons, at: t });
    return decision;
  }

  const candidatesOf = (a: AttemptRow): string[] => {
    const list: unknown = a.candidates ? JSON.parse(a.candidates) : [];
    return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
  };

  const riskPatch = (d: RiskDecision) => ({ risk_choice: d.choice, risk_reasons: JSON.stringify(d.reasons) });

  /** The shopper is known and every factor the engine asked for has passed: the terminal shows the name and the offers. */
  /** `secondFactor`: what, with the face, settled who this is (the payment records it as its method). */
  async function matched(
    a: AttemptRow,
    terminal: TerminalRef,
    from: AttemptState,
    shopper: ShopperView,
    amount: number,
    currency: string,
    d: RiskDecision,
    secondFactor: 'digits' | 'pin' | null,
  ): Promise<FacePayDecision> {
    const offer = await checkout.offers(terminal, shopper.id, { amount, currency });
    await move(a, [from], { state: 'matched', shopper_id: shopper.id, coupon_id: offer.coupon?.id ?? null, max_amount: d.maxAmount, second_factor: secondFactor, ...riskPatch(d) });
    return {
      outcome: 'match',
      attemptId: a.id,
      maskedName: shopper.maskedName,
      amount,
      amountDue: amount - offer.discount,
      discount: offer.discount,
      currency,
      ...(offer.coupon ? { coupon: offer.coupon } : {}),
      offers: offer.offers,
      ...(offer.membership ? { membership: offer.membership } : {}),
    };
  }

  function validateFrames(frames: readonly CaptureFrame[]): void {
    if (frames.length < 1 || frames.length > limits.maxFrames)
      throw new DomainError('invalid', 'frames_invalid', `Send between 1 and ${limits.maxFrames} frames.`);
    for (const f of frames) {
      if (!Number.isSafeInteger(f.at)) throw new DomainError('invalid', 'frames_invalid', 'Each frame needs its capture time in epoch milliseconds.');
      if (f.image.byteLength > limits.maxFrameBytes)
        throw new DomainError('too_large', 'frame_too_large', `Each frame must be at most ${limits.maxFrameBytes} bytes.`);
    }
  }

  return {
    /** Starts a face payment: a fresh liveness challenge for this intent at this terminal. */
    async challenge(terminal: TerminalRef, intentId: string) {
      const intent = await checkout.intent(intentId, terminal);
      if (intent.status !== 'requires_face')
        throw new DomainError('conflict', 'intent_not_payable', 'This payment is no longer waiting for a face.', { status: intent.status });
      const challenge = face.issueChallenge();
      const row = newAttempt(terminal, intentId, {
        method: 'face',
        challenge_id: challenge.id,
        challenge_kind: challenge.kind,
        challenge_issued_at: challenge.issuedAt,
        challenge_expires_at: challenge.expiresAt,
        state: 'challenged',
        digits_tries_left: limits.digitsTries,
      });
      await attempts.insert(row);
      return { attemptId: row.id, challenge: { kind: challenge.kind, expiresAt: challenge.expiresAt } };
    },

    /**
     * Checks the frames against the challenge and decides who this is. With `phoneLast4` it is the
     * answer to an `ambiguous` decision: the terminal sends the same frames again with the digits,
     * so the server never has to keep a face between two requests.
     */
    async capture(terminal: TerminalRef, attemptId: string, frames: readonly CaptureFrame[], opts: { phoneLast4?: string } = {}): Promise<FacePayDecision> {
      validateFrames(frames);
      const a = await ownAttempt(terminal, attemptId);
      checkFresh(a);
      const digits = opts.phoneLast4;
      if (digits !== undefined && !DIGITS.test(digits)) throw new DomainError('invalid', 'digits_invalid', 'Enter the last four digits of your phone number.');
      const expected: AttemptState = digits === undefined ? 'challenged' : 'ask_digits';
      if (a.state !== expected)
        throw new DomainError('conflict', 'attempt_not_ready', digits === undefined ? 'This attempt has already been decided.' : 'Digits are not expected now.');
      if (a.challenge_id === null || a.challenge_kind === null || a.challenge_issued_at === null || a.challenge_expires_at === null)
        throw new DomainError('conflict', 'attempt_not_ready', 'This attempt has no challenge.');
      // The first answer uses the challenge up, whatever it turns out to be: a second request with
      // other frames (a replay, a retry of a forged answer) never reaches the face engine. The
      // digits' request resends the frames of the answer that passed, in the attempt's next state.
      const arrivedAt = digits === undefined ? now() : (a.challenge_used_at ?? now());
      if (digits === undefined && !(await attempts.useChallenge(a.id, arrivedAt)))
        throw new DomainError('conflict', 'challenge_used', 'This face check was already answered: start again.');

      const verdict = await face.verify(
        { id: a.challenge_id, kind: a.challenge_kind as ChallengeKind, issuedAt: a.challenge_issued_at, expiresAt: a.challenge_expires_at },
        frames,
        arrivedAt,
      );
      if (!verdict.ok) {
        if (verdict.liveness) {
          // The engine's answer to a failed challenge is always another way; it is recorded so the
          // merchant sees it among the payment's events like every other decision.
          const d = decide({ identification: { kind: 'look_alike' }, liveness: { challenge: 'failed' }, terminal: { capability: 'camera_2d', recentFailures: 0 }, amount: 0 }, await platformRules());
          await riskContext.recordDecision({ merchantId: a.merchant_id, intentId: a.intent_id, attemptId: a.id, choice: d.choice, reasons: d.reasons, at: now() });
          await move(a, [expected], { state: 'refused', outcome: 'liveness_failed', ...riskPatch(d) });
          return { outcome: 'liveness_failed', code: verdict.code, message: verdict.message };
        }
        // A blurred or turned face is not an attack: the shopper may simply try again.
        return { outcome: 'retry', code: verdict.code, message: verdict.message };
      }

      // The try is taken before the gallery sees the digits, atomically: a burst of guesses sent
      // together on one attempt is evaluated at most as many times as the attempt allows.
      let triesLeft = a.digits_tries_left;
      if (digits !== undefined) {
        const left = await attempts.takeDigitsTry(a.id, now());
        if (left === undefined) {
          await attempts.transition(a.id, ['ask_digits'], { state: 'refused', outcome: 'no_match', updated_at: now() });
          return { outcome: 'no_match' };
        }
        triesLeft = left;
      }

      const found = await gallery.identify(verdict.embedding, verdict.model, digits === undefined ? {} : { phoneLast4: digits });
      // Digits asked for a known shopper must name that same shopper.
      const wrongPerson = found.outcome === 'match' && a.shopper_id !== null && found.shopperId !== a.shopper_id;
      if ((found.outcome !== 'match' || wrongPerson) && digits !== undefined) {
        // The digits were wrong for whoever the face could be: charge it to each of them across
        // attempts and terminals (the look-alikes the first search named, kept on the attempt,
        // since the narrowed search only answers match or no_match).
        const charged = new Set<string>([...candidatesOf(a), ...(found.outcome === 'ambiguous' ? (found.candidates ?? []) : [])]);
        if (a.shopper_id !== null) charged.add(a.shopper_id);
        await attempts.recordTerminalFailure({ id: ids.next('fpf'), attempt_id: a.id, terminal_id: a.terminal_id, factor: 'digits', at: now() });
        for (const shopperId of charged) await chargeFailure(shopperId, a, 'digits');
        if (triesLeft <= 0) {
          await move(a, [expected], { state: 'refused', outcome: 'no_match' });
          return { outcome: 'no_match' };
        }
        return { outcome: 'ambiguous', attemptId: a.id, attemptsLeft: triesLeft, reason: a.shopper_id === null ? 'look_alike' : 'risk' };
      }
      if (found.outcome === 'no_match') {
        await move(a, [expected], { state: 'refused', outcome: 'no_match' });
        return { outcome: 'no_match' };
      }
      const intent = await checkout.intent(a.intent_id, terminal);
      if (found.outcome === 'ambiguous') {
        // Who it is is not known: only the digits can narrow the search, if the engine allows them at all.
        const d = await assess(a, terminal, intent.amount, { kind: 'look_alike' });
        if (d.choice === 'no_face') {
          await move(a, [expected], { state: 'refused', outcome: 'no_face', ...riskPatch(d) });
          return { outcome: 'no_face' };
        }
        await move(a, [expected], { state: 'ask_digits', digits_tries_left: triesLeft, candidates: JSON.stringify(found.candidates ?? []), ...riskPatch(d) });
        return { outcome: 'ambiguous', attemptId: a.id, attemptsLeft: triesLeft, reason: 'look_alike' };
      }

      const shopper = await shoppers.get(found.shopperId);
      if (shopper === undefined) {
        await move(a, [expected], { state: 'refused', outcome: 'no_match' });
        return { outcome: 'no_match' };
      }
      if (!shopper.facePayEnabled) {
        await move(a, [expected], { state: 'refused', outcome: 'face_pay_off' });
        return { outcome: 'face_pay_off' };
      }
      const d = await assess(a, terminal, intent.amount, { kind: 'match', falseMatchBound: found.falseMatchProbability }, shopper);
      if (satisfied(d.choice, { digits: digits !== undefined, pin: false })) return matched(a, terminal, expected, shopper, intent.amount, intent.currency, d, digits === undefined ? null : 'digits');
      switch (d.choice) {
        case 'face_digits':
          // The shopper is known here, so wrong digits from now on count towards their lockout.
          await move(a, [expected], { state: 'ask_digits', shopper_id: shopper.id, max_amount: d.maxAmount, ...riskPatch(d) });
          return { outcome: 'ambiguous', attemptId: a.id, attemptsLeft: a.digits_tries_left, reason: 'risk' };
        case 'face_pin':
          await move(a, [expected], { state: 'ask_pin', shopper_id: shopper.id, pin_tries_left: limits.pinTries, max_amount: d.maxAmount, ...riskPatch(d) });
          return { outcome: 'pin', attemptId: a.id, attemptsLeft: limits.pinTries };
        default:
          // Also what an amount above the face-alone limit meets when the shopper has no PIN: the
          // digits only narrow the search, so they never let face pay charge more than face alone.
          await move(a, [expected], { state: 'refused', outcome: 'no_face', shopper_id: shopper.id, ...riskPatch(d) });
          return { outcome: 'no_face' };
      }
    },

    /**
     * The shopper's face-pay PIN, typed on the terminal's keypad when the risk engine asked for it.
     * The try is taken atomically before the PIN is checked, and a wrong PIN counts towards the
     * shopper's lockout like wrong digits. The PIN is never stored, logged or answered.
     */
    async pin(terminal: TerminalRef, attemptId: string, pin: string): Promise<FacePayDecision> {
      if (typeof pin !== 'string' || !PIN.test(pin)) throw new DomainError('invalid', 'pin_invalid', 'Enter your 6-digit face-pay PIN.');
      const a = await ownAttempt(terminal, attemptId);
      checkFresh(a);
      if (a.state !== 'ask_pin' || a.shopper_id === null) throw new DomainError('conflict', 'attempt_not_ready', 'A PIN is not expected now.');
      const left = await attempts.takePinTry(a.id, now());
      if (left === undefined) {
        await attempts.transition(a.id, ['ask_pin'], { state: 'refused', outcome: 'no_match', updated_at: now() });
        return { outcome: 'no_match' };
      }
      if (!(await shoppers.verifyPin(a.shopper_id, pin))) {
        await attempts.recordTerminalFailure({ id: ids.next('fpf'), attempt_id: a.id, terminal_id: a.terminal_id, factor: 'pin', at: now() });
        await chargeFailure(a.shopper_id, a, 'pin');
        if (left <= 0) {
          await attempts.transition(a.id, ['ask_pin'], { state: 'refused', outcome: 'no_match', updated_at: now() });
          return { outcome: 'no_match' };
        }
        return { outcome: 'pin', attemptId: a.id, attemptsLeft: left };
      }
      const shopper = await shoppers.get(a.shopper_id);
      if (shopper === undefined || !shopper.facePayEnabled) {
        await move(a, ['ask_pin'], { state: 'refused', outcome: 'face_pay_off' });
        return { outcome: 'face_pay_off' };
      }
      const intent = await checkout.intent(a.intent_id, terminal);
      // The engine's decision that asked for the PIN holds: its bound is what this attempt may charge.
      const d: RiskDecision = { choice: 'face_pin', reasons: JSON.parse(a.risk_reasons ?? '[]') as RiskDecision['reasons'], maxAmount: a.max_amount ?? 0 };
      return matched(a, terminal, 'ask_pin', shopper, intent.amount, intent.currency, d, 'pin');
    },

    /**
     * The shopper tapped "pay". `paymentId` is made by the terminal and kept until a final answer:
     * a retry after a lost connection reaches the same payment, never a second one.
     */
    async confirm(terminal: TerminalRef, attemptId: string, opts: { paymentId: string; join?: string[] }): Promise<PaymentOutcome> {
      const a = await ownAttempt(terminal, attemptId);
      if (a.state === 'paid' || a.state === 'failed') {
        if (a.payment_id !== opts.paymentId) throw new DomainError('conflict', 'attempt_already_paid', 'This attempt was already used for a payment.');
      } else {
        if (a.state !== 'matched') throw new DomainError('conflict', 'attempt_not_ready', 'Nobody has been recognised for this attempt.');
        checkFresh(a);
      }
      if (a.shopper_id === null) throw new DomainError('conflict', 'attempt_not_ready', 'Nobody has been recognised for this attempt.');
      const result = await checkout.pay(a.intent_id, terminal, a.shopper_id, {
        paymentId: opts.paymentId,
        method: a.second_factor === 'digits' ? 'face_digits' : a.second_factor === 'pin' ? 'face_pin' : 'face',
        // The bound the risk engine set for the factors this attempt passed, checked again where the money moves.
        maxAmount: a.max_amount ?? 0,
        ...(a.coupon_id ? { couponId: a.coupon_id } : {}),
        ...(opts.join ? { join: opts.join } : {}),
      });
      const state = result.status === 'succeeded' ? 'paid' : 'failed';
      if (a.state === 'matched') await move(a, ['matched'], { state, payment_id: opts.paymentId, outcome: result.code ?? result.status });
      return { ...result, paymentId: opts.paymentId };
    },

    /** The merchant's own tightening of the risk rules (a loosening value is kept but has no effect). */
    async riskSettings(merchantId: string): Promise<{ settings: RiskSettings; effective: RiskRules }> {
      const settings = ((await attempts.riskSettings(merchantId)) ?? {}) as RiskSettings;
      return { settings, effective: tighten(await platformRules(), settings) };
    },

    async setRiskSettings(merchantId: string, input: RiskSettings): Promise<{ settings: RiskSettings; effective: RiskRules }> {
      const clean: Record<string, unknown> = {};
      for (const k of SETTING_KEYS) {
        const v = input[k];
        if (v === undefined || v === null) continue;
        if (k === 'alwaysSecondFactor' ? typeof v !== 'boolean' : typeof v !== 'number' || !Number.isFinite(v) || v < 0)
          throw new DomainError('invalid', 'risk_setting_invalid', `${k} must be ${k === 'alwaysSecondFactor' ? 'true or false' : 'a non-negative number'}.`);
        clean[k] = v;
      }
      await attempts.setRiskSettings(merchantId, clean, now());
      return this.riskSettings(merchantId);
    },

    /**
     * The shopper unlocked face pay with their password: the wrong digits and PINs counted against
     * them so far stop counting, for the lockout and for the risk engine's recent failures. The
     * terminals' own counts stay (they are about the terminal, not the shopper).
     */
    async clearShopperFailures(shopperId: string): Promise<void> {
      await attempts.clearFailures(shopperId, now());
    },

    /** The risk decision behind each of these paid intents (codes only), for the shopper's payment history. */
    decisionsFor(intentIds: readonly string[]) {
      return attempts.paidDecisions(intentIds);
    },

    /** The other way to pay: a one-time code from the shopper's portal, shown as a QR code or typed. */
    async payWithCode(terminal: TerminalRef, intentId: string, code: string, paymentId: string): Promise<PaymentOutcome> {
      const earlier = await attempts.byPaymentId(paymentId);
      if (earlier !== undefined) {
        if (earlier.intent_id !== intentId || earlier.terminal_id !== terminal.terminalId || earlier.shopper_id === null)
          throw new DomainError('conflict', 'payment_id_reused', 'This payment id was used for another payment.');
        // Sent again with the same code: if the first try died before its payment committed, the code is still unused and is used now.
        const shopper = earlier.shopper_id;
        const again = await checkout.pay(intentId, terminal, shopper, { paymentId, method: 'pay_code', inPayment: (tx) => shoppers.usePayCode(tx, code, shopper) });
        return { ...again, paymentId };
      }
      await checkout.intent(intentId, terminal);
      const shopperId = await shoppers.payCodeShopper(code);
      const row = newAttempt(terminal, intentId, { method: 'pay_code', state: 'matched', shopper_id: shopperId, payment_id: paymentId });
      await attempts.insert(row);
      const result = await checkout.pay(intentId, terminal, shopperId, { paymentId, method: 'pay_code', inPayment: (tx) => shoppers.usePayCode(tx, code, shopperId) });
      await move(row, ['matched'], { state: result.status === 'succeeded' ? 'paid' : 'failed', outcome: result.code ?? result.status });
      return { ...result, paymentId };
    },
  };
}

export type FacePayService = ReturnType<typeof createFacePayService>;
