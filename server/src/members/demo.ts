/**
 * A seeded demo CRM: one merchant's programme, a few hundred members and a few months of
 * purchases, so that the CRM and campaign screens have something real to show.
 *
 * The model (every draw from the injected Random, so a seed gives the same data):
 * - Joins spread over the history, denser early (day = start + span × u^1.3, at the member's habit hour).
 * - A member joins at a payment, which is their first visit.
 * - Each member visits as a Poisson process whose rate is Gamma-distributed across members
 *   (shape 0.8, mean 1.1 visits a week): the gamma-Poisson mix gives the long tail of regulars
 *   and one-off visitors real shops see (visit counts are negative-binomial).
 * - 35 % of members lapse: they stop at a uniformly drawn moment after joining.
 * - Day of week by thinning (weights Mon..Sun 0.75 0.75 0.8 0.85 1 1 0.9); time of day from the
 *   member's habit, one of morning (8:00 ± 1 h), lunch (12:30 ± 1 h), evening (18:30 ± 1.5 h),
 *   followed 70 % of the time, otherwise another habit.
 * - Tickets are log-normal: a member's median is the shop's (38.00) × e^N(0, 0.35), and each
 *   ticket is that × e^N(0, 0.45), at least 1.00. 80 % of visits are at the member's home store.
 * - Non-members pay by face too: Poisson(nonMembersPerDay) a day, tickets like the members', each
 *   by one of a pool of `guests` shoppers drawn uniformly (so some come back without joining).
 * - Campaigns: a welcome coupon on joining (5.00 off from 20.00, 30 days), a win-back 30 days
 *   ago for members lapsed 30 days (20 % off up to 15.00, 21 days), a birthday free item run by
 *   the schedule now. Each keeps its 10 % holdout. A treated member redeems on the first visit
 *   the coupon fits; the welcome coupon adds a visit within 14 days with probability 0.3 and the
 *   win-back brings a lapsed member back with probability 0.3, so the results show an uplift.
 * - 2 % of members leave at the end and 10 % carry the merchant's tag "oat milk".
 *
 * A seed gives the same joins, visits and tickets; who lands in a holdout depends on the member
 * ids, which are random on a real platform, and so do the redemptions.
 *
 * It seeds once: a merchant that already has a programme is left alone (the answer is null), so
 * `npm start` can call it on every start.
 *
 * With a `till` (server/src/demo.ts gives one that really takes the money) every purchase is paid
 * through it in time order per shopper: the joining visit joins inside its payment, and coupons are
 * the till's to apply (the real checkout applies the best coupon held, which is the rule above);
 * the till records the purchases in the CRM. Without one, the purchases and coupon redemptions are
 * written straight into the CRM (tests, the CRM benchmark).
 */
import type { Clock, Random } from '../platform/index.ts';
import type { MarketingService } from '../marketing/index.ts';
import type { MembersService } from './service.ts';
import { MEMBERSHIP_CONSENT } from './types.ts';
import { localTime, type MemberFields } from './rules.ts';

export interface DemoCrmOptions {
  members: MembersService;
  marketing: MarketingService;
  clock: Clock;
  random: Random;
  merchantId: string;
  storeIds: readonly string[];
  memberCount?: number;
  days?: number;
  nonMembersPerDay?: number;
  currency?: string;
  timeZone?: string;
  /** Real shopper ids to use for the first members (for example the demo shopper's); the rest are synthetic. */
  shopperIds?: readonly string[];
  /** How many distinct non-member shoppers pay (with a till); 150 by default. */
  guests?: number;
  till?: DemoTill;
}

/** The members and marketing services as they stand at one visit's moment (their clock says `at`). */
export interface DemoServices {
  members: MembersService;
  marketing: MarketingService;
}

/** Where the demo's purchases are paid when it runs on a whole platform. */
export interface DemoTill {
  /** How many shoppers it can serve at once: `pay` is called for up to this many shoppers concurrently, each shopper's visits one after another in time order. */
  lanes: number;
  /**
   * Pays `amount` by `shopperId` at `storeId` at the instant `at`, applying the best coupon the
   * shopper holds as a member, and records it in the CRM. `beforeConfirm` runs once the shopper is
   * recognised and before the money moves (when a shopper joins at the terminal), with services
   * whose clock is at the visit.
   */
  pay(visit: { shopperId: string; storeId: string; amount: number; at: number; beforeConfirm?: (at: DemoServices) => Promise<void> }): Promise<{ paymentId: string; discount: number }>;
}

/** Runs `fn` on each item, one shopper's items in their order, up to `lanes` shoppers at once; the first failure is thrown once all have stopped. */
async function perShopper<T extends { shopperId: string }>(items: readonly T[], lanes: number, fn: (item: T) => Promise<void>): Promise<void> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const g = groups.get(item.shopperId);
    if (g) g.push(item);
    else groups.set(item.shopperId, [item]);
  }
  const queue = [...groups.values()];
  let failed = false;
  const results = await Promise.allSettled(
    Array.from({ length: Math.max(1, lanes) }, async () => {
      for (let g = queue.shift(); g !== undefined && !failed; g = queue.shift()) {
        try {
          for (const item of g) await fn(item);
        } catch (e) {
          failed = true;
          throw e;
        }
      }
    }),
  );
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) throw (failure as PromiseRejectedResult).reason;
}

export interface DemoCrmResult {
  memberIds: string[];
  purchases: number;
  nonMemberPayments: number;
  redemptions: number;
  left: number;
  campaigns: { welcome: string; winBack: string; birthday: string };
}

const DAY = 24 * 3600 * 1000;
const HOUR = 3600 * 1000;
const FIRST = ['Wei', 'Li', 'Ana', 'Tom', 'Mei', 'Sam', 'Yuki', 'Omar', 'Lena', 'Ravi', 'Chen', 'Ines', 'Jon', 'Zara', 'Hao', 'Nina'];
const LAST = ['Wang', 'Zhang', 'Silva', 'Berg', 'Khan', 'Lee', 'Sato', 'Novak', 'Costa', 'Ng', 'Meyer', 'Liu'];
const WEEKDAY_WEIGHT = [0.75, 0.75, 0.8, 0.85, 1, 1, 0.9];
const HABITS = [
  { hour: 8, sd: 1 },
  { hour: 12.5, sd: 1 },
  { hour: 18.5, sd: 1.5 },
];

export async function seedDemoCrm(opts: DemoCrmOptions): Promise<DemoCrmResult | null> {
  const { members, marketing, random, merchantId, storeIds } = opts;
  if (storeIds.length === 0) throw new Error('seedDemoCrm needs at least one store id');
  const existing = await members.programme(merchantId).catch(() => null);
  if (existing !== null) return null;
  const count = opts.memberCount ?? 300;
  const days = opts.days ?? 120;
  const currency = opts.currency ?? 'CNY';
  const tz = opts.timeZone ?? 'Asia/Shanghai';
  const now = opts.clock.now().getTime();
  const start = now - days * DAY;

  const normal = (): number => {
    const u = 1 - random.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.float());
  };
  // Marsaglia and Tsang; a shape below 1 is boosted to shape + 1 and scaled by U^(1/shape).
  const gamma = (shape: number): number => {
    if (shape < 1) return gamma(shape + 1) * Math.pow(1 - random.float(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = normal();
      const v = (1 + c * x) ** 3;
      if (v <= 0) continue;
      const u = 1 - random.float();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  const exponential = (rate: number): number => -Math.log(1 - random.float()) / rate;
  const poisson = (mean: number): number => {
    let k = 0;
    let p = Math.exp(-mean);
    let s = p;
    const u = random.float();
    while (u > s) {
      k++;
      p *= mean / k;
      s += p;
    }
    return k;
  };
  const pick = <T>(xs: readonly T[]): T => xs[random.int(xs.length)]!;
  const ticket = (median: number): number => Math.max(100, Math.round(median * Math.exp(0.45 * normal())));
  /** Moves an instant to a drawn local hour of the same local day. */
  const atHabit = (t: number, habit: number): number => {
    const h = HABITS[habit]!;
    const target = Math.min(22.9, Math.max(6, h.hour + h.sd * normal()));
    const local = localTime(t, tz).hour;
    const minutes = Math.floor(random.float() * 60);
    return t - (local - Math.floor(target)) * HOUR - (t % HOUR) + minutes * 60_000;
  };

  await members.setProgramme(merchantId, {
    name: 'Demo Coffee Club',
    benefits: 'A welcome coupon, a birthday treat, and offers picked for you.',
    fields: ['name', 'phone', 'birthday', 'email'],
    currency,
    timeZone: tz,
  });
  const welcome = await marketing.createCampaign(merchantId, {
    name: 'Welcome coupon',
    trigger: 'join',
    audience: { kind: 'all' },
    reward: { kind: 'amount_off', amount: 500, minSpend: 2000 },
    currency,
    validFrom: start - DAY,
    validTo: now + 365 * DAY,
    couponDays: 30,
    message: { title: 'Welcome to Demo Coffee Club', body: '5.00 off your next visit from 20.00, for 30 days.' },
  });

  interface Sim {
    memberId: string;
    shopperId: string;
    joinedAt: number;
    median: number;
    habit: number;
    home: string;
    visits: { at: number; amount: number; store: string }[];
    welcomeCoupon: string | null;
    fields: MemberFields;
    /** The visit the welcome coupon may add (drawn for everyone, kept for a treated member). */
    extra: { draw: number; at: number; amount: number; store: string };
    first: { shopperId: string; at: number; amount: number; storeId: string };
  }
  type Visit = { sim: Sim; at: number; amount: number; store: string; paymentId: string; coupon: string | null };
  const { till } = opts;
  let serial = 0;
  const nextPaymentId = (): string => `pay_demo_${String(serial++).padStart(6, '0')}`;
  let redemptions = 0;
  const sims: Sim[] = [];
  const visits: Visit[] = [];
  for (let i = 0; i < count; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const fields: MemberFields = {};
    if (random.float() < 0.85) fields.name = `${first} ${last}`;
    if (random.float() < 0.6) fields.phone = `+86138${String(random.int(1e8)).padStart(8, '0')}`;
    if (random.float() < 0.7)
      fields.birthday = `${1960 + random.int(45)}-${String(1 + random.int(12)).padStart(2, '0')}-${String(1 + random.int(28)).padStart(2, '0')}`;
    if (random.float() < 0.5) fields.email = `${first}.${last}${i}@example.com`.toLowerCase();
    const shopperId = opts.shopperIds?.[i] ?? `shp_demo_${merchantId}_${String(i).padStart(4, '0')}`;
    const rate = (gamma(0.8) * (1.1 / 0.8)) / 7; // visits per day; the gamma mean is shape × scale = 1.1 a week
    const habit = random.float() < 0.4 ? 0 : random.float() < 0.58 ? 1 : 2;
    const joinedAt = atHabit(Math.floor(start + (days - 1) * DAY * Math.pow(random.float(), 1.3)), habit);
    const churnAt = random.float() < 0.35 ? joinedAt + random.float() * (now - joinedAt) : now;
    const home = pick(storeIds);
    const median = 3800 * Math.exp(0.35 * normal());
    // The first visit is the payment at which they joined.
    const firstVisit = { shopperId, at: joinedAt, amount: ticket(median), storeId: random.float() < 0.8 ? home : pick(storeIds) };
    const sim: Sim = { memberId: '', shopperId, joinedAt, median, habit, home, visits: [], welcomeCoupon: null, fields, first: firstVisit, extra: { draw: 0, at: 0, amount: 0, store: home } };
    let t = joinedAt;
    for (;;) {
      t += exponential(Math.max(rate, 1e-4)) * DAY;
      if (t >= churnAt || t >= now) break;
      if (random.float() > WEEKDAY_WEIGHT[localTime(t, tz).weekday]!) continue;
      const v = atHabit(t, random.float() < 0.7 ? habit : random.int(3));
      const drawn = { at: v, amount: ticket(sim.median), store: random.float() < 0.8 ? home : pick(storeIds) };
      if (v > joinedAt && v < now) sim.visits.push(drawn);
    }
    // Drawn whether or not the member gets the coupon (or is in the holdout), so that the random
    // member ids behind holdouts do not shift every later draw: a seed gives the same visits.
    sim.extra = { draw: random.float(), at: atHabit(joinedAt + (1 + random.float() * 13) * DAY, habit), amount: ticket(median), store: random.float() < 0.8 ? home : pick(storeIds) };
    sims.push(sim);
  }

  const join = async (sim: Sim, at: DemoServices): Promise<void> => {
    const { shopperId, fields, joinedAt } = sim;
    sim.memberId = (await at.members.join({ merchantId, shopperId, fields, consentVersion: MEMBERSHIP_CONSENT.version, terminalId: null, at: joinedAt })).memberId;
    const coupons = await at.marketing.onJoined(merchantId, sim.memberId, joinedAt);
    sim.welcomeCoupon = coupons.find((c) => c.campaignId === welcome.id)?.id ?? null;
  };
  if (till) {
    await perShopper(sims, till.lanes, async (sim) => {
      await till.pay({ ...sim.first, beforeConfirm: (at) => join(sim, at) });
    });
  } else {
    for (const sim of sims) {
      await join(sim, { members, marketing });
      visits.push({ sim, at: sim.first.at, amount: sim.first.amount, store: sim.first.storeId, paymentId: nextPaymentId(), coupon: null });
    }
  }
  for (const sim of sims) if (sim.welcomeCoupon !== null && sim.extra.draw < 0.3 && sim.extra.at < now) sim.visits.push(sim.extra);

  // Every later visit becomes a purchase; a held welcome coupon is redeemed on the first visit it fits.
  for (const s of sims) {
    s.visits.sort((a, b) => a.at - b.at);
    let coupon = s.welcomeCoupon;
    for (const { at, amount, store } of s.visits) {
      const v: Visit = { sim: s, at, amount, store, paymentId: nextPaymentId(), coupon: null };
      if (coupon !== null && at > s.joinedAt && at < s.joinedAt + 30 * DAY && amount >= 2000) {
        v.coupon = coupon;
        coupon = null;
      }
      visits.push(v);
    }
  }

  const record = async (batch: Visit[]): Promise<void> => {
    batch.sort((a, b) => a.at - b.at);
    if (till) {
      await perShopper(
        batch.map((v) => ({ shopperId: v.sim.shopperId, storeId: v.store, amount: v.amount, at: v.at })),
        till.lanes,
        async (v) => {
          if ((await till.pay(v)).discount > 0) redemptions++;
        },
      );
      return;
    }
    const rows = [];
    for (const v of batch) {
      let paid = v.amount;
      if (v.coupon !== null) {
        const r = await marketing.redeem({
          merchantId,
          memberId: v.sim.memberId,
          couponId: v.coupon,
          paymentId: v.paymentId,
          basket: { amount: v.amount, currency },
          at: v.at,
        });
        paid = r.payable;
        redemptions++;
      }
      rows.push({ memberId: v.sim.memberId, paymentId: v.paymentId, storeId: v.store, amount: paid, currency, at: v.at });
    }
    await members.importPurchases(merchantId, rows);
  };

  // The win-back goes out 30 days ago, to members lapsed as of then: history before it first.
  const winBackAt = now - 30 * DAY;
  await record(visits.filter((v) => v.at < winBackAt));
  const winBack = await marketing.createCampaign(merchantId, {
    name: 'We miss you',
    trigger: 'manual',
    audience: { kind: 'lapsed', days: 30 },
    reward: { kind: 'percent_off', percent: 20, cap: 1500 },
    currency,
    validFrom: winBackAt - DAY,
    validTo: now + 30 * DAY,
    couponDays: 21,
    message: { title: 'We miss you', body: '20% off your next visit (up to 15.00) for three weeks.' },
  });
  await marketing.issueNow(merchantId, winBack.id, winBackAt);
  const later = visits.filter((v) => v.at >= winBackAt);
  let comebacks = 0;
  for (const s of sims) {
    const held = (await marketing.couponsOf(merchantId, s.memberId)).find((c) => c.campaignId === winBack.id && c.status === 'issued');
    const comeback = { draw: random.float(), at: atHabit(winBackAt + (1 + random.float() * 19) * DAY, s.habit), amount: ticket(s.median) };
    if (!held) continue;
    const next = later.find((v) => v.sim === s && v.at < winBackAt + 21 * DAY && v.coupon === null);
    if (next) next.coupon = held.id;
    else if (comeback.draw < 0.3 && comeback.at < now) {
      later.push({ sim: s, at: comeback.at, amount: comeback.amount, store: s.home, paymentId: nextPaymentId(), coupon: held.id });
      comebacks++;
    }
  }
  await record(later);

  // Non-members: in the CRM, aggregates only.
  const strangers: { paymentId: string; shopperId: string; storeId: string; amount: number; currency: string; at: number }[] = [];
  const guests = opts.guests ?? 150;
  for (let d = 0; d < days; d++) {
    const n = poisson(opts.nonMembersPerDay ?? 20);
    for (let k = 0; k < n; k++) {
      const at = atHabit(start + d * DAY + random.float() * DAY, random.int(3));
      const shopperId = `shp_demo_${merchantId}_g${String(random.int(guests)).padStart(4, '0')}`;
      if (at < now) strangers.push({ paymentId: nextPaymentId(), shopperId, storeId: pick(storeIds), amount: ticket(3800), currency, at });
    }
  }
  strangers.sort((a, b) => a.at - b.at);
  let nonMember = strangers.length;
  if (till) await perShopper(strangers, till.lanes, async (p) => void (await till.pay(p)));
  else nonMember = await members.importNonMemberPayments(merchantId, strangers);

  const birthday = await marketing.createCampaign(merchantId, {
    name: 'Birthday treat',
    trigger: 'schedule',
    audience: { kind: 'birthday_month' },
    reward: { kind: 'free_item', code: 'BDAYCAKE', label: 'slice of cake', value: 1800 },
    currency,
    validFrom: now - DAY,
    validTo: now + 365 * DAY,
    message: { title: 'Happy birthday!', body: 'A slice of cake on us this month.' },
  });
  await marketing.runScheduled(now);

  let left = 0;
  for (const s of sims) {
    const r = random.float();
    if (r < 0.1) await members.addTag(merchantId, s.memberId, 'oat milk');
    if (r > 0.98 && !opts.shopperIds?.includes(s.shopperId)) {
      await members.leave(s.shopperId, merchantId);
      await marketing.onMemberLeft(merchantId, s.memberId);
      left++;
    }
  }

  return {
    memberIds: sims.map((s) => s.memberId),
    // With a till the joining visits were paid at once, not queued in `visits`.
    purchases: visits.length + comebacks + (till ? sims.length : 0),
    nonMemberPayments: nonMember,
    redemptions,
    left,
    campaigns: { welcome: welcome.id, winBack: winBack.id, birthday: birthday.id },
  };
}
