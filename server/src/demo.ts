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
 * - A shopper's wallet is topped up with 300.00 plus the ticket whenever it cannot pay the ticket,
 *   by a bank transfer carrying the shopper's RF reference, imported as the bank's camt.054
 *   notification through the bank-transfer rail; at the end the bank's camt.053 states the closing
 *   balance (every top-up, nothing paid out yet), so a fresh demo reconciles.
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
import { amountAsDecimal, ManualClock, seededRandom, type Random } from './platform/index.ts';
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

const isoDay = (at: number): string => new Date(at).toISOString().slice(0, 10);
/** Minor units as a camt amount (2 decimals, as the import reads them). */

/** A bank's credit notification (camt.054) of one booked transfer carrying an RF reference. */
function bankNotification(entryRef: string, reference: string, amount: number, currency: string, at: number): string {
  const ccy = currency.toUpperCase();
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>${entryRef}</MsgId><CreDtTm>${new Date(at).toISOString()}</CreDtTm></GrpHdr>
<Ntfctn><Id>${entryRef}</Id><Ntry><Amt Ccy="${ccy}">${amountAsDecimal(amount, ccy)}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>${isoDay(at)}</Dt></BookgDt>
<AcctSvcrRef>${entryRef}</AcctSvcrRef><NtryDtls><TxDtls><RmtInf><Strd><CdtrRefInf><Ref>${reference}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry></Ntfctn>
</BkToCstmrDbtCdtNtfctn></Document>`;
}

/** A bank statement (camt.053) that states only the account's closing booked balance. */
function bankStatement(id: string, closing: number, currency: string, at: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>${id}</MsgId><CreDtTm>${new Date(at).toISOString()}</CreDtTm></GrpHdr>
<Stmt><Id>${id}</Id><Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="${currency.toUpperCase()}">${amountAsDecimal(closing, currency)}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>${isoDay(at)}</Dt></Dt></Bal></Stmt>
</BkToCstmrStmt></Document>`;
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
    let toppedUp = 0;
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
            // Money in as it comes in for real: a bank transfer with the shopper's RF reference,
            // notified by the bank (camt.054) and imported through the bank-transfer rail.
            const amount = TOP_UP + v.amount;
            const funding = lane.platform.services.fundingService!;
            const reference = await funding.paymentReference(v.shopperId);
            const r = await funding.importStatement(bankNotification(`DEMO-TOP-UP-${++topUps}`, reference, amount, currency, v.at));
            if (r.credited !== 1) throw new Error(`the demo's bank top-up ${topUps} was not credited`);
            toppedUp += amount;
            balances.set(v.shopperId, balance + amount);
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
    // The bank's statement of today: every top-up received and nothing paid out yet, so the
    // reconciliation sets the float against a real closing balance.
    if (p.services.fundingService) await p.services.fundingService.importStatement(bankStatement(`DEMO-STATEMENT-${isoDay(now)}`, toppedUp, currency, now));
    return { ...crm, payments: paid.length, byFace, byPayCode: paid.length - byFace, refunds, topUps };
  } finally {
    for (const lane of lanes) await lane.platform.close();
  }
}
