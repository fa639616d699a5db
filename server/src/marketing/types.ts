/** The marketing module's public shapes: campaigns, coupons, offers, results, the inbox, events and dependencies. */
import type { Clock, IdGenerator } from '../platform/index.ts';
import type { MembersService } from '../members/index.ts';
import type { SqlExecutor } from '../storage/index.ts';
import type { MarketingRepo } from './repo.ts';
import type { Audience, CouponCandidate, Interval, NotApplicable, Reward } from './rules.ts';

export type Trigger = 'join' | 'payment' | 'schedule' | 'manual';
export const TRIGGERS: readonly Trigger[] = ['join', 'payment', 'schedule', 'manual'];
export type CampaignStatus = 'active' | 'paused' | 'ended';

export interface Campaign {
  id: string;
  merchantId: string;
  name: string;
  status: CampaignStatus;
  trigger: Trigger;
  audience: Audience;
  reward: Reward;
  currency: string;
  validFrom: number;
  validTo: number;
  /** How long an issued coupon lasts (days); absent means until the campaign ends. */
  couponDays: number | null;
  budget: { maxDiscount: number | null; maxCoupons: number | null };
  perMemberLimit: number;
  holdoutPercent: number;
  message: { title: string; body: string } | null;
  issuedCount: number;
  discountUsed: number;
  createdAt: number;
}

export interface CampaignInput {
  name: string;
  trigger: Trigger;
  audience: Audience;
  reward: Reward;
  currency: string;
  validFrom: number;
  validTo: number;
  couponDays?: number | null;
  budget?: { maxDiscount?: number | null; maxCoupons?: number | null };
  perMemberLimit?: number;
  holdoutPercent?: number;
  message?: { title: string; body: string } | null;
}

export interface Coupon extends CouponCandidate {
  campaignId: string;
  memberId: string;
  status: 'issued' | 'redeemed' | 'void';
  issuedAt: number;
  title: string;
}

export interface HeldCoupon {
  coupon: Coupon;
  applicable: boolean;
  discount: number;
  reason: NotApplicable | null;
  /** For `min_spend`: how much more the basket needs. */
  shortBy: number | null;
}

export interface Offers {
  memberId: string;
  coupons: HeldCoupon[];
  /** Campaigns that give this member a coupon for this payment (shown as "you will receive ..."). */
  upcoming: { campaignId: string; name: string; reward: Reward; title: string }[];
  best: { couponId: string; discount: number; payable: number } | null;
}

export interface GroupResult {
  members: number;
  redeemers: number;
  redemptionRate: number | null;
  spendPerMember: number | null;
}

export interface CampaignResults {
  campaignId: string;
  /** From the campaign start to the end of the last member window (exclusive). */
  window: { from: number; to: number };
  treatment: GroupResult;
  holdout: GroupResult;
  couponsIssued: number;
  couponsRedeemed: number;
  discountGiven: number;
  /** Treatment minus holdout spend per member (minor units), Welch's 95 % t interval. */
  uplift: Interval | null;
}

export interface InboxItem {
  id: string;
  merchantId: string;
  kind: 'receipt' | 'coupon' | 'message';
  title: string;
  body: string;
  createdAt: number;
  readAt: number | null;
  /** `amount` is what was paid, `discount` what a coupon took off. */
  payment: { paymentId: string; amount: number; discount: number; currency: string } | null;
  coupon: { couponId: string; reward: Reward; currency: string; validTo: number; status: 'issued' | 'redeemed' | 'void' | 'expired' } | null;
}

type EventBase = { merchantId: string; at: number };

/**
 * What the merchant's own channels receive through a signed webhook. Never a shopper id. The
 * `objectId` is the coupon's id, or the message's; the shape matches the webhook outbox's.
 */
export type MarketingEvent = EventBase &
  (
    | { type: 'coupon.issued'; objectId: string; data: { memberId: string; couponId: string; campaignId: string; title: string; reward: Reward; validTo: number; notify: boolean } }
    | { type: 'coupon.redeemed'; objectId: string; data: { memberId: string; couponId: string; campaignId: string; paymentId: string; discount: number } }
    | { type: 'coupon.redemption_reversed'; objectId: string; data: { memberId: string; couponId: string; campaignId: string; paymentId: string } }
    | { type: 'message.sent'; objectId: string; data: { memberId: string; messageId: string; title: string; body: string } }
  );

/**
 * Receives events inside the transaction that made the change, with its executor: write them there
 * (for example `webhooks.record(tx, event)`) and they are delivered exactly when the change
 * commits. It must not use another connection: on SQLite that would wait for this very transaction.
 */
export interface MarketingEventSink {
  publish(tx: SqlExecutor, event: MarketingEvent): void | Promise<void>;
}

export interface MarketingServiceDeps {
  repo: MarketingRepo;
  members: MembersService;
  clock: Clock;
  ids: IdGenerator;
  /** Keys the holdout draw; keep it stable across restarts or assignments change (config: FACEPAY_MARKETING_SECRET). */
  holdoutSecret: string | Buffer;
  events?: MarketingEventSink;
}
