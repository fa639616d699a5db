import { DomainError, formatMoney, isCurrency, type Clock, type IdGenerator } from '../platform/index.ts';
import { localTime, type AudienceMember, type MembersService } from '../members/index.ts';
import type { SqlExecutor } from '../storage/index.ts';
import type { CampaignRow, CouponRow, InboxRow, MarketingRepo } from './repo.ts';
import {
  bestCoupon,
  checkAudience,
  checkReward,
  evaluateCoupon,
  inAudience,
  inHoldout,
  welchInterval,
  type Audience,
  type Basket,
  type CouponCandidate,
  type Interval,
  type NotApplicable,
  type Reward,
  couponRefusal,
} from './rules.ts';

export type Trigger = 'join' | 'payment' | 'schedule' | 'manual';
const TRIGGERS: readonly Trigger[] = ['join', 'payment', 'schedule', 'manual'];
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

const DAY = 24 * 3600 * 1000;
const MAX_INBOX_PAGE = 100;

/** An amount in minor units as the currency writes it (two decimals for EUR, none for JPY). */
const money = formatMoney;

/** A plain description of a reward for the inbox and the terminal. */
export function describeReward(r: Reward, currency: string): string {
  switch (r.kind) {
    case 'amount_off':
      return `${money(r.amount, currency)} off${r.minSpend ? ` when you spend ${money(r.minSpend, currency)}` : ''}`;
    case 'percent_off':
      return `${r.percent}% off${r.cap !== null ? ` (up to ${money(r.cap, currency)})` : ''}${r.minSpend ? ` when you spend ${money(r.minSpend, currency)}` : ''}`;
    case 'spend_save':
      return `Spend ${money(r.threshold, currency)}, save ${money(r.amount, currency)}`;
    case 'free_item':
      return `Free ${r.label} (code ${r.code})`;
  }
}

function toCampaign(r: CampaignRow): Campaign {
  return {
    id: r.id,
    merchantId: r.merchant_id,
    name: r.name,
    status: r.status as CampaignStatus,
    trigger: r.trigger_kind as Trigger,
    audience: JSON.parse(r.audience) as Audience,
    reward: JSON.parse(r.reward) as Reward,
    currency: r.currency,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    couponDays: r.coupon_days,
    budget: { maxDiscount: r.max_discount, maxCoupons: r.max_coupons },
    perMemberLimit: r.per_member_limit,
    holdoutPercent: r.holdout_percent,
    message: r.message_title !== null ? { title: r.message_title, body: r.message_body ?? '' } : null,
    issuedCount: r.issued_count,
    discountUsed: r.discount_used,
    createdAt: r.created_at,
  };
}

function couponTitle(c: Campaign): string {
  return c.message?.title ?? describeReward(c.reward, c.currency);
}

function toCoupon(r: CouponRow, title: string, budgetLeft: number | null): Coupon {
  return {
    id: r.id,
    campaignId: r.campaign_id,
    memberId: r.member_id,
    reward: JSON.parse(r.reward) as Reward,
    currency: r.currency,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    status: r.status as Coupon['status'],
    issuedAt: r.issued_at,
    budgetLeft,
    title,
  };
}

function budgetLeft(c: CampaignRow): number | null {
  return c.max_discount === null ? null : c.max_discount - c.discount_used;
}

function budgetExhausted(c: CampaignRow): boolean {
  return (c.max_coupons !== null && c.issued_count >= c.max_coupons) || (c.max_discount !== null && c.discount_used >= c.max_discount);
}

function positiveInt(n: unknown, code: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > max) throw new DomainError('invalid', code, `${what} must be a whole number from 1 to ${max}.`);
  return n;
}

export function createMarketingService(deps: MarketingServiceDeps) {
  const { repo, members, clock, ids, holdoutSecret } = deps;
  const publish = async (tx: MarketingRepo, e: MarketingEvent): Promise<void> => {
    await deps.events?.publish(tx.executor, e);
  };

  async function mustCampaign(merchantId: string, id: string): Promise<CampaignRow> {
    const c = await repo.campaign(id);
    if (!c || c.merchant_id !== merchantId) throw new DomainError('not_found', 'campaign_not_found', 'No such campaign.');
    return c;
  }

  async function timeZone(merchantId: string): Promise<string> {
    return members.programme(merchantId).then(
      (p) => p.timeZone,
      () => 'UTC',
    );
  }

  async function currentMonth(merchantId: string, at: number): Promise<number> {
    return localTime(at, await timeZone(merchantId)).month;
  }

  /**
   * Gives one member a coupon of one campaign if every rule allows it: the campaign is live, the
   * member is in its audience and not in its holdout, under the per-member limit, within budget,
   * and (for scheduled or manual runs) holds no unused coupon of it yet. Eligible members are
   * recorded in the treatment or holdout group at their first eligibility: that is the experiment.
   */
  async function issue(
    campaignRow: CampaignRow,
    member: AudienceMember,
    at: number,
    month: number,
    sourcePaymentId: string | null,
  ): Promise<Coupon | null> {
    const campaign = toCampaign(campaignRow);
    // Read before the transaction: on SQLite a read outside it would wait for it to finish.
    const birthdayTz = campaign.audience.kind === 'birthday_month' ? await timeZone(campaign.merchantId) : null;
    const rule = (row: CampaignRow, held: readonly CouponRow[], holdout: boolean) =>
      couponRefusal({
        campaign,
        budgetExhausted: budgetExhausted(row),
        perMemberLimit: row.per_member_limit,
        member,
        at,
        month,
        holdout,
        held: held.map((c) => ({ status: c.status, validTo: c.valid_to, issuedAt: c.issued_at })),
        earnedByPayment: sourcePaymentId !== null,
        birthdayTimeZone: birthdayTz,
      });
    // The rules that need no coupons read first, so members outside the campaign are not exposed.
    if (rule(campaignRow, [], false) !== null) return null;
    const holdout = inHoldout(holdoutSecret, campaign.id, member.memberId, campaign.holdoutPercent);
    const shopperId = holdout ? null : await members.shopperIdFor(campaign.merchantId, member.memberId);
    const muted = shopperId !== null && (await repo.isMuted(shopperId, campaign.merchantId));
    const title = couponTitle(campaign);
    const coupon = await repo.transaction(async (tx) => {
      await tx.expose({ campaign_id: campaign.id, member_id: member.memberId, grp: holdout ? 'holdout' : 'treatment', at });
      if (holdout) return null;
      const locked = (await tx.campaign(campaign.id, true))!;
      if (rule(locked, await tx.memberCampaignCoupons(campaign.id, member.memberId), false) !== null) return null;
      const validTo = campaign.couponDays === null ? campaign.validTo : Math.min(campaign.validTo, at + campaign.couponDays * DAY);
      const row: CouponRow = {
        id: ids.next('cpn'),
        campaign_id: campaign.id,
        merchant_id: campaign.merchantId,
        member_id: member.memberId,
        reward: JSON.stringify(campaign.reward),
        currency: campaign.currency,
        valid_from: at,
        valid_to: validTo,
        status: 'issued',
        issued_at: at,
        source_payment_id: sourcePaymentId,
        redeemed_payment_id: null,
        redeemed_at: null,
      };
      if (!(await tx.insertCoupon(row))) return null;
      await tx.addIssued(campaign.id);
      // A coupon is something the shopper holds, so it reaches the inbox even when they muted the
      // merchant; muting only tells the merchant's own channels not to notify them.
      if (shopperId !== null)
        await tx.insertInbox({
          id: ids.next('inb'),
          shopper_id: shopperId,
          merchant_id: campaign.merchantId,
          kind: 'coupon',
          title,
          body: campaign.message?.body ?? describeReward(campaign.reward, campaign.currency),
          coupon_id: row.id,
          payment_id: null,
          amount: null,
          discount: 0,
          currency: null,
          created_at: at,
          read_at: null,
        });
      await publish(tx, {
        type: 'coupon.issued',
        merchantId: campaign.merchantId,
        objectId: row.id,
        at,
        data: { memberId: member.memberId, couponId: row.id, campaignId: campaign.id, title, reward: campaign.reward, validTo, notify: !muted },
      });
      return row;
    });
    return coupon === null ? null : toCoupon(coupon, title, budgetLeft(campaignRow));
  }

  async function runCampaign(c: CampaignRow, at: number): Promise<number> {
    const audience = await members.audience(c.merchant_id, at);
    const month = await currentMonth(c.merchant_id, at);
    let issued = 0;
    for (const m of audience) {
      // Re-read so that budget counters seen by `issue` move as coupons go out.
      const fresh = (await repo.campaign(c.id))!;
      if (budgetExhausted(fresh)) break;
      if (await issue(fresh, m, at, month, null)) issued++;
    }
    return issued;
  }

  async function heldCoupons(merchantId: string, memberId: string): Promise<Coupon[]> {
    return withTitles(await repo.couponsOfMember(merchantId, memberId, true));
  }

  /** Coupons with their campaign's title and budget left. */
  async function withTitles(rows: CouponRow[]): Promise<Coupon[]> {
    const campaigns = new Map<string, CampaignRow>();
    const out: Coupon[] = [];
    for (const r of rows) {
      let c = campaigns.get(r.campaign_id);
      if (!c) {
        c = (await repo.campaign(r.campaign_id))!;
        campaigns.set(c.id, c);
      }
      out.push(toCoupon(r, couponTitle(toCampaign(c)), budgetLeft(c)));
    }
    return out;
  }

  async function reverse(paymentId: string, merchantId: string, at: number): Promise<boolean> {
    const found = await repo.redemption(paymentId);
    if (!found || found.merchant_id !== merchantId) return false;
    // A member who left meanwhile gets nothing back: their unused coupons were voided on leaving.
    const live = (await members.shopperIdFor(merchantId, found.member_id)) !== null;
    const reversed = await repo.transaction(async (tx) => {
      const r = await tx.redemption(paymentId, true);
      if (!r || r.merchant_id !== merchantId || r.reversed_at !== null) return null;
      // Coupon before campaign, the order redeem locks them in, so the two never deadlock.
      await tx.coupon(r.coupon_id, true);
      await tx.campaign(r.campaign_id, true);
      await tx.reverseRedemption(paymentId, at);
      await tx.addDiscountUsed(r.campaign_id, -r.discount);
      // The coupon comes back as it was; if it has expired meanwhile, time keeps it unusable.
      await tx.setCouponStatus(r.coupon_id, live ? 'issued' : 'void', null, null);
      await publish(tx, {
        type: 'coupon.redemption_reversed',
        merchantId,
        objectId: r.coupon_id,
        at,
        data: { memberId: r.member_id, couponId: r.coupon_id, campaignId: r.campaign_id, paymentId },
      });
      return r;
    });
    return reversed !== null;
  }

  async function inbox(shopperId: string, page: { cursor?: string; limit?: number } = {}, now = clock.now().getTime()): Promise<{ items: InboxItem[]; nextCursor: string | null }> {
    const limit = page.limit ?? 30;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_INBOX_PAGE)
      throw new DomainError('invalid', 'limit_invalid', `A page holds 1 to ${MAX_INBOX_PAGE} items.`);
    let before: { at: number; id: string } | undefined;
    if (page.cursor !== undefined) {
      const [at, id] = page.cursor.split('.');
      if (!at || !id || !/^\d+$/.test(at)) throw new DomainError('invalid', 'cursor_invalid', 'The page cursor is not valid.');
      before = { at: Number(at), id };
    }
    const rows = await repo.inbox(shopperId, limit + 1, before);
    const items: InboxItem[] = [];
    for (const r of rows.slice(0, limit)) items.push(await toInboxItem(r, now));
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return { items, nextCursor: last ? `${last.created_at}.${last.id}` : null };
  }

  return {
    /** The campaign behind each of these coupons, for the merchant's lists of payments; another merchant's coupon is left out. */
    async couponCampaigns(merchantId: string, couponIds: readonly string[]): Promise<Map<string, { campaignId: string; campaignName: string }>> {
      const rows = await repo.couponCampaigns(merchantId, [...new Set(couponIds)]);
      return new Map(rows.map((r) => [r.id, { campaignId: r.campaign_id, campaignName: r.campaign_name }]));
    },

    // ---- campaigns (merchant side) ----

    async createCampaign(merchantId: string, input: CampaignInput): Promise<Campaign> {
      const name = input.name?.trim() ?? '';
      if (name.length === 0 || name.length > 80) throw new DomainError('invalid', 'campaign_name_invalid', 'Name the campaign (up to 80 characters).');
      if (!TRIGGERS.includes(input.trigger)) throw new DomainError('invalid', 'trigger_invalid', `A trigger is one of ${TRIGGERS.join(', ')}.`);
      if (!/^[A-Z]{3}$/.test(input.currency) || !isCurrency(input.currency)) throw new DomainError('invalid', 'currency_invalid', 'A currency is a three-letter ISO 4217 code.');
      const programmeCurrency = await members.programme(merchantId).then(
        (p) => p.currency,
        () => null,
      );
      if (programmeCurrency !== null && programmeCurrency !== input.currency)
        throw new DomainError('invalid', 'currency_mismatch', `Coupons of this merchant are in ${programmeCurrency}.`);
      if (!Number.isSafeInteger(input.validFrom) || !Number.isSafeInteger(input.validTo) || input.validTo <= input.validFrom)
        throw new DomainError('invalid', 'validity_invalid', 'The campaign must end after it starts (epoch ms).');
      const holdout = input.holdoutPercent ?? 10;
      if (!Number.isInteger(holdout) || holdout < 0 || holdout > 50)
        throw new DomainError('invalid', 'holdout_invalid', 'The holdout is a whole percentage from 0 to 50.');
      const message = input.message ?? null;
      if (message !== null && (message.title.trim() === '' || message.title.length > 80 || message.body.length > 1000))
        throw new DomainError('invalid', 'message_invalid', 'A message has a title (up to 80 characters) and a body (up to 1000).');
      const row: CampaignRow = {
        id: ids.next('cmp'),
        merchant_id: merchantId,
        name,
        status: 'active',
        trigger_kind: input.trigger,
        audience: JSON.stringify(checkAudience(input.audience)),
        reward: JSON.stringify(checkReward(input.reward)),
        currency: input.currency,
        valid_from: input.validFrom,
        valid_to: input.validTo,
        coupon_days: input.couponDays == null ? null : positiveInt(input.couponDays, 'coupon_days_invalid', 'Coupon days', 3650),
        max_discount: input.budget?.maxDiscount == null ? null : positiveInt(input.budget.maxDiscount, 'budget_invalid', 'The discount budget'),
        max_coupons: input.budget?.maxCoupons == null ? null : positiveInt(input.budget.maxCoupons, 'budget_invalid', 'The coupon budget'),
        per_member_limit: positiveInt(input.perMemberLimit ?? 1, 'per_member_limit_invalid', 'The per-member limit', 1000),
        holdout_percent: holdout,
        message_title: message?.title.trim() ?? null,
        message_body: message?.body ?? null,
        issued_count: 0,
        discount_used: 0,
        created_at: clock.now().getTime(),
      };
      await repo.insertCampaign(row);
      return toCampaign(row);
    },

    async campaigns(merchantId: string): Promise<Campaign[]> {
      return (await repo.campaignsOf(merchantId)).map(toCampaign);
    },

    async campaign(merchantId: string, campaignId: string): Promise<Campaign> {
      return toCampaign(await mustCampaign(merchantId, campaignId));
    },

    async setCampaignStatus(merchantId: string, campaignId: string, status: CampaignStatus): Promise<Campaign> {
      const c = await mustCampaign(merchantId, campaignId);
      if (!['active', 'paused', 'ended'].includes(status)) throw new DomainError('invalid', 'status_invalid', 'A status is active, paused or ended.');
      if (c.status === 'ended' && status !== 'ended') throw new DomainError('conflict', 'campaign_ended', 'An ended campaign cannot restart.');
      await repo.setCampaignStatus(campaignId, status);
      return toCampaign((await repo.campaign(campaignId))!);
    },

    // ---- triggers (platform side) ----

    /** After a join: welcome coupons. */
    async onJoined(merchantId: string, memberId: string, at = clock.now().getTime()): Promise<Coupon[]> {
      const member = await members.audienceMember(merchantId, memberId, at);
      if (!member) return [];
      const month = await currentMonth(merchantId, at);
      const out: Coupon[] = [];
      for (const c of await repo.liveCampaigns('join', merchantId, at)) {
        const coupon = await issue(c, member, at, month, null);
        if (coupon) out.push(coupon);
      }
      return out;
    },

    /** After a member's payment settles (and members.recordPayment ran): coupons for next time, at most one per campaign and payment. */
    async onPayment(merchantId: string, memberId: string, payment: { paymentId: string; at: number }): Promise<Coupon[]> {
      const member = await members.audienceMember(merchantId, memberId, payment.at);
      if (!member) return [];
      const month = await currentMonth(merchantId, payment.at);
      const out: Coupon[] = [];
      for (const c of await repo.liveCampaigns('payment', merchantId, payment.at)) {
        const coupon = await issue(c, member, payment.at, month, payment.paymentId);
        if (coupon) out.push(coupon);
      }
      return out;
    },

    /** The server calls this periodically (say hourly): every live scheduled campaign reaches its audience. */
    async runScheduled(now: number): Promise<{ campaigns: number; issued: number }> {
      let issued = 0;
      const live = await repo.liveCampaigns('schedule', null, now);
      for (const c of live) issued += await runCampaign(c, now);
      return { campaigns: live.length, issued };
    },

    /** "Send this coupon to the segment now": a manual or scheduled campaign run once. */
    async issueNow(merchantId: string, campaignId: string, at = clock.now().getTime()): Promise<{ issued: number }> {
      const c = await mustCampaign(merchantId, campaignId);
      if (c.trigger_kind !== 'manual' && c.trigger_kind !== 'schedule')
        throw new DomainError('conflict', 'campaign_not_manual', 'Only manual or scheduled campaigns are sent on demand.');
      return { issued: await runCampaign(c, at) };
    },

    /** Once a member leaves, coupons they did not use die with the membership. */
    async onMemberLeft(merchantId: string, memberId: string): Promise<number> {
      return repo.voidUnused(merchantId, memberId);
    },

    // ---- terminal ----

    /** What the terminal shows this member before they confirm: their coupons, what this payment earns, and the coupon applied. */
    async offersFor(merchantId: string, memberId: string, basket: Basket, now = clock.now().getTime()): Promise<Offers> {
      const member = await members.audienceMember(merchantId, memberId, now);
      if (!member) throw new DomainError('not_found', 'member_not_found', 'No such member.');
      const held = await heldCoupons(merchantId, memberId);
      const coupons: HeldCoupon[] = held
        .map((c) => {
          const e = evaluateCoupon(basket, c, now);
          return e.applicable
            ? { coupon: c, applicable: true, discount: e.discount, reason: null, shortBy: null }
            : { coupon: c, applicable: false, discount: 0, reason: e.reason, shortBy: e.shortBy ?? null };
        })
        .filter((h) => h.reason !== 'expired' && h.reason !== 'used');
      const best = bestCoupon(basket, held, now);
      const month = await currentMonth(merchantId, now);
      const upcoming: Offers['upcoming'] = [];
      for (const c of await repo.liveCampaigns('payment', merchantId, now)) {
        const campaign = toCampaign(c);
        const refusal = couponRefusal({
          campaign,
          budgetExhausted: budgetExhausted(c),
          perMemberLimit: c.per_member_limit,
          member,
          at: now,
          month,
          holdout: inHoldout(holdoutSecret, campaign.id, memberId, campaign.holdoutPercent),
          held: (await repo.memberCampaignCoupons(c.id, memberId)).map((h) => ({ status: h.status, validTo: h.valid_to, issuedAt: h.issued_at })),
          earnedByPayment: true,
          birthdayTimeZone: campaign.audience.kind === 'birthday_month' ? await timeZone(merchantId) : null,
        });
        if (refusal !== null) continue;
        upcoming.push({ campaignId: c.id, name: campaign.name, reward: campaign.reward, title: couponTitle(campaign) });
      }
      return {
        memberId,
        coupons,
        upcoming,
        best: best ? { couponId: best.coupon.id, discount: best.discount, payable: best.payable } : null,
      };
    },

    /**
     * Records that a coupon paid part of a payment. Idempotent per payment id: a retry answers the
     * first result; a different coupon for the same payment is a conflict.
     */
    async redeem(input: { merchantId: string; memberId: string; couponId: string; paymentId: string; basket: Basket; at?: number }): Promise<{
      discount: number;
      payable: number;
    }> {
      const at = input.at ?? clock.now().getTime();
      if ((await members.shopperIdFor(input.merchantId, input.memberId)) === null)
        throw new DomainError('not_found', 'member_not_found', 'No such member.');
      const result = await repo.transaction(async (tx) => {
        const prior = await tx.redemption(input.paymentId, true);
        if (prior) {
          if (prior.coupon_id !== input.couponId || prior.reversed_at !== null)
            throw new DomainError('conflict', 'payment_already_redeemed', 'This payment already used a coupon.');
          return { discount: prior.discount, payable: prior.basket_amount - prior.discount };
        }
        const coupon = await tx.coupon(input.couponId, true);
        if (!coupon || coupon.merchant_id !== input.merchantId || coupon.member_id !== input.memberId)
          throw new DomainError('not_found', 'coupon_not_found', 'No such coupon for this member.');
        const campaign = (await tx.campaign(coupon.campaign_id, true))!;
        const e = evaluateCoupon(input.basket, toCoupon(coupon, '', budgetLeft(campaign)), at);
        if (!e.applicable)
          throw new DomainError('unprocessable', 'coupon_not_applicable', `The coupon cannot be used: ${e.reason}.`, { reason: e.reason });
        await tx.insertRedemption({
          payment_id: input.paymentId,
          coupon_id: coupon.id,
          campaign_id: coupon.campaign_id,
          merchant_id: input.merchantId,
          member_id: input.memberId,
          discount: e.discount,
          basket_amount: input.basket.amount,
          currency: input.basket.currency,
          at,
          reversed_at: null,
        });
        await tx.setCouponStatus(coupon.id, 'redeemed', input.paymentId, at);
        await tx.addDiscountUsed(coupon.campaign_id, e.discount);
        await publish(tx, {
          type: 'coupon.redeemed',
          merchantId: input.merchantId,
          objectId: coupon.id,
          at,
          data: { memberId: input.memberId, couponId: coupon.id, campaignId: coupon.campaign_id, paymentId: input.paymentId, discount: e.discount },
        });
        return { discount: e.discount, payable: input.basket.amount - e.discount };
      });
      return result;
    },

    /**
     * A refund of a payment that used a coupon. A full refund reverses the redemption: the coupon is
     * usable again until it expires and the discount returns to the budget. A partial refund keeps
     * it: the till refunds what was actually paid for the returned items, so the shopper already
     * keeps the discount on what they keep, and handing the coupon back too would let it be used
     * twice. Idempotent.
     */
    async onRefund(input: { merchantId: string; paymentId: string; fullyRefunded: boolean; at?: number }): Promise<{ reversed: boolean }> {
      if (!input.fullyRefunded) return { reversed: false };
      return { reversed: await reverse(input.paymentId, input.merchantId, input.at ?? clock.now().getTime()) };
    },

    /** The payment a coupon was reserved for failed or was cancelled before settling. */
    async releaseRedemption(merchantId: string, paymentId: string): Promise<{ reversed: boolean }> {
      return { reversed: await reverse(paymentId, merchantId, clock.now().getTime()) };
    },

    /** A member's coupons, for the merchant console. */
    async couponsOf(merchantId: string, memberId: string): Promise<Coupon[]> {
      return withTitles(await repo.couponsOfMember(merchantId, memberId));
    },

    // ---- results ----

    /**
     * Treatment against holdout. Each member's spend is counted from their assignment for as long
     * as the coupon would last (the campaign's coupon days, else to its end), capped at now: the
     * window in which the coupon can act, the same for both groups, so late joiners are not
     * compared over a longer time than they had. The uplift is the difference in mean spend per
     * member with Welch's 95 % t interval; it includes members who never used a coupon (intent to
     * treat), as an honest uplift must.
     */
    async results(merchantId: string, campaignId: string, now = clock.now().getTime()): Promise<CampaignResults> {
      const c = await mustCampaign(merchantId, campaignId);
      // Windows end exclusively; `now + 1` lets a payment made at this very moment count.
      const horizon = Math.min(c.valid_to, now + 1);
      const exposures = await repo.exposures(campaignId);
      const windows = exposures.map((e) => {
        const to = Math.min(horizon, c.coupon_days === null ? horizon : e.at + c.coupon_days * DAY);
        return { memberId: e.member_id, from: e.at, to: Math.max(e.at, to) };
      });
      const spend = await members.spendInWindows(merchantId, windows);
      const end = windows.reduce((m, w) => Math.max(m, w.to), c.valid_from);
      const redemptions = (await repo.campaignRedemptions(campaignId)).filter((r) => r.reversed_at === null);
      const redeemers = new Set(redemptions.map((r) => r.member_id));
      const groups = { treatment: [] as number[], holdout: [] as number[] };
      const redeemed = { treatment: 0, holdout: 0 };
      for (const e of exposures) {
        const g = e.grp === 'holdout' ? 'holdout' : 'treatment';
        groups[g].push(spend.get(e.member_id) ?? 0);
        if (redeemers.has(e.member_id)) redeemed[g]++;
      }
      const group = (g: 'treatment' | 'holdout'): GroupResult => {
        const xs = groups[g];
        return {
          members: xs.length,
          redeemers: redeemed[g],
          redemptionRate: xs.length ? redeemed[g] / xs.length : null,
          spendPerMember: xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null,
        };
      };
      const coupons = await repo.campaignCoupons(campaignId);
      return {
        campaignId,
        window: { from: c.valid_from, to: end },
        treatment: group('treatment'),
        holdout: group('holdout'),
        couponsIssued: coupons.length,
        couponsRedeemed: redemptions.length,
        discountGiven: redemptions.reduce((s, r) => s + r.discount, 0),
        uplift: welchInterval(groups.treatment, groups.holdout, 0.95),
      };
    },

    /** How many live members an audience reaches now (the console shows it before a send). */
    async audienceSize(merchantId: string, audience: Audience, at = clock.now().getTime()): Promise<number> {
      const checked = checkAudience(audience);
      const month = await currentMonth(merchantId, at);
      return (await members.audience(merchantId, at)).filter((m) => inAudience(checked, m, at, month)).length;
    },

    // ---- reach after the visit ----

    /** A message to an audience: into each live member's inbox and out as an event, except to shoppers who muted the merchant. */
    async sendMessage(merchantId: string, input: { audience: Audience; title: string; body: string }): Promise<{ messageId: string; recipients: number; muted: number }> {
      const title = input.title.trim();
      if (title === '' || title.length > 80 || input.body.length > 1000)
        throw new DomainError('invalid', 'message_invalid', 'A message has a title (up to 80 characters) and a body (up to 1000).');
      const audience = checkAudience(input.audience);
      const at = clock.now().getTime();
      const month = await currentMonth(merchantId, at);
      const messageId = ids.next('msg');
      let recipients = 0;
      let muted = 0;
      for (const m of await members.audience(merchantId, at)) {
        if (!inAudience(audience, m, at, month)) continue;
        const shopperId = await members.shopperIdFor(merchantId, m.memberId);
        if (shopperId === null) continue;
        if (await repo.isMuted(shopperId, merchantId)) {
          muted++;
          continue;
        }
        await repo.transaction(async (tx) => {
          await tx.insertInbox({
            id: ids.next('inb'),
            shopper_id: shopperId,
            merchant_id: merchantId,
            kind: 'message',
            title,
            body: input.body,
            coupon_id: null,
            payment_id: null,
            amount: null,
            discount: 0,
            currency: null,
            created_at: at,
            read_at: null,
          });
          await publish(tx, { type: 'message.sent', merchantId, objectId: messageId, at, data: { memberId: m.memberId, messageId, title, body: input.body } });
        });
        recipients++;
      }
      await repo.insertMessage({ id: messageId, merchant_id: merchantId, audience: JSON.stringify(audience), title, body: input.body, sent_at: at, recipients, muted });
      return { messageId, recipients, muted };
    },

    /** A notice to one shopper from the platform about their account (face pay locked, say), shown as a message. */
    async addNotice(input: { shopperId: string; merchantId: string; title: string; body: string; at: number }): Promise<void> {
      await repo.insertInbox({
        id: ids.next('inb'),
        shopper_id: input.shopperId,
        merchant_id: input.merchantId,
        kind: 'message',
        title: input.title,
        body: input.body,
        coupon_id: null,
        payment_id: null,
        amount: null,
        discount: 0,
        currency: null,
        created_at: input.at,
        read_at: null,
      });
    },

    /** A receipt in the shopper's inbox (payments calls it once a payment settles); idempotent per payment. */
    async addReceipt(input: { shopperId: string; merchantId: string; merchantName: string; paymentId: string; amount: number; currency: string; discount?: number; at: number }): Promise<void> {
      const discount = input.discount ?? 0;
      await repo.insertInbox({
        id: ids.next('inb'),
        shopper_id: input.shopperId,
        merchant_id: input.merchantId,
        kind: 'receipt',
        title: `Paid ${money(input.amount, input.currency)} at ${input.merchantName}`,
        body: discount > 0 ? `A coupon saved you ${money(discount, input.currency)}.` : '',
        coupon_id: null,
        payment_id: input.paymentId,
        amount: input.amount,
        discount,
        currency: input.currency,
        created_at: input.at,
        read_at: null,
      });
    },

    inbox,

    async markRead(shopperId: string, itemId: string): Promise<void> {
      // Marking an item read twice is fine; an item of someone else's looks missing.
      if (!(await repo.markRead(shopperId, itemId, clock.now().getTime())) && !(await repo.hasInboxItem(shopperId, itemId)))
        throw new DomainError('not_found', 'inbox_item_not_found', 'No such inbox item.');
    },

    /** Coupons the shopper holds at every merchant, usable now, for the portal. */
    async shopperCoupons(shopperId: string, now = clock.now().getTime()): Promise<InboxItem[]> {
      const out: InboxItem[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await inbox(shopperId, cursor === undefined ? { limit: MAX_INBOX_PAGE } : { cursor, limit: MAX_INBOX_PAGE }, now);
        for (const i of page.items) if (i.kind === 'coupon' && i.coupon?.status === 'issued') out.push(i);
        if (page.nextCursor === null) return out;
        cursor = page.nextCursor;
      }
    },

    /**
     * The shopper deleted their account: their inbox and mutes go, and the coupons of the
     * memberships that ended (from members.forgetShopper) are voided.
     */
    async forgetShopper(shopperId: string, ended: readonly { merchantId: string; memberId: string }[]): Promise<void> {
      for (const e of ended) await repo.voidUnused(e.merchantId, e.memberId);
      await repo.deleteShopperData(shopperId);
    },

    async mute(shopperId: string, merchantId: string): Promise<void> {
      await repo.mute(shopperId, merchantId, clock.now().getTime());
    },

    async unmute(shopperId: string, merchantId: string): Promise<void> {
      await repo.unmute(shopperId, merchantId);
    },

    async mutes(shopperId: string): Promise<{ merchantId: string; at: number }[]> {
      return (await repo.mutes(shopperId)).map((m) => ({ merchantId: m.merchant_id, at: m.at }));
    },
  };

  async function toInboxItem(r: InboxRow, now: number): Promise<InboxItem> {
    let coupon: InboxItem['coupon'] = null;
    if (r.coupon_id !== null) {
      const c = await repo.coupon(r.coupon_id);
      if (c) {
        const status = c.status === 'issued' && c.valid_to <= now ? 'expired' : (c.status as 'issued' | 'redeemed' | 'void');
        coupon = { couponId: c.id, reward: JSON.parse(c.reward) as Reward, currency: c.currency, validTo: c.valid_to, status };
      }
    }
    return {
      id: r.id,
      merchantId: r.merchant_id,
      kind: r.kind as InboxItem['kind'],
      title: r.title,
      body: r.body,
      createdAt: r.created_at,
      readAt: r.read_at,
      payment: r.payment_id !== null && r.amount !== null && r.currency !== null ? { paymentId: r.payment_id, amount: r.amount, discount: Number(r.discount), currency: r.currency } : null,
      coupon,
    };
  }
}

export type MarketingService = ReturnType<typeof createMarketingService>;
