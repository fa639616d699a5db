export type IntentStatus = 'requires_face' | 'processing' | 'succeeded' | 'failed' | 'cancelled';

/**
 * Test and live are two separate worlds: a test intent is made by a test key, paid only by a
 * merchant's own test shoppers from test wallets into the merchant's test account, and is reached
 * only by test keys; a live one only by live keys, staff sessions and terminals.
 */
export type Mode = 'test' | 'live';

/**
 * How the shopper proved who they were for a payment, recorded with the payment when it succeeds:
 * the face alone, the face and the last digits of their phone, the face and their PIN, or a
 * one-time pay code (no face at all). Payments confirmed by the API's test helpers record none.
 */
export type PaymentMethod = 'face' | 'face_digits' | 'face_pin' | 'pay_code';

export const PAYMENT_METHODS: readonly PaymentMethod[] = ['face', 'face_digits', 'face_pin', 'pay_code'];

export interface PaymentIntent {
  id: string;
  merchantId: string;
  mode: Mode;
  storeId: string;
  terminalId: string | null;
  amount: number;
  currency: string;
  status: IntentStatus;
  orderReference: string | null;
  description: string | null;
  metadata: Record<string, string>;
  /** Who paid; never shown to the merchant. */
  shopperId: string | null;
  platformFee: number | null;
  /** What a coupon took off (minor units, 0 <= discount < amount): the shopper paid amount - discount. */
  discount: number;
  /** The coupon that paid the discount, if any. */
  couponId: string | null;
  /** How the shopper was identified (set when the payment succeeds; null when none was recorded). */
  paymentMethod: PaymentMethod | null;
  amountRefunded: number;
  failureCode: string | null;
  failureMessage: string | null;
  idempotencyKey: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface Refund {
  id: string;
  merchantId: string;
  mode: Mode;
  paymentIntentId: string;
  amount: number;
  currency: string;
  feeRefunded: number;
  status: 'succeeded';
  reason: string | null;
  metadata: Record<string, string>;
  idempotencyKey: string | null;
  /** Made by a staff member with a refund limit (a cashier): such refunds add up against the limit. */
  staffLimited: boolean;
  createdAt: number;
}

export interface CreateIntentInput {
  amount: number;
  currency: string;
  storeId: string;
  terminalId?: string | undefined;
  orderReference?: string | undefined;
  description?: string | undefined;
  metadata?: Record<string, string> | undefined;
}

/** What a merchant searches its payment intents by; every field narrows, none is required. */
export interface IntentFilter {
  storeId?: string | undefined;
  terminalId?: string | undefined;
  status?: IntentStatus | undefined;
  orderReference?: string | undefined;
  orderReferencePrefix?: string | undefined;
  /** Epoch ms, inclusive. */
  createdFrom?: number | undefined;
  /** Epoch ms, exclusive. */
  createdTo?: number | undefined;
  /** On `amount` (before any coupon), inclusive, minor units. */
  amountMin?: number | undefined;
  amountMax?: number | undefined;
}

export const INTENT_STATUSES: readonly IntentStatus[] = ['requires_face', 'processing', 'succeeded', 'failed', 'cancelled'];

export interface CreateRefundInput {
  paymentIntentId: string;
  /** Defaults to what is left to refund. */
  amount?: number | undefined;
  reason?: string | undefined;
  metadata?: Record<string, string> | undefined;
}

export interface PaymentsConfig {
  /** Platform fee in basis points (1/100 of a percent) of each payment, rounded down. */
  platformFeeBps: number;
  /** The most a shopper may pay in one payment, in minor units (any currency). */
  shopperPaymentLimit: number;
  /** The most a shopper may pay per UTC day and currency, in minor units. */
  shopperDailyLimit: number;
}

/** What the shopper actually paid: the amount less the coupon's discount, once succeeded. */
export function amountReceived(pi: PaymentIntent): number {
  return pi.status === 'succeeded' ? pi.amount - pi.discount : 0;
}

/** The payment intent as the API and webhooks show it (the shopper stays hidden). */
export function intentResource(pi: PaymentIntent): Record<string, unknown> {
  return {
    id: pi.id,
    object: 'payment_intent',
    livemode: pi.mode === 'live',
    amount: pi.amount,
    currency: pi.currency,
    status: pi.status,
    store: pi.storeId,
    terminal: pi.terminalId,
    order_reference: pi.orderReference,
    description: pi.description,
    metadata: pi.metadata,
    discount: pi.discount,
    coupon: pi.couponId,
    payment_method: pi.paymentMethod,
    amount_received: amountReceived(pi),
    amount_refunded: pi.amountRefunded,
    platform_fee_amount: pi.platformFee,
    failure_code: pi.failureCode,
    failure_message: pi.failureMessage,
    created: pi.createdAt,
    updated: pi.updatedAt,
  };
}

export function refundResource(r: Refund): Record<string, unknown> {
  return {
    id: r.id,
    object: 'refund',
    livemode: r.mode === 'live',
    amount: r.amount,
    currency: r.currency,
    payment_intent: r.paymentIntentId,
    status: r.status,
    platform_fee_refunded: r.feeRefunded,
    reason: r.reason,
    metadata: r.metadata,
    created: r.createdAt,
  };
}
