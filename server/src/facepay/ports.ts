import type { ReasonCode, RiskChoice, TerminalCapability } from '../risk/index.ts';
import type { SqlExecutor } from '../storage/index.ts';
/**
 * What a face payment needs from the other modules, in the words of this module. The composition
 * root adapts the real face engine, gallery, shoppers, payments and marketing to these ports, so
 * that this flow is tested on its own and no other module learns about face-pay attempts.
 */

export type ChallengeKind = 'turn_left' | 'turn_right' | 'blink';

export interface ChallengeSpec {
  id: string;
  kind: ChallengeKind;
  issuedAt: number;
  expiresAt: number;
}

/** One camera frame as the terminal sent it: held in memory for the request, never stored. */
export interface CaptureFrame {
  /** When the terminal grabbed it, epoch ms. */
  at: number;
  image: Uint8Array;
}

export interface ModelId {
  name: string;
  version: string;
}

export type CaptureVerdict =
  | { ok: true; embedding: Float32Array; model: ModelId }
  | { ok: false; liveness: boolean; code: string; message: string };

export interface FaceCheck {
  issueChallenge(): ChallengeSpec;
  /** Quality, one face throughout, the challenge done as asked (the active liveness check); then one embedding. */
  /**
   * `arrivedAt` (server clock, epoch ms) closes the challenge's window: when the answer arrived,
   * or, for the digits' resend of an answer, when that answer first arrived.
   */
  verify(challenge: ChallengeSpec, frames: readonly CaptureFrame[], arrivedAt: number): Promise<CaptureVerdict>;
}

export type Identification =
  | { outcome: 'match'; shopperId: string; falseMatchProbability: number }
  /**
   * `candidates` are the shoppers the face could be, when the gallery names them: wrong digits are
   * charged to each of them, so guessing across attempts reaches the lockout.
   */
  | { outcome: 'ambiguous'; candidates?: string[] }
  | { outcome: 'no_match' };

export interface Identifier {
  /** With `phoneLast4` the search is limited to shoppers whose number ends so. */
  identify(probe: Float32Array, model: ModelId, opts: { phoneLast4?: string }): Promise<Identification>;
}

export interface ShopperView {
  id: string;
  maskedName: string;
  facePayEnabled: boolean;
  /** The shopper's own face-alone limit (the risk engine may only lower it further). */
  perPaymentLimit: number | null;
  /** Whether the shopper has set a face-pay PIN (the PIN itself never leaves the shoppers module). */
  hasPin: boolean;
}

export interface ShopperDirectory {
  get(shopperId: string): Promise<ShopperView | undefined>;
  /** The shopper behind a one-time pay code still unused, without using it; throws `pay_code_invalid`. */
  payCodeShopper(code: string): Promise<string>;
  /**
   * Uses the code inside the payment's own transaction (`tx`), so that a crash before the payment
   * commits leaves it unused; throws `pay_code_invalid` when it is used, expired or another shopper's.
   */
  usePayCode(tx: SqlExecutor, code: string, shopperId: string): Promise<void>;
  /**
   * Too many wrong second factors: face pay stays off for this shopper until they switch it on again
   * in the portal, and they are told in their inbox. Idempotent.
   */
  /** Checks a face-pay PIN against its stored hash; false when it is wrong or none is set. */
  verifyPin(shopperId: string, pin: string): Promise<boolean>;
  lockFacePay(shopperId: string, reason: { code: 'too_many_wrong_factors'; failures: number; merchantId: string }): Promise<void>;
}

export interface TerminalRef {
  merchantId: string;
  storeId: string;
  terminalId: string;
}

export interface IntentView {
  id: string;
  amount: number;
  currency: string;
  status: string;
}

export interface Offer {
  id: string;
  title: string;
}

export interface Basket {
  amount: number;
  currency: string;
}

export interface OfferView {
  discount: number;
  coupon?: Offer;
  offers: Offer[];
  /** The merchant's programme, when the shopper is not a member of it. */
  membership?: { programme: string; fields: string[] };
}

/**
 * How the shopper was identified for a payment, recorded with it: the face alone, the face and the
 * last digits of their phone, the face and their PIN, or a pay code (no face).
 */
export type PaidBy = 'face' | 'face_digits' | 'face_pin' | 'pay_code';

export interface Checkout {
  /** The intent as this terminal may see it; a not_found error when it belongs to another merchant. */
  intent(intentId: string, terminal: TerminalRef): Promise<IntentView>;
  offers(terminal: TerminalRef, shopperId: string, basket: Basket): Promise<OfferView>;
  /**
   * Charges the shopper. Idempotent on `paymentId`: the terminal retries it until a final answer.
   * Joins the programme first when `join` lists the fields the shopper agreed to share.
   */
  pay(
    intentId: string,
    terminal: TerminalRef,
    shopperId: string,
    opts: {
      paymentId: string;
      method: PaidBy;
      couponId?: string;
      join?: string[];
      inPayment?: (tx: SqlExecutor) => Promise<void>;
      /** The most this payment may charge, checked inside the payment's transaction (the risk engine's bound for the factors passed). */
      maxAmount?: number;
    },
  ): Promise<{ status: 'succeeded' | 'failed'; code?: string; message?: string }>;
}

/** One risk decision as the merchant sees it in the payment's events: codes only. */
export interface RecordedDecision {
  merchantId: string;
  intentId: string;
  attemptId: string;
  choice: RiskChoice;
  reasons: ReasonCode[];
  at: number;
}

/** What the risk engine needs from outside facepay, and where its decisions go. */
export interface RiskContext {
  terminalCapability(terminal: TerminalRef): Promise<TerminalCapability>;
  /** Writes the decision to the payment intent's event log (and so to its webhooks). */
  recordDecision(d: RecordedDecision): Promise<void>;
}
