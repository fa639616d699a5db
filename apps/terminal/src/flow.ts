/**
 * The terminal's screens as a pure state machine: `step(state, event)` gives the next state and
 * nothing else happens here. The app turns states into screens and server calls into events, so
 * every path a shopper can take (including a network cut in the middle of paying) is testable
 * without a browser.
 */

export interface Amount {
  /** Minor units. */
  amount: number;
  currency: string;
}

export interface Intent extends Amount {
  id: string;
  /** Set when the till created the intent; absent when the cashier typed the amount. */
  reference?: string;
  /** What the till says the payment is for ("2 coffees, 1 croissant"), shown with the amount. */
  description?: string;
}

export type Guidance = 'no_face' | 'no_face_dark' | 'come_closer' | 'too_close' | 'off_centre' | 'face_camera' | 'hold_still' | 'too_dark' | 'backlit' | 'one_person' | 'ok';

/** Why the face capture stopped before the challenge: the camera did not open, or no steady face in time (with the hint shown most). */
export type FaceProblem = { kind: 'camera'; problem: 'denied' | 'insecure' | 'no_camera' | 'in_use' | 'unavailable' } | { kind: 'timeout'; guidance: Guidance };

export interface Challenge {
  id: string;
  kind: 'turn_left' | 'turn_right' | 'blink';
  expiresAt: number;
}

export interface Offer {
  id: string;
  title: string;
}

export interface MatchDecision {
  outcome: 'match';
  /** The server's id for this identification; the confirmation quotes it. */
  attemptId: string;
  maskedName: string;
  amountDue: number;
  discount: number;
  coupon?: Offer;
  offers: Offer[];
  /** The merchant's programme, offered when the shopper is not yet a member. */
  membership?: { programme: string; fields: string[] };
}

export type Decision =
  | MatchDecision
  | { outcome: 'ambiguous'; attemptId: string; attemptsLeft: number }
  /** The risk engine wants the shopper's 6-digit face-pay PIN. */
  | { outcome: 'pin'; attemptId: string; attemptsLeft: number }
  | { outcome: 'no_match' }
  /** The risk engine sends this payment another way (above the face limits, no PIN set, a terminal under attack). */
  | { outcome: 'no_face' }
  | { outcome: 'face_pay_off' }
  | { outcome: 'liveness_failed' }
  | { outcome: 'retry'; code: string; message: string }
  | { outcome: 'refused'; code: string; message: string };

/** How the payment being made was authorised: the confirmed face attempt, or a pay code. */
export type PayVia = { method: 'face'; attemptId: string; join?: string[] } | { method: 'pay_code'; code: string };

export type OtherWayReason = 'no_match' | 'face_pay_off' | 'liveness_failed' | 'digits_failed' | 'pin_failed' | 'no_face' | 'shopper_choice' | 'refused' | 'pay_code_rejected';

export type State =
  | { screen: 'idle'; typed: string }
  | { screen: 'amount'; intent: Intent }
  /** `notice`, `noticeCode`: why the last capture was refused (the server's text and its stable code). */
  | { screen: 'scanning'; intent: Intent; guidance: Guidance; notice?: string; noticeCode?: string }
  /** The capture stopped before the challenge; the shopper may try again or pay another way. */
  | { screen: 'face_problem'; intent: Intent; problem: FaceProblem }
  | { screen: 'challenge'; intent: Intent; challenge: Challenge }
  | { screen: 'deciding'; intent: Intent }
  | { screen: 'confirm'; intent: Intent; decision: MatchDecision }
  | { screen: 'digits'; intent: Intent; attemptId: string; entered: string; attemptsLeft: number }
  | { screen: 'pin'; intent: Intent; attemptId: string; entered: string; attemptsLeft: number }
  /** `rejectedCode`: the pay code just refused, put back in the box to be corrected. */
  | { screen: 'other_way'; intent: Intent; reason: OtherWayReason; message?: string; code: string; rejectedCode?: string }
  /** `amountDue`: what is charged, where a coupon made it less than the intent's amount. */
  | { screen: 'paying'; intent: Intent; paymentId: string; via: PayVia; retries: number; offline: boolean; amountDue?: number }
  /** `code`: the platform's reason when the payment failed. */
  | { screen: 'done'; intent: Intent; outcome: 'succeeded' | 'failed' | 'cancelled'; message: string; code?: string; amountDue?: number };

export type Event =
  | { type: 'key'; key: string }
  | { type: 'intent'; intent: Intent }
  | { type: 'start_face' }
  | { type: 'guidance'; guidance: Guidance }
  | { type: 'face_problem'; problem: FaceProblem }
  | { type: 'challenge'; challenge: Challenge }
  | { type: 'captured' }
  | { type: 'decision'; decision: Decision }
  /** `join`: the shopper tapped "join and pay", which joins the programme offered with all its fields. */
  | { type: 'confirm'; paymentId: string; join?: boolean }
  | { type: 'pay_code'; code: string; paymentId: string }
  | { type: 'other_way' }
  | { type: 'retrying'; offline: boolean }
  /** `code`: the platform's reason for a failure. */
  | { type: 'paid'; outcome: 'succeeded' | 'failed'; message?: string; code?: string }
  | { type: 'cancel' }
  | { type: 'reset' };

export const initialState: State = { screen: 'idle', typed: '' };

const MAX_TYPED_DIGITS = 9;

/**
 * Refusals of a pay code that leave the payment open (the code was checked before any money
 * moved): the shopper may type it again or show a new one, rather than see "Not paid".
 */
const PAY_CODE_RETRYABLE = new Set(['pay_code_invalid']);

function typedDigit(typed: string, key: string): string {
  if (key === 'back') return typed.slice(0, -1);
  if (key === 'clear') return '';
  if (/^\d$/.test(key) && typed.length < MAX_TYPED_DIGITS && !(typed === '' && key === '0')) return typed + key;
  return typed;
}

function otherWay(intent: Intent, reason: OtherWayReason, message?: string, code: string = reason): State {
  return { screen: 'other_way', intent, reason, code, ...(message !== undefined ? { message } : {}) };
}

function afterDecision(intent: Intent, d: Decision): State {
  switch (d.outcome) {
    case 'match':
      return { screen: 'confirm', intent, decision: d };
    case 'ambiguous':
      return { screen: 'digits', intent, attemptId: d.attemptId, entered: '', attemptsLeft: d.attemptsLeft };
    case 'pin':
      return { screen: 'pin', intent, attemptId: d.attemptId, entered: '', attemptsLeft: d.attemptsLeft };
    case 'refused':
      return otherWay(intent, 'refused', d.message, d.code);
    case 'retry':
      return { screen: 'scanning', intent, guidance: 'no_face', notice: d.message, noticeCode: d.code };
    default:
      return otherWay(intent, d.outcome);
  }
}

/** The intent of any state that has one. */
export function intentOf(s: State): Intent | undefined {
  return s.screen === 'idle' ? undefined : s.intent;
}

export function step(s: State, e: Event): State {
  if (e.type === 'reset') return initialState;
  // Once the payment is on its way only its outcome moves the screen on: a cancel now could
  // leave the shopper charged with the terminal showing "cancelled".
  if (s.screen === 'paying') {
    if (e.type === 'retrying') return { ...s, retries: s.retries + 1, offline: e.offline };
    if (e.type === 'paid' && e.outcome === 'failed' && s.via.method === 'pay_code' && e.code !== undefined && PAY_CODE_RETRYABLE.has(e.code))
      return { screen: 'other_way', intent: s.intent, reason: 'pay_code_rejected', code: e.code, rejectedCode: s.via.code };
    if (e.type === 'paid')
      return {
        screen: 'done',
        intent: s.intent,
        outcome: e.outcome,
        message: e.message ?? (e.outcome === 'succeeded' ? 'Paid. Thank you!' : 'The payment did not go through.'),
        ...(e.outcome === 'failed' && e.code !== undefined ? { code: e.code } : {}),
        ...(s.amountDue !== undefined ? { amountDue: s.amountDue } : {}),
      };
    return s;
  }
  if (e.type === 'cancel') {
    const intent = intentOf(s);
    return intent === undefined || s.screen === 'done' ? s : { screen: 'done', intent, outcome: 'cancelled', message: 'Payment cancelled.' };
  }
  switch (s.screen) {
    case 'idle':
      if (e.type === 'intent') return { screen: 'amount', intent: e.intent };
      if (e.type === 'key') return { screen: 'idle', typed: typedDigit(s.typed, e.key) };
      return s;
    case 'amount':
      if (e.type === 'start_face') return { screen: 'scanning', intent: s.intent, guidance: 'no_face' };
      if (e.type === 'other_way') return otherWay(s.intent, 'shopper_choice');
      return s;
    case 'scanning':
      if (e.type === 'guidance') return { ...s, guidance: e.guidance };
      if (e.type === 'challenge') return { screen: 'challenge', intent: s.intent, challenge: e.challenge };
      if (e.type === 'face_problem') return { screen: 'face_problem', intent: s.intent, problem: e.problem };
      if (e.type === 'other_way') return otherWay(s.intent, 'shopper_choice');
      return s;
    case 'face_problem':
      if (e.type === 'start_face') return { screen: 'scanning', intent: s.intent, guidance: 'no_face' };
      if (e.type === 'other_way') return otherWay(s.intent, 'shopper_choice');
      return s;
    case 'challenge':
      if (e.type === 'captured') return { screen: 'deciding', intent: s.intent };
      if (e.type === 'other_way') return otherWay(s.intent, 'shopper_choice');
      return s;
    case 'deciding':
      if (e.type === 'decision') return afterDecision(s.intent, e.decision);
      return s;
    case 'confirm':
      if (e.type === 'confirm') {
        const join = e.join ? s.decision.membership?.fields : undefined;
        const via: PayVia = { method: 'face', attemptId: s.decision.attemptId, ...(join ? { join } : {}) };
        const due = s.decision.discount > 0 ? { amountDue: s.decision.amountDue } : {};
        return { screen: 'paying', intent: s.intent, paymentId: e.paymentId, via, retries: 0, offline: false, ...due };
      }
      if (e.type === 'other_way') return otherWay(s.intent, 'shopper_choice');
      return s;
    case 'digits':
      if (e.type === 'key') {
        if (e.key === 'back') return { ...s, entered: s.entered.slice(0, -1) };
        if (/^\d$/.test(e.key) && s.entered.length < 4) return { ...s, entered: s.entered + e.key };
        return s;
      }
      if (e.type === 'decision') {
        if (e.decision.outcome === 'no_match') return otherWay(s.intent, 'digits_failed');
        return afterDecision(s.intent, e.decision);
      }
      if (e.type === 'other_way') return otherWay(s.intent, 'shopper_choice');
      return s;
    case 'pin':
      if (e.type === 'key') {
        if (e.key === 'back') return { ...s, entered: s.entered.slice(0, -1) };
        if (e.key === 'clear') return { ...s, entered: '' };
        if (/^\d$/.test(e.key) && s.entered.length < 6) return { ...s, entered: s.entered + e.key };
        return s;
      }
      if (e.type === 'decision') {
        if (e.decision.outcome === 'no_match') return otherWay(s.intent, 'pin_failed');
        return afterDecision(s.intent, e.decision);
      }
      if (e.type === 'other_way') return otherWay(s.intent, 'shopper_choice');
      return s;
    case 'other_way':
      if (e.type === 'pay_code')
        return { screen: 'paying', intent: s.intent, paymentId: e.paymentId, via: { method: 'pay_code', code: e.code }, retries: 0, offline: false };
      if (e.type === 'start_face' && (s.reason === 'shopper_choice' || s.reason === 'pay_code_rejected')) return { screen: 'scanning', intent: s.intent, guidance: 'no_face' };
      return s;
    case 'done':
      return s;
  }
}
