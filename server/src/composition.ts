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
import { buildApp, createIdempotencyStore, httpMigrations, type AppServices } from './http/index.ts';
import { createLedger, createWallets, ledgerMigrations, topUpFundingSource } from './ledger/index.ts';
import { createMerchantService, createWebhookService, merchantMigrations, type WebhookPoster } from './merchants/index.ts';
import { createPaymentService, paymentMigrations } from './payments/index.ts';
import { cryptoRandom, DomainError, isDomainError, randomIds, systemClock, type Clock, type IdGenerator, type Random } from './platform/index.ts';
import { migrate, PostgresDb, SqliteDb, type Db, type Migration } from './storage/index.ts';
import { createFaceStack, type FaceStack } from './face-stack.ts';
import { AttemptRepo, createFacePayService, facePayMigrations, type Checkout } from './facepay/index.ts';
import { galleryMigrations } from './gallery/index.ts';
import { createMarketingService, MarketingRepo, marketingMigrations } from './marketing/index.ts';
import { createMembersService, MemberRepo, memberMigrations, type MembersService } from './members/index.ts';
import type { PaymentService } from './payments/index.ts';
import { createShopperService, ShopperRepo, shopperMigrations, type FaceTemplatePort, type ShopperService } from './shoppers/index.ts';
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
];

export interface PlatformOverrides {
  clock?: Clock;
  ids?: IdGenerator;
  random?: Random;
  /** An already open database (tests); otherwise opened from the configuration. */
  db?: Db;
  webhookPoster?: WebhookPoster;
  logStream?: { write(line: string): void };
}

export interface Platform {
  config: Config;
  db: Db;
  clock: Clock;
  ids: IdGenerator;
  services: AppServices;
  app: FastifyInstance;
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

/** What a face payment needs of payments and members, in facepay's words. */
function checkoutFor(payments: PaymentService, members: MembersService, shoppers: ShopperService, clock: Clock): Checkout {
  return {
    async intent(intentId, terminal) {
      const pi = await payments.getIntent(terminal.merchantId, intentId);
      if (pi.terminalId !== null && pi.terminalId !== terminal.terminalId)
        throw new DomainError('not_found', 'payment_intent_not_found', `no payment intent ${intentId}`);
      return { id: pi.id, amount: pi.amount, currency: pi.currency, status: pi.status };
    },
    async offers(terminal, shopperId) {
      const offer = await members.joinOffer(terminal.merchantId, shopperId);
      return { discount: 0, offers: [], ...(offer ? { membership: { programme: offer.programmeName, fields: offer.fields } } : {}) };
    },
    async pay(intentId, terminal, shopperId, opts) {
      if (opts.join && opts.join.length > 0) {
        const s = await shoppers.get(shopperId);
        const values: Record<string, string | null> = { name: s.name, phone: s.phone, email: s.email };
        const offer = await members.joinOffer(terminal.merchantId, shopperId);
        if (offer) {
          const fields = Object.fromEntries(opts.join.filter((f) => values[f]).map((f) => [f, values[f]!]));
          await members.join({ merchantId: terminal.merchantId, shopperId, fields, consentVersion: offer.consentVersion, terminalId: terminal.terminalId });
        }
      }
      let pi;
      try {
        pi = await payments.confirmWithShopper(intentId, shopperId, { idempotencyKey: opts.paymentId, merchantId: terminal.merchantId });
      } catch (e) {
        if (isDomainError(e) && e.kind !== 'unavailable' && e.kind !== 'busy') return { status: 'failed', code: e.code, message: e.message };
        throw e;
      }
      // The money has moved: the CRM entry must not turn a paid payment into a failed answer. It is
      // idempotent on the payment id, so the terminal's retry records it if this attempt could not.
      await members
        .recordPayment({
          merchantId: terminal.merchantId,
          shopperId,
          paymentId: pi.id,
          storeId: pi.storeId,
          amount: pi.amount,
          currency: pi.currency.toUpperCase(),
          at: clock.now().getTime(),
        })
        .catch(() => undefined);
      return { status: 'succeeded' };
    },
  };
}

export async function createPlatform(config: Config, overrides: PlatformOverrides = {}): Promise<Platform> {
  const clock = overrides.clock ?? systemClock;
  const random = overrides.random ?? pooledCryptoRandom();
  const ids = overrides.ids ?? randomIds(random, () => clock.now().getTime());
  const ownDb = overrides.db === undefined;
  const db = overrides.db ?? (await openConfiguredDb(config));

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
    publish: async (tx: Parameters<typeof webhooks.record>[0], e: Parameters<typeof webhooks.record>[1]): Promise<void> => {
      await webhooks.record(tx, e);
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
    ? await createFaceStack({ db, dataDir: config.dataDir, env: process.env, clock, ids, random, workers: config.faceWorkers })
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
    checkout: checkoutFor(payments, members, shoppers, clock),
    clock,
    ids,
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
  };
  const idempotency = createIdempotencyStore(db, clock);
  const app = buildApp({ services, db, clock, ids, config, idempotency, ...(overrides.logStream ? { logStream: overrides.logStream } : {}) });

  let housekeeping: NodeJS.Timeout | undefined;
  return {
    config,
    db,
    clock,
    ids,
    services,
    app,
    startWorkers() {
      webhooks.start(config.webhookIntervalMs, (e) => app.log.error({ err: e, worker: 'webhooks' }, 'webhook worker failed'));
      housekeeping = setInterval(() => {
        ledger.expirePending().catch((e: unknown) => app.log.error({ err: e, worker: 'ledger' }, 'expiring pending transfers failed'));
        idempotency.purge(24 * 3600_000).catch((e: unknown) => app.log.error({ err: e, worker: 'idempotency' }, 'purging idempotency keys failed'));
      }, 5_000);
      housekeeping.unref();
    },
    async close() {
      if (housekeeping) clearInterval(housekeeping);
      await face?.close();
      await webhooks.stop();
      await app.close();
      if (ownDb) await db.close();
    },
  };
}
