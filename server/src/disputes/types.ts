import type { Mode } from '../payments/index.ts';

export type DisputeStatus = 'open' | 'refunded' | 'closed';
export const DISPUTE_STATUSES: readonly DisputeStatus[] = ['open', 'refunded', 'closed'];

/** How the disputed payment was made: only a face payment freezes face pay. */
export type PaymentMethod = 'face' | 'pay_code' | 'other';

export interface DisputeEvent {
  type: 'opened' | 'face_pay_frozen' | 'refunded' | 'closed';
  at: number;
  /** A refund id, or the merchant's note on closing. */
  detail: string | null;
}

/** A shopper says a payment of theirs was not made by them ("This wasn't me"). */
export interface Dispute {
  id: string;
  paymentIntentId: string;
  merchantId: string;
  /** Never shown to the merchant. */
  shopperId: string;
  mode: Mode;
  status: DisputeStatus;
  reason: string;
  method: PaymentMethod;
  /** What the shopper paid (after any coupon), in minor units. */
  amount: number;
  currency: string;
  refundId: string | null;
  createdAt: number;
  updatedAt: number;
  events: DisputeEvent[];
}

/** The dispute as the merchant API and its webhooks show it (the shopper stays hidden). */
export function disputeResource(d: Dispute): Record<string, unknown> {
  return {
    id: d.id,
    object: 'dispute',
    livemode: d.mode === 'live',
    payment_intent: d.paymentIntentId,
    status: d.status,
    reason: d.reason,
    payment_method: d.method,
    amount: d.amount,
    currency: d.currency,
    refund: d.refundId,
    created: d.createdAt,
    updated: d.updatedAt,
    events: d.events.map((e) => ({ type: e.type, at: e.at, detail: e.detail })),
  };
}

/** The operator's view (the admin command): every field, the shopper included. */
export function operatorResource(d: Dispute): Record<string, unknown> {
  return { ...disputeResource(d), merchant: d.merchantId, shopper: d.shopperId };
}
