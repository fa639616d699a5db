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
import { cryptoRandom, isDomainError, randomIds, systemClock, type Clock, type IdGenerator, type Random } from './platform/index.ts';
import { migrate, PostgresDb, SqliteDb, type Db, type Migration } from './storage/index.ts';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export const allMigrations: readonly Migration[] = [...ledgerMigrations, ...merchantMigrations, ...paymentMigrations, ...httpMigrations, ...deviceMigrations];

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
  const services: AppServices = { merchants, webhooks, payments, ledger, devices };
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
      await webhooks.stop();
      await app.close();
      if (ownDb) await db.close();
    },
  };
}
