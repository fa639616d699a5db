/**
 * Pure rules of marketing: what a reward is worth on a basket, which coupon is best, who is in an
 * audience, holdout assignment, and the uplift's confidence interval. No database, no clock.
 */
import { createHmac } from 'node:crypto';
import { DomainError } from '../platform/index.ts';
import { localTime, SEGMENTS, type AudienceMember, type Segment } from '../members/index.ts';

export type Reward =
  /** A fixed amount off, from an optional minimum basket. */
  | { kind: 'amount_off'; amount: number; minSpend?: number }
  /** A whole percentage off, rounded down to the minor unit, at most `cap` when set. */
  | { kind: 'percent_off'; percent: number; cap: number | null; minSpend?: number }
  /** Spend at least `threshold`, save `amount`. */
  | { kind: 'spend_save'; threshold: number; amount: number }
  /** A code the till or staff honour (a free coffee); `value` in minor units ranks it against money off. */
  | { kind: 'free_item'; code: string; label: string; value?: number; minSpend?: number };

export type Audience =
  | { kind: 'all' }
  /** Joined within the last `days` days (30 when absent). */
  | { kind: 'new'; days?: number }
  | { kind: 'segment'; segment: Segment }
  /** The birthday (if shared) falls in the current month of the merchant's time zone. */
  | { kind: 'birthday_month' }
  /** No visit (or, never having visited, no join) for at least `days` days. */
  | { kind: 'lapsed'; days: number }
  | { kind: 'tag'; tag: string };

export interface Basket {
  /** The amount to pay before any coupon, in minor units. */
  amount: number;
  currency: string;
  storeId?: string;
}

export interface CouponCandidate {
  id: string;
  reward: Reward;
  currency: string;
  validFrom: number;
  /** Exclusive. */
  validTo: number;
  status?: 'issued' | 'redeemed' | 'void';
  /** What is left of the campaign's discount budget, when it has one. */
  budgetLeft?: number | null;
}

export type NotApplicable = 'used' | 'not_yet_valid' | 'expired' | 'currency' | 'min_spend' | 'budget_exhausted' | 'zero_discount';

export type Evaluation =
  | { applicable: true; discount: number; value: number }
  | { applicable: false; reason: NotApplicable; shortBy?: number };

const DAY = 24 * 3600 * 1000;

function checkBasket(b: Basket): void {
  if (!Number.isSafeInteger(b.amount) || b.amount < 0)
    throw new DomainError('invalid', 'basket_invalid', 'A basket amount is a non-negative whole number of minor units.');
}

/**
 * What one coupon is worth on a basket at `now`. The discount never exceeds the basket (nothing
 * goes below zero) nor the campaign's remaining budget; percentages round down so a shopper never
 * gets more than the stated percentage. A free item takes nothing off the amount; its declared
 * value only ranks it.
 */
export function evaluateCoupon(basket: Basket, c: CouponCandidate, now: number): Evaluation {
  checkBasket(basket);
  if (c.status !== undefined && c.status !== 'issued') return { applicable: false, reason: 'used' };
  if (now < c.validFrom) return { applicable: false, reason: 'not_yet_valid' };
  if (now >= c.validTo) return { applicable: false, reason: 'expired' };
  if (c.currency !== basket.currency) return { applicable: false, reason: 'currency' };
  const r = c.reward;
  const floor = r.kind === 'spend_save' ? r.threshold : (r.minSpend ?? 0);
  if (basket.amount < floor) return { applicable: false, reason: 'min_spend', shortBy: floor - basket.amount };
  if (r.kind === 'free_item') return { applicable: true, discount: 0, value: r.value ?? 0 };
  let discount: number;
  switch (r.kind) {
    case 'amount_off':
    case 'spend_save':
      discount = r.amount;
      break;
    case 'percent_off':
      discount = Math.floor((basket.amount * r.percent) / 100);
      if (r.cap !== null) discount = Math.min(discount, r.cap);
      break;
  }
  discount = Math.min(discount, basket.amount);
  if (c.budgetLeft !== undefined && c.budgetLeft !== null) {
    if (c.budgetLeft <= 0) return { applicable: false, reason: 'budget_exhausted' };
    discount = Math.min(discount, c.budgetLeft);
  }
  if (discount <= 0) return { applicable: false, reason: 'zero_discount' };
  return { applicable: true, discount, value: discount };
}

export interface CouponChoice<C extends CouponCandidate = CouponCandidate> {
  coupon: C;
  discount: number;
  payable: number;
}

/**
 * The coupon to apply: the largest value (money off, or a free item's declared value), ties broken
 * by the earliest expiry (use what would be lost first), then by id so the answer never depends on
 * the input's order. Null when none applies.
 */
export function bestCoupon<C extends CouponCandidate>(basket: Basket, coupons: readonly C[], now: number): CouponChoice<C> | null {
  checkBasket(basket);
  let best: { c: C; discount: number; value: number } | null = null;
  for (const c of coupons) {
    const e = evaluateCoupon(basket, c, now);
    if (!e.applicable) continue;
    if (
      best === null ||
      e.value > best.value ||
      (e.value === best.value && (c.validTo < best.c.validTo || (c.validTo === best.c.validTo && c.id < best.c.id)))
    )
      best = { c, discount: e.discount, value: e.value };
  }
  return best === null ? null : { coupon: best.c, discount: best.discount, payable: basket.amount - best.discount };
}

/** Checks a reward's shape and amounts; throws `reward_invalid`. */
export function checkReward(r: Reward): Reward {
  const bad = (why: string): never => {
    throw new DomainError('invalid', 'reward_invalid', `The reward is not valid: ${why}.`);
  };
  const money = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
  const optMoney = (n: unknown) => n === undefined || (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0);
  switch (r?.kind) {
    case 'amount_off':
      if (!money(r.amount) || !optMoney(r.minSpend)) bad('amount and minimum spend are whole minor units');
      return { kind: r.kind, amount: r.amount, ...(r.minSpend !== undefined ? { minSpend: r.minSpend } : {}) };
    case 'percent_off':
      if (!Number.isInteger(r.percent) || r.percent < 1 || r.percent > 100) bad('percent is a whole number from 1 to 100');
      if (r.cap != null && !money(r.cap)) bad('the cap is whole minor units');
      if (!optMoney(r.minSpend)) bad('minimum spend is whole minor units');
      return { kind: r.kind, percent: r.percent, cap: r.cap ?? null, ...(r.minSpend !== undefined ? { minSpend: r.minSpend } : {}) };
    case 'spend_save':
      if (!money(r.threshold) || !money(r.amount)) bad('threshold and amount are whole minor units');
      if (r.amount > r.threshold) bad('the saving exceeds the threshold');
      return { kind: r.kind, threshold: r.threshold, amount: r.amount };
    case 'free_item':
      if (typeof r.code !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(r.code)) bad('the code is 1 to 32 letters, digits, - or _');
      if (typeof r.label !== 'string' || r.label.trim().length === 0 || r.label.length > 80) bad('the label is 1 to 80 characters');
      if (!optMoney(r.value) || !optMoney(r.minSpend)) bad('value and minimum spend are whole minor units');
      return {
        kind: r.kind,
        code: r.code,
        label: r.label.trim(),
        ...(r.value !== undefined ? { value: r.value } : {}),
        ...(r.minSpend !== undefined ? { minSpend: r.minSpend } : {}),
      };
    default:
      return bad('kind is amount_off, percent_off, spend_save or free_item');
  }
}

export function checkAudience(a: Audience): Audience {
  const bad = (why: string): never => {
    throw new DomainError('invalid', 'audience_invalid', `The audience is not valid: ${why}.`);
  };
  const days = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 3650;
  switch (a?.kind) {
    case 'all':
    case 'birthday_month':
      return { kind: a.kind };
    case 'new':
      if (a.days !== undefined && !days(a.days)) bad('days is 1 to 3650');
      return a.days === undefined ? { kind: 'new' } : { kind: 'new', days: a.days };
    case 'lapsed':
      if (!days(a.days)) bad('days is 1 to 3650');
      return { kind: 'lapsed', days: a.days };
    case 'segment':
      if (!(SEGMENTS as readonly string[]).includes(a.segment)) bad(`segment is one of ${SEGMENTS.join(', ')}`);
      return { kind: 'segment', segment: a.segment };
    case 'tag':
      if (typeof a.tag !== 'string' || a.tag.trim() === '') bad('tag is required');
      return { kind: 'tag', tag: a.tag.trim() };
    default:
      return bad('kind is all, new, segment, birthday_month, lapsed or tag');
  }
}

/** Whether a member is in an audience; `month` is the current month (1-12) in the merchant's zone. */
export function inAudience(a: Audience, m: AudienceMember, now: number, month: number): boolean {
  switch (a.kind) {
    case 'all':
      return true;
    case 'new':
      return now - m.joinedAt <= (a.days ?? 30) * DAY;
    case 'segment':
      return m.segment === a.segment;
    case 'birthday_month':
      return m.birthdayMonth === month;
    case 'lapsed':
      return now - (m.lastVisitAt ?? m.joinedAt) >= a.days * DAY;
    case 'tag':
      return m.tags.includes(a.tag);
  }
}

/**
 * Holdout assignment: HMAC-SHA256 of campaign id and member id under a server secret, read as a
 * number in [0, 1). Stable (the same pair always lands in the same group, on any process) and,
 * without the secret, unpredictable, so neither staff nor shoppers can steer who gets coupons.
 */
export function holdoutDraw(secret: string | Buffer, campaignId: string, memberId: string): number {
  const h = createHmac('sha256', secret).update(`${campaignId}\u0000${memberId}`).digest();
  return h.readUIntBE(0, 6) / 2 ** 48;
}

export function inHoldout(secret: string | Buffer, campaignId: string, memberId: string, percent: number): boolean {
  return holdoutDraw(secret, campaignId, memberId) < percent / 100;
}

/** Why a member cannot get a coupon of a campaign now. */
export type CouponRefusal = 'campaign_inactive' | 'not_in_audience' | 'budget_exhausted' | 'holdout' | 'limit_reached' | 'coupon_held' | 'birthday_treat_given';

export interface CouponEligibility {
  campaign: { status: string; validFrom: number; validTo: number; audience: Audience };
  budgetExhausted: boolean;
  perMemberLimit: number;
  member: AudienceMember;
  at: number;
  /** the current month (1-12) in the merchant's zone */
  month: number;
  holdout: boolean;
  /** the member's coupons of this campaign so far */
  held: readonly { status: string; validTo: number; issuedAt: number }[];
  /** a coupon a payment earns may sit beside an unused one; a scheduled or manual run gives none to a member who holds one */
  earnedByPayment: boolean;
  /** the merchant's time zone, read for a birthday campaign: its treat comes once per birthday month */
  birthdayTimeZone: string | null;
}

/**
 * Whether a member may get a coupon of a campaign, as one rule: issuing a coupon and the terminal's
 * "this payment earns" both ask it, so the terminal never offers what issuing then refuses.
 * Answers null when the member may, or the first rule that refuses.
 */
export function couponRefusal(e: CouponEligibility): CouponRefusal | null {
  if (e.campaign.status !== 'active' || e.at < e.campaign.validFrom || e.at >= e.campaign.validTo) return 'campaign_inactive';
  if (!inAudience(e.campaign.audience, e.member, e.at, e.month)) return 'not_in_audience';
  if (e.budgetExhausted) return 'budget_exhausted';
  if (e.holdout) return 'holdout';
  if (e.held.length >= e.perMemberLimit) return 'limit_reached';
  if (!e.earnedByPayment && e.held.some((c) => c.status === 'issued' && c.validTo > e.at)) return 'coupon_held';
  if (e.birthdayTimeZone !== null) {
    const thisMonth = localTime(e.at, e.birthdayTimeZone).date.slice(0, 7);
    if (e.held.some((c) => localTime(c.issuedAt, e.birthdayTimeZone!).date.slice(0, 7) === thisMonth)) return 'birthday_treat_given';
  }
  return null;
}

// ---- statistics ----

/** ln Γ(x) by Lanczos (g = 7, n = 9), accurate to about 1e-15 for x > 0. */
function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction for the regularised incomplete beta (Numerical Recipes' betacf). */
function betaCf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-14) break;
  }
  return h;
}

function incompleteBeta(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaCf(a, b, x)) / a : 1 - (front * betaCf(b, a, 1 - x)) / b;
}

/** P(T <= t) for Student's t with `df` degrees of freedom (df may be fractional, as Welch's is). */
export function studentTCdf(t: number, df: number): number {
  const p = 0.5 * incompleteBeta(df / 2, 0.5, df / (df + t * t));
  return t >= 0 ? 1 - p : p;
}

/** The t with P(T <= t) = p, by bisection (the CDF is monotone; 100 halvings are far past double precision). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError('p must be in (0, 1)');
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface Interval {
  /** mean(a) - mean(b) */
  difference: number;
  low: number;
  high: number;
  confidence: number;
  df: number;
  standardError: number;
}

function meanVar(xs: readonly number[]): { mean: number; variance: number } {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  return { mean, variance };
}

/**
 * Welch's t interval for the difference of two means (unequal variances, Welch-Satterthwaite
 * degrees of freedom). Null when a group has fewer than two values. When both groups have no
 * variance at all the interval collapses to the difference.
 */
export function welchInterval(a: readonly number[], b: readonly number[], confidence = 0.95): Interval | null {
  if (a.length < 2 || b.length < 2) return null;
  const A = meanVar(a);
  const B = meanVar(b);
  const va = A.variance / a.length;
  const vb = B.variance / b.length;
  const se = Math.sqrt(va + vb);
  const difference = A.mean - B.mean;
  if (se === 0) return { difference, low: difference, high: difference, confidence, df: a.length + b.length - 2, standardError: 0 };
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const t = studentTQuantile(1 - (1 - confidence) / 2, df);
  return { difference, low: difference - t * se, high: difference + t * se, confidence, df, standardError: se };
}
