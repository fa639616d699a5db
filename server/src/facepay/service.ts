import { DomainError, type Clock, type IdGenerator } from '../platform/index.ts';
import type {
  CaptureFrame,
  ChallengeKind,
  Checkout,
  FaceCheck,
  Identifier,
  Offer,
  ShopperDirectory,
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
  | { outcome: 'ambiguous'; attemptId: string; attemptsLeft: number; reason: 'look_alike' | 'limit' }
  | { outcome: 'no_match' }
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
  /** Wrong digits (or PINs) per shopper within `lockoutWindowMs` that lock their face pay. */
  lockoutFailures: number;
  lockoutWindowMs: number;
}

export const DEFAULT_FACE_PAY_LIMITS: FacePayLimits = {
  maxFrames: 150,
  maxFrameBytes: 512 * 1024,
  attemptTtlMs: 3 * 60 * 1000,
  digitsTries: 2,
  lockoutFailures: 5,
  lockoutWindowMs: 24 * 60 * 60 * 1000,
};

export interface FacePayDeps {
  attempts: AttemptRepo;
  face: FaceCheck;
  gallery: Identifier;
  shoppers: ShopperDirectory;
  checkout: Checkout;
  clock: Clock;
  ids: IdGenerator;
  limits?: Partial<FacePayLimits>;
}

const DIGITS = /^\d{4}$/;

export function createFacePayService(deps: FacePayDeps) {
  const { attempts, face, gallery, shoppers, checkout, clock, ids } = deps;
  const limits = { ...DEFAULT_FACE_PAY_LIMITS, ...deps.limits };
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
          await move(a, [expected], { state: 'refused', outcome: 'liveness_failed' });
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
      if (found.outcome !== 'match' && digits !== undefined) {
        // The digits were wrong for whoever the face could be: charge it to them across attempts.
        const charged = new Set<string>(found.outcome === 'ambiguous' ? found.candidates ?? [] : []);
        if (a.shopper_id !== null) charged.add(a.shopper_id);
        for (const shopperId of charged) await chargeFailure(shopperId, a, 'digits');
      }
      if (found.outcome !== 'match') {
        if (found.outcome === 'ambiguous' || (digits !== undefined && triesLeft > 0)) {
          if (triesLeft <= 0) {
            await move(a, [expected], { state: 'refused', outcome: 'no_match' });
            return { outcome: 'no_match' };
          }
          // With digits the try is already taken; without, the attempt now waits for the digits.
          if (digits === undefined) await move(a, [expected], { state: 'ask_digits', digits_tries_left: triesLeft });
          return { outcome: 'ambiguous', attemptId: a.id, attemptsLeft: triesLeft, reason: 'look_alike' };
        }
        await move(a, [expected], { state: 'refused', outcome: 'no_match' });
        return { outcome: 'no_match' };
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
      const intent = await checkout.intent(a.intent_id, terminal);
      // Above the shopper's own limit the digits are the second factor.
      if (digits === undefined && shopper.perPaymentLimit !== null && intent.amount > shopper.perPaymentLimit) {
        // The shopper is known here, so wrong digits from now on count towards their lockout.
        await move(a, [expected], { state: 'ask_digits', shopper_id: shopper.id });
        return { outcome: 'ambiguous', attemptId: a.id, attemptsLeft: a.digits_tries_left, reason: 'limit' };
      }
      const offer = await checkout.offers(terminal, shopper.id, { amount: intent.amount, currency: intent.currency });
      await move(a, [expected], {
        state: 'matched',
        shopper_id: shopper.id,
        coupon_id: offer.coupon?.id ?? null,
        second_factor: digits === undefined ? null : 'digits',
      });
      return {
        outcome: 'match',
        attemptId: a.id,
        maskedName: shopper.maskedName,
        amount: intent.amount,
        amountDue: intent.amount - offer.discount,
        discount: offer.discount,
        currency: intent.currency,
        ...(offer.coupon ? { coupon: offer.coupon } : {}),
        offers: offer.offers,
        ...(offer.membership ? { membership: offer.membership } : {}),
      };
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
        ...(a.coupon_id ? { couponId: a.coupon_id } : {}),
        ...(opts.join ? { join: opts.join } : {}),
      });
      const state = result.status === 'succeeded' ? 'paid' : 'failed';
      if (a.state === 'matched') await move(a, ['matched'], { state, payment_id: opts.paymentId, outcome: result.code ?? result.status });
      return { ...result, paymentId: opts.paymentId };
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
