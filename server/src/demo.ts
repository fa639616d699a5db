/**
 * The demo that `npm start` seeds on an empty database, made of real money movements: the members
 * demo (members/demo.ts: who joins, visits, spends and redeems, by a documented model) pays every
 * purchase through a till built here from the platform's own services on the same database, but on
 * clocks that this module sets to each purchase's moment (a checkout lane: its own services and
 * ManualClock; the members demo could use several at once). So each purchase is a succeeded payment
 * intent at the demo store's terminal, paid from a wallet filled by top-ups, with its ledger
 * transfers and platform fee, recorded as a face-pay or pay-code attempt (the dashboard's face
 * share), a receipt in the shopper's inbox, and the member's purchase written by the checkout itself.
 *
 * The till's model, on top of the members demo's (here with 5 non-member payments a day by a
 * pool of 120 non-member shoppers):
 * - 88 % of payments are by face and 12 % by pay code (a hash of shopper and time decides, so the
 *   lanes' order does not); a coupon applies only to face payments (the
 *   terminal shows offers after recognising the face), as at a real terminal.
 * - A shopper's wallet is topped up with 300.00 plus the ticket whenever it cannot pay the ticket.
 * - About 1.5 % of payments are refunded within three days (never after now): two in three in full
 *   (a coupon used comes back), the rest in part, 10 % to 60 % of what was paid.
 *
 * Only the face engine is left out: the till's face check accepts the frame it is sent and its
 * gallery names the shopper whose visit it is. Everything after recognition is the real checkout.
 */
import { createHash } from 'node:crypto';
import { createCheckout } from './checkout.ts';
import { createPlatform, type Platform } from './composition.ts';
import { AttemptRepo, createFacePayService, type FacePayService, type TerminalRef } from './facepay/index.ts';
import { seedDemoCrm, type DemoCrmResult, type DemoTill } from './members/index.ts';
import { ManualClock, seededRandom, type Random } from './platform/index.ts';
import { DEFAULT_RULES } from './risk/index.ts';

const MAX = Number.MAX_SAFE_INTEGER;

export interface DemoOptions {
  merchantId: string;
  /** The merchant's stores, each with the terminal its purchases are paid at. */
  tills: readonly { storeId: string; terminalId: string }[];
  random: Random;
  timeZone: string;
  memberCount?: number;
  days?: number;
  nonMembersPerDay?: number;
}

export interface DemoResult extends DemoCrmResult {
  payments: number;
  byFace: number;
  byPayCode: number;
  refunds: number;
  topUps: number;
}

const FACE_SHARE = 0.88;
/** Each payment costs a few milliseconds on SQLite: fewer strangers than the members demo's 20 a day keep the first start short. */
const NON_MEMBERS_PER_DAY = 5;
const REFUND_RATE = 0.015;
const TOP_UP = 30_000;
const HOUR = 3600_000;
/**
 * Checkouts at work at once, each with its own clock. One: on SQLite the seeding is bound by the
 * CPU, and on PostgreSQL four lanes queued on the welcome campaign's row lock (150 s against 33 s).
 */
const LANES = 1;

/** A uniform number in [0, 1) from a string: the same visit is paid the same way whichever lane takes it. */
function unit(key: string): number {
  return createHash('sha256').update(key).digest().readUIntBE(0, 6) / 2 ** 48;
}

/** One checkout lane: the platform's services on a clock of their own, with a stand-in for the face engine. */
interface Lane {
  platform: Platform;
  clock: ManualClock;
  facePay: FacePayService;
  /** Who the stand-in face engine and pay-code reader recognise now. */
  seen: { shopper: string };
}

async function openLane(p: Platform, now: number, failures: string[]): Promise<Lane> {
  const clock = new ManualClock(new Date(now));
  // The same configuration (so the same marketing holdout secret) and database, on the lane's clock.
  const platform = await createPlatform({ ...p.config, faceEnabled: false }, { db: p.db, clock, logStream: { write: () => undefined } });
  const { payments, members, marketing, shoppers, merchants } = platform.services;
  const log = { error: (obj: Record<string, unknown>, msg: string) => failures.push(`${msg}: ${String(obj.err)}`) };
  const seen = { shopper: '' };
  const facePay = createFacePayService({
    attempts: new AttemptRepo(p.db),
    face: {
      issueChallenge: () => ({ id: platform.ids.next('chl'), kind: 'blink', issuedAt: clock.now().getTime(), expiresAt: clock.now().getTime() + 60_000 }),
      verify: async () => ({ ok: true, embedding: new Float32Array(1), model: { name: 'demo', version: '0' } }),
    },
    gallery: { identify: async () => ({ outcome: 'match', shopperId: seen.shopper, falseMatchProbability: 0 }) },
    shoppers: {
      get: async (id) => ({ id, maskedName: 'Demo shopper', facePayEnabled: true, perPaymentLimit: null, hasPin: false }),
      payCodeShopper: async () => seen.shopper,
      usePayCode: async () => {},
      verifyPin: async () => false,
      lockFacePay: async () => {},
    },
    checkout: createCheckout({ db: p.db, payments, members, marketing, shoppers, merchants, clock, ids: platform.ids, log }).checkout,
    // The demo writes a history of face payments, it does not test decisions: no amount steps up.
    riskRules: { ...DEFAULT_RULES, faceAloneLimit: { camera_2d: MAX, depth: MAX, ir: MAX }, firstVisitFaceAloneLimit: MAX, faceMaxAmount: MAX },
    clock,
    ids: platform.ids,
  });
  return { platform, clock, facePay, seen };
}

/** Seeds the demo merchant's programme, campaigns and paid history; null when it already has a programme. */
export async function seedDemo(p: Platform, opts: DemoOptions): Promise<DemoResult | null> {
  const { merchantId } = opts;
  // The till draws from a stream of its own, so that its draws never shift the members demo's.
  const random = seededRandom(opts.random.int(2 ** 31));
  const existing = await p.services.members.programme(merchantId).catch(() => null);
  if (existing !== null) return null;

  const now = p.clock.now().getTime();
  const failures: string[] = [];
  const lanes: Lane[] = [];
  try {
    for (let i = 0; i < LANES; i++) lanes.push(await openLane(p, now, failures));
    const free = [...lanes];
    const currency = p.config.walletCurrency;
    const terminals = new Map<string, TerminalRef>(opts.tills.map((t) => [t.storeId, { merchantId, storeId: t.storeId, terminalId: t.terminalId }]));
    // Till receipts are numbered by their local day (20261124-00042), so an order number's start finds a day.
    const receiptDay = new Intl.DateTimeFormat('en-CA', { timeZone: opts.timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    const balances = new Map<string, number>();
    const paid: { id: string; at: number; received: number }[] = [];
    let byFace = 0;
    let topUps = 0;
    const till: DemoTill = {
      lanes: LANES,
      async pay(v) {
        const terminal = terminals.get(v.storeId);
        if (!terminal) throw new Error(`the demo has no till for store ${v.storeId}`);
        // The members demo never asks more of it at once than it has lanes.
        const lane = free.pop()!;
        try {
          lane.clock.set(new Date(v.at));
          lane.seen.shopper = v.shopperId;
          const { payments, members, marketing } = lane.platform.services;
          const balance = balances.get(v.shopperId) ?? 0;
          if (balance < v.amount) {
            await payments.topUp(v.shopperId, TOP_UP + v.amount, currency, `demo-top-up-${++topUps}`);
            balances.set(v.shopperId, balance + TOP_UP + v.amount);
          }
          const pi = await payments.createIntent(merchantId, {
            amount: v.amount,
            currency,
            storeId: v.storeId,
            terminalId: terminal.terminalId,
            orderReference: `${receiptDay.format(v.at).replaceAll('-', '')}-${String(paid.length + 1).padStart(5, '0')}`,
          });
          const paymentId = `demo-${pi.id}`;
          let outcome;
          let discount = 0;
          if (unit(`${v.shopperId}:${v.at}`) < FACE_SHARE) {
            byFace++;
            const { attemptId } = await lane.facePay.challenge(terminal, pi.id);
            const decision = await lane.facePay.capture(terminal, attemptId, [{ at: v.at, image: new Uint8Array(0) }]);
            if (decision.outcome === 'match') discount = decision.discount;
            await v.beforeConfirm?.({ members, marketing });
            outcome = await lane.facePay.confirm(terminal, attemptId, { paymentId });
          } else {
            await v.beforeConfirm?.({ members, marketing });
            outcome = await lane.facePay.payWithCode(terminal, pi.id, 'demo', paymentId);
          }
          if (outcome.status !== 'succeeded') throw new Error(`demo payment ${pi.id} failed: ${outcome.code ?? ''} ${outcome.message ?? ''}`);
          balances.set(v.shopperId, (balances.get(v.shopperId) ?? 0) - (v.amount - discount));
          paid.push({ id: pi.id, at: v.at, received: v.amount - discount });
          return { paymentId: pi.id, discount };
        } finally {
          free.push(lane);
        }
      },
    };

    // The programme, campaigns and the end of the story (leaving, birthday treats) happen now, on the platform itself.
    const crm = await seedDemoCrm({
      members: p.services.members,
      marketing: p.services.marketing,
      clock: p.clock,
      random: opts.random,
      merchantId,
      storeIds: opts.tills.map((t) => t.storeId),
      currency: currency.toUpperCase(),
      timeZone: opts.timeZone,
      till,
      ...(opts.memberCount !== undefined ? { memberCount: opts.memberCount } : {}),
      ...(opts.days !== undefined ? { days: opts.days } : {}),
      nonMembersPerDay: opts.nonMembersPerDay ?? NON_MEMBERS_PER_DAY,
      guests: 120,
    });
    if (crm === null) return null;

    // Refunds come last: the refund follow-up gives a fully refunded payment's coupon back, which
    // must not happen before the members demo has looked at who still holds one.
    const { clock, platform } = lanes[0]!;
    let refunds = 0;
    paid.sort((a, b) => a.at - b.at || a.received - b.received);
    for (const pay of paid) {
      if (random.float() >= REFUND_RATE) continue;
      const at = pay.at + (1 + random.float() * 71) * HOUR;
      if (at >= now) continue;
      clock.set(new Date(at));
      const full = random.float() < 2 / 3;
      const amount = full ? undefined : Math.max(1, Math.floor(pay.received * (0.1 + 0.5 * random.float())));
      await platform.services.payments.createRefund(merchantId, { paymentIntentId: pay.id, ...(amount !== undefined ? { amount } : {}), reason: 'requested_by_customer' });
      refunds++;
    }
    if (failures.length > 0) throw new Error(`the demo's follow-up steps failed: ${failures.slice(0, 3).join('; ')}`);
    return { ...crm, payments: paid.length, byFace, byPayCode: paid.length - byFace, refunds, topUps };
  } finally {
    for (const lane of lanes) await lane.platform.close();
  }
}
