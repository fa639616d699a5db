/**
 * The composition root: the one place that builds every service from the configuration and wires
 * them together. To add a module: append its migrations to `allMigrations`, build its service in
 * `createPlatform` (from `db`, `clock`, `ids`, `random` and the services it needs), add it to
 * `services` (and to `AppServices` in http/types.ts if routes use it), and register its route file
 * in http/routes/index.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/index.ts';
import { createDevicesService, DeviceRepo, deviceMigrations } from './devices/index.ts';
import { buildApp, createIdempotencyStore, httpMigrations, snakeKeys, type AppServices } from './http/index.ts';
import { createLedger, createWallets, ledgerMigrations, topUpFundingSource } from './ledger/index.ts';
import { createMerchantService, createWebhookService, merchantMigrations, type MerchantService, type NewEvent, type WebhookPoster } from './merchants/index.ts';
import { createPaymentService, paymentMigrations } from './payments/index.ts';
import { cryptoRandom, DomainError, isDomainError, randomIds, systemClock, type Clock, type IdGenerator, type Random } from './platform/index.ts';
import { migrate, PostgresDb, SqliteDb, type Db, type Migration } from './storage/index.ts';
import { createFaceStack, type FaceStack } from './face-stack.ts';
import type { ChallengeOptions } from './face/index.ts';
import { AttemptRepo, createFacePayService, facePayMigrations, type Checkout } from './facepay/index.ts';
import { galleryMigrations } from './gallery/index.ts';
import { bestCoupon, createMarketingService, MarketingRepo, marketingMigrations, type MarketingService } from './marketing/index.ts';
import { createMembersService, MemberRepo, memberMigrations, type MembersService } from './members/index.ts';
import type { PaymentIntent, PaymentService, RefundListener } from './payments/index.ts';
import { createShopperService, ShopperRepo, shopperMigrations, type FaceTemplatePort, type ShopperService } from './shoppers/index.ts';
import { createStaffService, StaffRepo, staffMigrations } from './staff/index.ts';
import { createReportsService } from './reports/index.ts';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';

export const allMigrations: readonly Migration[] = [
  ...ledgerMigrations,
  ...merchantMigrations,
  ...paymentMigrations,
  ...httpMigrations,
  ...deviceMigrations,
  ...shopperMigrations,
  ...memberMigrations,
  ...marketingMigrations,
  ...galleryMigrations,
  ...facePayMigrations,
  ...staffMigrations,
];

export interface PlatformOverrides {
  clock?: Clock;
  ids?: IdGenerator;
  random?: Random;
  /** An already open database (tests); otherwise opened from the configuration. */
  db?: Db;
  webhookPoster?: WebhookPoster;
  logStream?: { write(line: string): void };
  /** The liveness challenge's settings (a browser test's fake camera can only turn one way). */
  faceChallenge?: Partial<ChallengeOptions>;
}

export interface Platform {
  config: Config;
  db: Db;
  clock: Clock;
  ids: IdGenerator;
  services: AppServices;
  app: FastifyInstance;
  /** The face engine and gallery when FACEPAY_FACE is on (benchmarks fill the gallery through it). */
  face: FaceStack | undefined;
  /** Starts the background workers (webhook delivery, pending-transfer expiry, idempotency-key purge). */
  startWorkers(): void;
  /** Stops the workers and the app and closes the database (unless it was given). */
  close(): Promise<void>;
}

/** Opens the configured database (PostgreSQL if FACEPAY_PG_URL, else SQLite under the data dir), migrated. */
export async function openConfiguredDb(config: Config, migrations: readonly Migration[] = allMigrations): Promise<Db> {
  let db: Db;
  if (config.pgUrl) {
    const pg = new PostgresDb({ url: config.pgUrl, maxConnections: config.pgMaxConnections });
    await pg.init();
    db = pg;
  } else {
    db = new SqliteDb(join(config.dataDir, 'facepay.sqlite'));
  }
  await migrate(db, migrations);
  return db;
}

/**
 * Crypto-strength bytes drawn from a pool refilled 4 KiB at a time: ids are made on every write,
 * and one getrandom call per id was a tenth of the time of a payment.
 */
export function pooledCryptoRandom(): Random {
  let pool = randomBytes(4096);
  let at = 0;
  const bytes = (n: number): Buffer => {
    if (n > 1024) return randomBytes(n);
    if (at + n > pool.length) {
      pool = randomBytes(4096);
      at = 0;
    }
    const out = Buffer.from(pool.subarray(at, at + n));
    at += n;
    return out;
  };
  return {
    bytes,
    float: () => bytes(6).readUIntBE(0, 6) / 2 ** 48,
    int: (max) => Math.floor((bytes(6).readUIntBE(0, 6) / 2 ** 48) * max),
  };
}

/** Without the face stack, face payment and enrolment answer plainly that they are off; pay codes still work. */
function faceOff(): never {
  throw new DomainError('unavailable', 'face_engine_off', 'Face payment and enrolment are switched off on this server (FACEPAY_FACE=0).');
}

const noFaces: FaceTemplatePort = {
  enrol: async () => faceOff(),
  updateProfile: async () => undefined,
  remove: async () => undefined,
};

/**
 * Secrets that only need to be stable and private, derived from the master key (or, for a
 * development start without one, from the data directory path) so that an operator manages one.
 */
function derivedSecret(config: Config, purpose: string): Buffer {
  const root = process.env.FACEPAY_MASTER_KEY ?? `development:${config.dataDir}`;
  return createHash('sha256').update(`facepay ${purpose}\0`).update(root).digest();
}

/** Where the composition root reports what it cannot hand to a caller (the app's logger, bound late). */
export interface FollowUpLog {
  error(obj: Record<string, unknown>, msg: string): void;
}

/**
 * Steps that follow a change that has already committed (the CRM entry and coupons after a
 * payment, the CRM and redemption after a refund). Each is idempotent on its key, runs at once,
 * runs again whenever the same payment or refund is retried, and when it fails it is logged and
 * tried again by the housekeeping worker (`retryDue`) a few times before it is given up, loudly.
 */
export interface FollowUps {
  run(step: string, key: string, fn: () => Promise<unknown>): Promise<void>;
  retryDue(): Promise<void>;
  pending(): number;
}

export function createFollowUps(log: FollowUpLog, clock: Clock, opts: { maxTries?: number; delayMs?: number } = {}): FollowUps {
  const maxTries = opts.maxTries ?? 5;
  const delayMs = opts.delayMs ?? 5_000;
  const waiting = new Map<string, { step: string; key: string; fn: () => Promise<unknown>; tries: number; dueAt: number }>();
  async function attempt(step: string, key: string, fn: () => Promise<unknown>, tries: number): Promise<void> {
    const id = `${step}:${key}`;
    try {
      await fn();
      waiting.delete(id);
    } catch (e) {
      if (tries >= maxTries) {
        waiting.delete(id);
        log.error({ err: e, step, key, tries }, `${step} for ${key} failed ${tries} times; given up`);
        return;
      }
      log.error({ err: e, step, key, tries }, `${step} for ${key} failed; it will be retried`);
      waiting.set(id, { step, key, fn, tries, dueAt: clock.now().getTime() + delayMs * 2 ** (tries - 1) });
    }
  }
  return {
    run: (step, key, fn) => attempt(step, key, fn, (waiting.get(`${step}:${key}`)?.tries ?? 0) + 1),
    async retryDue() {
      const now = clock.now().getTime();
      for (const w of [...waiting.values()]) if (w.dueAt <= now) await attempt(w.step, w.key, w.fn, w.tries + 1);
    },
    pending: () => waiting.size,
  };
}

export interface CheckoutDeps {
  payments: PaymentService;
  members: MembersService;
  marketing: MarketingService;
  shoppers: ShopperService;
  merchants: Pick<MerchantService, 'getMerchant'>;
  clock: Clock;
  followUps: FollowUps;
}

/** Whether an error is the kind a retry may cure (the caller retries), not an answer about this payment. */
const transient = (e: unknown): boolean => !isDomainError(e) || e.kind === 'unavailable' || e.kind === 'busy';

/**
 * What a face payment needs of payments, members and marketing, in facepay's words. Coupons and
 * programmes are in upper-case currency codes, intents in lower case.
 */
export function checkoutFor(deps: CheckoutDeps): Checkout {
  const { payments, members, marketing, shoppers, merchants, clock, followUps } = deps;

  /** The CRM, coupons for next time and the inbox receipt, once the money has moved. */
  async function afterPayment(pi: PaymentIntent, shopperId: string): Promise<void> {
    const paid = pi.amount - pi.discount;
    const currency = pi.currency.toUpperCase();
    await followUps.run('crm_payment', pi.id, async () => {
      const { memberId } = await members.recordPayment({
        merchantId: pi.merchantId,
        shopperId,
        paymentId: pi.id,
        storeId: pi.storeId,
        amount: paid,
        currency,
        at: pi.updatedAt,
      });
      if (memberId !== null) await marketing.onPayment(pi.merchantId, memberId, { paymentId: pi.id, at: pi.updatedAt });
    });
    await followUps.run('inbox_receipt', pi.id, async () => {
      const merchant = await merchants.getMerchant(pi.merchantId);
      await marketing.addReceipt({ shopperId, merchantId: pi.merchantId, merchantName: merchant.name, paymentId: pi.id, amount: paid, currency, discount: pi.discount, at: pi.updatedAt });
    });
  }

  return {
    async intent(intentId, terminal) {
      const pi = await payments.getIntent(terminal.merchantId, intentId);
      if (pi.terminalId !== null && pi.terminalId !== terminal.terminalId)
        throw new DomainError('not_found', 'payment_intent_not_found', `no payment intent ${intentId}`);
      return { id: pi.id, amount: pi.amount, currency: pi.currency, status: pi.status };
    },

    async offers(terminal, shopperId, basket) {
      const memberId = await members.memberIdFor(terminal.merchantId, shopperId);
      if (memberId === null) {
        const offer = await members.joinOffer(terminal.merchantId, shopperId);
        return { discount: 0, offers: [], ...(offer ? { membership: { programme: offer.programmeName, fields: offer.fields } } : {}) };
      }
      const cart = { amount: basket.amount, currency: basket.currency.toUpperCase(), storeId: terminal.storeId };
      const now = clock.now().getTime();
      const o = await marketing.offersFor(terminal.merchantId, memberId, cart, now);
      // A payment is never free: a coupon worth the whole amount is shown but not applied.
      const usable = o.coupons.filter((h) => h.applicable && h.discount < basket.amount).map((h) => h.coupon);
      const best = bestCoupon(cart, usable, now);
      return {
        discount: best?.discount ?? 0,
        ...(best ? { coupon: { id: best.coupon.id, title: best.coupon.title } } : {}),
        offers: [
          ...o.coupons.map((h) => ({ id: h.coupon.id, title: h.coupon.title })),
          ...o.upcoming.map((u) => ({ id: u.campaignId, title: `With this payment: ${u.title}` })),
        ],
      };
    },

    async pay(intentId, terminal, shopperId, opts) {
      const { merchantId } = terminal;
      if (opts.join && opts.join.length > 0) {
        const offer = await members.joinOffer(merchantId, shopperId);
        if (offer) {
          const s = await shoppers.get(shopperId);
          const values: Record<string, string | null> = { name: s.name, phone: s.phone, email: s.email };
          const fields = Object.fromEntries(opts.join.filter((f) => (offer.fields as string[]).includes(f) && values[f]).map((f) => [f, values[f]!]));
          const joined = await members.join({ merchantId, shopperId, fields, consentVersion: offer.consentVersion, terminalId: terminal.terminalId });
          await followUps.run('welcome', joined.memberId, () => marketing.onJoined(merchantId, joined.memberId));
        }
      }
      const intent = await payments.getIntent(merchantId, intentId);
      // A retry of a payment that already failed answers the same failure (its coupon was given back).
      if (intent.status === 'failed') return { status: 'failed', code: intent.failureCode ?? 'payment_failed', message: intent.failureMessage ?? 'The payment failed.' };
      let discount = 0;
      let couponId: string | undefined;
      if (opts.couponId !== undefined) {
        try {
          const memberId = await members.memberIdFor(merchantId, shopperId);
          if (memberId === null) throw new DomainError('not_found', 'member_not_found', 'The coupon belongs to a membership that has ended.');
          const r = await marketing.redeem({
            merchantId,
            memberId,
            couponId: opts.couponId,
            paymentId: intent.id,
            basket: { amount: intent.amount, currency: intent.currency.toUpperCase(), storeId: terminal.storeId },
          });
          if (r.discount >= intent.amount) {
            await marketing.releaseRedemption(merchantId, intent.id);
            throw new DomainError('unprocessable', 'coupon_not_applicable', 'The coupon would pay the whole amount.');
          }
          discount = r.discount;
          couponId = opts.couponId;
        } catch (e) {
          // The shopper was shown the discounted amount: without the coupon they must be asked again.
          if (isDomainError(e) && !transient(e)) return { status: 'failed', code: e.code, message: e.message };
          throw e;
        }
      }
      let pi: PaymentIntent;
      try {
        pi = await payments.confirmWithShopper(intentId, shopperId, {
          idempotencyKey: opts.paymentId,
          merchantId,
          ...(couponId !== undefined ? { discount, couponId } : {}),
        });
      } catch (e) {
        if (transient(e)) throw e;
        // A final no: the coupon goes back to the shopper. A retry of a failed payment id stays failed.
        if (couponId !== undefined) await followUps.run('coupon_release', intent.id, () => marketing.releaseRedemption(merchantId, intent.id));
        const err = e as DomainError;
        return { status: 'failed', code: err.code, message: err.message };
      }
      // The money has moved: what follows must not turn a paid payment into a failed answer. It is
      // idempotent on the payment id, runs again on the terminal's retry, and is retried if it fails.
      await afterPayment(pi, shopperId);
      return { status: 'succeeded' };
    },
  };
}

/** After each refund: the member's history and, on a full refund, the coupon comes back. */
function refundFollowUp(members: MembersService, marketing: MarketingService, followUps: FollowUps): RefundListener {
  return (pi, r) =>
    followUps.run('crm_refund', r.id, async () => {
      await members
        .recordRefund({ merchantId: pi.merchantId, paymentId: pi.id, refundId: r.id, amount: r.amount, at: r.createdAt })
        // Payments made outside the terminal (the API's test helpers) were never in the CRM.
        .catch((e: unknown) => (isDomainError(e) && e.code === 'payment_not_found' ? undefined : Promise.reject(e)));
      await marketing.onRefund({ merchantId: pi.merchantId, paymentId: pi.id, fullyRefunded: pi.amountRefunded >= pi.amount - pi.discount, at: r.createdAt });
    });
}

/** Member and marketing events as the webhook outbox keeps them: the API's object, in snake_case. */
function crmEvent(e: { type: string; merchantId: string; objectId: string; data: object }): NewEvent {
  const object = e.type.slice(0, e.type.indexOf('.'));
  // The object's own id is `id`, as in every API object: `memberId` of a member event, `couponId` of a coupon's.
  const { [`${object}Id`]: _self, ...rest } = e.data as Record<string, unknown>;
  return { merchantId: e.merchantId, type: e.type, objectId: e.objectId, data: { object, id: e.objectId, ...(snakeKeys(rest) as Record<string, unknown>) } };
}

export async function createPlatform(config: Config, overrides: PlatformOverrides = {}): Promise<Platform> {
  const clock = overrides.clock ?? systemClock;
  const random = overrides.random ?? pooledCryptoRandom();
  const ids = overrides.ids ?? randomIds(random, () => clock.now().getTime());
  const ownDb = overrides.db === undefined;
  const db = overrides.db ?? (await openConfiguredDb(config));

  // The app's logger is made last; follow-up failures are logged through it once it exists.
  let app: FastifyInstance | undefined;
  const followUps = createFollowUps({ error: (obj, msg) => app?.log.error(obj, msg) }, clock);
  const ledger = createLedger({ db, clock });
  const wallets = createWallets(ledger);
  const merchants = createMerchantService({ db, clock, ids, random });
  const webhooks = createWebhookService({
    db,
    clock,
    ids,
    random,
    allowInsecureUrls: config.webhookAllowHttp,
    ...(overrides.webhookPoster ? { poster: overrides.webhookPoster } : {}),
  });
  const payments = createPaymentService({
    db,
    clock,
    ids,
    ledger,
    stores: merchants,
    events: webhooks,
    funding: topUpFundingSource(ledger, wallets),
    config: {
      platformFeeBps: config.platformFeeBps,
      shopperPaymentLimit: config.shopperPaymentLimit,
      shopperDailyLimit: config.shopperDailyLimit,
    },
    // Bound late: members and marketing are built below, and refunds come only once serving.
    onRefund: (pi, r) => refundFollowUp(members, marketing, followUps)(pi, r),
    // A coupon is reserved just before the money moves; if the terminal then gives up and the
    // intent is cancelled, the coupon goes back to the shopper.
    onCancel: (pi) => followUps.run('coupon_release', pi.id, () => marketing.releaseRedemption(pi.merchantId, pi.id)),
  });
  const devices = createDevicesService({
    repo: new DeviceRepo(db),
    clock,
    ids,
    random,
    storeBelongsTo: (merchantId, storeId) => merchants.assertStoreOfMerchant(merchantId, storeId).then(
      () => true,
      (e: unknown) => (isDomainError(e) && e.code === 'store_not_found' ? false : Promise.reject(e)),
    ),
  });
  // Member and marketing events go into the webhook outbox inside the transaction of the change.
  const webhookSink = {
    publish: async (tx: Parameters<typeof webhooks.record>[0], e: { type: string; merchantId: string; objectId: string; data: object }): Promise<void> => {
      await webhooks.record(tx, crmEvent(e));
    },
  };
  const members = createMembersService({ repo: new MemberRepo(db), clock, random, events: webhookSink });
  const marketing = createMarketingService({
    repo: new MarketingRepo(db),
    members,
    clock,
    ids,
    holdoutSecret: config.marketingSecret ?? derivedSecret(config, 'marketing holdout'),
    events: webhookSink,
  });

  // The face engine loads its models and the gallery builds its index: seconds, so tests that do
  // not pay by face leave it off (FACEPAY_FACE=0) and the shopper's face routes answer 503.
  const face: FaceStack | undefined = config.faceEnabled
    ? await createFaceStack({
        db,
        dataDir: config.dataDir,
        env: process.env,
        clock,
        ids,
        random,
        workers: config.faceWorkers,
        ...(overrides.faceChallenge ? { challenge: overrides.faceChallenge } : {}),
      })
    : undefined;
  const shoppers = createShopperService({
    repo: new ShopperRepo(db),
    faces: face?.templates ?? noFaces,
    ...(face ? { enrolment: face.enrolment } : {}),
    challengeSecret: derivedSecret(config, 'enrolment challenge'),
    clock,
    ids,
    random,
  });
  const facePay = createFacePayService({
    attempts: new AttemptRepo(db),
    face: face?.faceCheck ?? {
      issueChallenge: faceOff,
      verify: faceOff,
    },
    gallery: face?.identifier ?? { identify: faceOff },
    shoppers: {
      get: async (id) => {
        const s = await shoppers.get(id).catch(() => undefined);
        return s && { id: s.id, maskedName: s.maskedName, facePayEnabled: s.facePayEnabled, perPaymentLimit: s.perPaymentLimit };
      },
      redeemPayCode: (code) => shoppers.redeemPayCode(code),
    },
    checkout: checkoutFor({ payments, members, marketing, shoppers, merchants, clock, followUps }),
    clock,
    ids,
  });
  const staff = createStaffService({ repo: new StaffRepo(db), clock, ids, random });
  const memberRepo = new MemberRepo(db);
  const marketingRepo = new MarketingRepo(db);
  const attemptRepo = new AttemptRepo(db);
  const reports = createReportsService({
    clock,
    defaultCurrency: config.walletCurrency,
    sources: {
      sales: (merchantId, from, to, bucketMs) => payments.salesByBucket(merchantId, from, to, bucketMs),
      paidByMethod: (merchantId, from, to, bucketMs) => attemptRepo.paidByMethod(merchantId, from, to, bucketMs),
      newMembers: (merchantId, from, to, bucketMs) => memberRepo.joinedByBucket(merchantId, from, to, bucketMs),
      returningMembers: (merchantId, from, to) => memberRepo.returningBetween(merchantId, from, to),
      redemptions: (merchantId, from, to, bucketMs) => marketingRepo.redemptionsByBucket(merchantId, from, to, bucketMs),
      settings: async (merchantId) => {
        const p = await members.programme(merchantId).catch((e: unknown) => (isDomainError(e) && e.kind === 'not_found' ? null : Promise.reject(e)));
        return { currency: p?.currency ?? null, timeZone: p?.timeZone ?? null };
      },
    },
  });
  const services: AppServices = {
    merchants,
    webhooks,
    payments,
    ledger,
    devices,
    shoppers,
    members,
    marketing,
    funding: topUpFundingSource(ledger, wallets),
    walletCurrency: config.walletCurrency,
    clock,
    facePay,
    staff,
    reports,
  };
  const idempotency = createIdempotencyStore(db, clock);
  app = buildApp({ services, db, clock, ids, config, idempotency, ...(overrides.logStream ? { logStream: overrides.logStream } : {}) });
  const server = app;

  let housekeeping: NodeJS.Timeout | undefined;
  let scheduler: NodeJS.Timeout | undefined;
  return {
    config,
    db,
    clock,
    ids,
    services,
    app: server,
    face,
    startWorkers() {
      const app = server;
      webhooks.start(config.webhookIntervalMs, (e) => app.log.error({ err: e, worker: 'webhooks' }, 'webhook worker failed'));
      housekeeping = setInterval(() => {
        ledger.expirePending().catch((e: unknown) => app.log.error({ err: e, worker: 'ledger' }, 'expiring pending transfers failed'));
        idempotency.purge(24 * 3600_000).catch((e: unknown) => app.log.error({ err: e, worker: 'idempotency' }, 'purging idempotency keys failed'));
        followUps.retryDue().catch((e: unknown) => app.log.error({ err: e, worker: 'follow-ups' }, 'retrying follow-up steps failed'));
      }, 5_000);
      housekeeping.unref();
      // Scheduled campaigns (birthday treats, win-backs) reach their audience hourly, and once at start.
      const runScheduled = (): void => {
        marketing
          .runScheduled(clock.now().getTime())
          .catch((e: unknown) => app.log.error({ err: e, worker: 'marketing' }, 'running scheduled campaigns failed'));
      };
      runScheduled();
      scheduler = setInterval(runScheduled, 3600_000);
      scheduler.unref();
    },
    async close() {
      if (housekeeping) clearInterval(housekeeping);
      if (scheduler) clearInterval(scheduler);
      await face?.close();
      await webhooks.stop();
      await server.close();
      if (ownDb) await db.close();
    },
  };
}
