/**
 * marketing: campaigns, coupons, targeting, on-screen offers, redemption, uplift, and the
 * shopper's inbox (receipts, coupons, messages) with per-merchant mute. It knows members only
 * through the members entry (audience profiles without contact details, spend in a window, and
 * the platform-internal shopper id of a live member to deliver to their inbox).
 *
 * HTTP surface: merchant API in http/routes/marketing.ts (/v1/campaigns..., /v1/audiences/preview,
 * /v1/messages) and /v1/members/{id}/coupons in routes/members.ts; the shopper's inbox, coupons and
 * mutes in http/routes/shopper-crm.ts (/v1/shopper/inbox, /coupons, /mutes). The terminal sees
 * offersFor through the face-pay checkout (checkout.ts, createCheckout), which also runs redeem
 * with the payment and releaseRedemption if it fails.
 *
 * The service is built in service.ts from parts that each own one thing: campaigns.ts, issuing.ts
 * (the triggers, the holdout assignment and a coupon's issue), redemption.ts (the terminal's
 * offers, redeem and its reversal), results.ts (uplift, audience size) and inbox.ts (messages,
 * notices, receipts, mutes, forgetting a shopper), over shared.ts's context; the shapes are in
 * types.ts.
 *
 * platform-internal (never routed): onJoined (after members.join), onPayment (after
 * members.recordPayment of a member), onRefund (after each refund, with fullyRefunded),
 * releaseRedemption (payment failed after redeem), onMemberLeft (after members.leave),
 * addReceipt (after a payment settles), recordPlatformNotice(tx, ...) (a notice from the platform,
 * not a merchant, e.g. the retention rule's), runScheduled(now) (a timer, e.g. hourly), forgetShopper
 * (account deletion, with what members.forgetShopper answered).
 *
 * Webhook events (none carries a shopper id): coupon.issued {memberId, couponId, campaignId,
 * title, reward, validTo, notify}, coupon.redeemed {..., paymentId, discount},
 * coupon.redemption_reversed, message.sent {memberId, messageId, title, body}; objectId is the
 * coupon's or the message's id. `notify: false` means the shopper muted the merchant: do not
 * message them about it. Like members, the `events` sink runs inside the transaction of the
 * change: `events: { publish: (tx, e) => webhooks.record(tx, e) }`.
 * The composition root records them in the API's snake_case: `{object, id, member_id, ...}`.
 *
 * Config: FACEPAY_MARKETING_SECRET keys the holdout assignment (`holdoutSecret`); it must stay the
 * same across restarts and processes.
 *
 * Error codes: campaign_name_invalid, trigger_invalid, currency_invalid, validity_invalid,
 * holdout_invalid, message_invalid, coupon_days_invalid, budget_invalid, per_member_limit_invalid,
 * reward_invalid, audience_invalid, basket_invalid, currency_mismatch, campaign_not_found, campaign_ended,
 * campaign_not_manual, status_invalid, member_not_found, coupon_not_found, coupon_not_applicable,
 * payment_already_redeemed, inbox_item_not_found, limit_invalid, cursor_invalid.
 */
export { createMarketingService, type MarketingService } from './service.ts';
export { describeReward } from './shared.ts';
export { PLATFORM_SENDER, recordPlatformNotice } from './platform-notice.ts';
export type {
  Campaign,
  CampaignInput,
  CampaignResults,
  CampaignStatus,
  Coupon,
  GroupResult,
  HeldCoupon,
  InboxItem,
  MarketingEvent,
  MarketingEventSink,
  MarketingServiceDeps,
  Offers,
  Trigger,
} from './types.ts';
export { MarketingRepo } from './repo.ts';
export { marketingMigrations } from './migrations.ts';
export {
  bestCoupon,
  evaluateCoupon,
  holdoutDraw,
  inAudience,
  inHoldout,
  studentTQuantile,
  welchInterval,
  type Audience,
  type Basket,
  type CouponCandidate,
  type CouponChoice,
  type Evaluation,
  type Interval,
  type NotApplicable,
  type Reward,
} from './rules.ts';
