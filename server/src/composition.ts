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
import { createMerchantService, createWebhookService, merchantMigrations, type Resolver, type WebhookPoster } from './merchants/index.ts';
import { createPaymentService, paymentMigrations } from './payments/index.ts';
import { createPaymentViews } from './payment-views/index.ts';
import { DomainError, isDomainError, randomIds, systemClock, type Clock, type IdGenerator, type Random } from './platform/index.ts';
import { migrate, PostgresDb, SqliteDb, type Db, type Migration } from './storage/index.ts';
import { checkoutMigrations, createCheckout, crmEvent } from './checkout.ts';
import { createFaceStack, type FaceStack } from './face-stack.ts';
import type { ChallengeOptions, StreamPlan } from './face/index.ts';
import { AttemptRepo, createFacePayService, facePayMigrations, type FaceCheck, type Identifier } from './facepay/index.ts';
import { DEFAULT_RULES, tighten } from './risk/index.ts';
import { deleteShopperTemplates, describeShopperTemplates, galleryMigrations, loadMasterKeys } from './gallery/index.ts';
import { createMarketingService, MarketingRepo, marketingMigrations } from './marketing/index.ts';
import { createMembersService, MemberRepo, memberMigrations } from './members/index.ts';
import { createShopperService, ShopperRepo, shopperMigrations, type FaceTemplatePort } from './shoppers/index.ts';
import { createCardRail, createDeskService, createFundingService, createReconciliation, fundingMigrations, type CardAcquirer } from './funding/index.ts';
import { createMerchantOverview, createOperatorService, OperatorRepo, operatorMigrations } from './operator/index.ts';
import { createPlatformLimits, limitMigrations } from './limits/index.ts';
import { createStaffInvitations, createStaffService, StaffRepo, staffMigrations } from './staff/index.ts';
import { createReportsService } from './reports/index.ts';
import { createMailService, logTransport, mailMigrations, smtpTransport, type MailTransport } from './mail/index.ts';
import { createPasswordResets, resetMigrations } from './resets/index.ts';
import { createDisputesService, DisputeRepo, disputeMigrations, type DisputedPayment } from './disputes/index.ts';
import type { PaymentIntent } from './payments/index.ts';
import { createFeeSchedule, createSettlementService, settlementMigrations, type SettlementService } from './settlement/index.ts';
import { createRightsService, RightsRepo, rightsMigrations } from './rights/index.ts';
import { rightsPorts } from './rights-ports.ts';
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, Gauge, Histogram } from 'prom-client';
import { ConfigError } from './config/index.ts';
import { createMetricsRegistry, type Operations, type Probe } from './http/operations.ts';
import { ping } from './storage/index.ts';

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
  ...fundingMigrations,
  ...mailMigrations,
  ...resetMigrations,
  ...operatorMigrations,
  ...limitMigrations,
  ...disputeMigrations,
  ...settlementMigrations,
  ...rightsMigrations,
  // Last: data moves across modules' tables.
  ...checkoutMigrations,
];

export interface PlatformOverrides {
  clock?: Clock;
  ids?: IdGenerator;
  random?: Random;
  /** An already open database (tests); otherwise opened from the configuration. */
  db?: Db;
  webhookPoster?: WebhookPoster;
  /** Host name resolution for webhook targets (tests simulate DNS answers). */
  webhookResolver?: Resolver;
  logStream?: { write(line: string): void };
  /** A card acquirer adapter (none ships; tests pass a fake one). Needs FACEPAY_CARD_WEBHOOK_SECRET. */
  cardAcquirer?: CardAcquirer;
  /** The liveness challenge's settings (a browser test's fake camera can only turn one way). */
  faceChallenge?: Partial<ChallengeOptions>;
  /** How the face stack spreads a stream over its two passes (bench:facepay compares with every frame analysed). */
  faceStreamPlan?: Partial<StreamPlan>;
  /** Where mail goes instead of FACEPAY_SMTP_URL or the log. */
  mailTransport?: MailTransport;
  /** Readiness probes that replace the standard ones of the same name (tests inject a part that is not ready). */
  probes?: Record<string, Probe>;
  /**
   * With the face engine off (FACEPAY_FACE=0): a stand-in face check and gallery for the terminal's
   * face flow, so HTTP tests of the PIN and the risk decisions run without models.
   */
  faceStandIn?: { faceCheck: FaceCheck; identifier: Identifier };
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
  /** The mail outbox (its worker runs with the others; tests call tick). */
  mail: ReturnType<typeof createMailService>;
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
  // With the face engine off nothing can recognise anyone; that is said by face_engine_off, not as a request to enrol again.
  searchable: async () => true,
};

/**
 * Secrets that only need to be stable and private, derived from the master key (or, for a
 * development start without one, from the data directory path) so that an operator manages one.
 */
function derivedSecret(config: Config, purpose: string): Buffer {
  const root = process.env.FACEPAY_MASTER_KEY ?? `development:${config.dataDir}`;
  return createHash('sha256').update(`facepay ${purpose}\0`).update(root).digest();
}

/** The certificate and key for HTTPS, read once at start; an unreadable file stops the start naming the variable. */
function readTls(tls: NonNullable<Config['tls']>): { cert: Buffer; key: Buffer } {
  const read = (file: string, name: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new ConfigError(`${name}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  };
  return { cert: read(tls.certFile, 'FACEPAY_TLS_CERT'), key: read(tls.keyFile, 'FACEPAY_TLS_KEY') };
}

/** Readiness probes and the gauges read at each scrape. */
function operationsFor(o: {
  config: Config;
  db: Db;
  face: FaceStack | undefined;
  webhooks: { backlog(): Promise<{ undispatchedEvents: number; pendingDeliveries: number }> };
  registry: Operations['metrics'];
  probes: Record<string, Probe>;
}): Operations {
  const { face, registry } = o;
  new Gauge({
    name: 'facepay_gallery_templates',
    help: 'face templates in the in-memory search index, by partition',
    labelNames: ['partition'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [partition, n] of Object.entries(face?.gallery.sizes() ?? {})) this.set({ partition }, n);
    },
  });
  new Gauge({
    name: 'facepay_face_engine_pending',
    help: 'frame analyses accepted by the face engine and not yet answered (its queue and the ones running)',
    registers: [registry],
    collect() {
      this.set(face?.engine.pending() ?? 0);
    },
  });
  new Gauge({
    name: 'facepay_webhook_backlog',
    help: 'webhook work waiting: events not yet fanned out to endpoints, deliveries still to send (retries included)',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      const b = await o.webhooks.backlog();
      this.set({ kind: 'events' }, b.undispatchedEvents);
      this.set({ kind: 'deliveries' }, b.pendingDeliveries);
    },
  });
  const standard: Record<string, Probe> = {
    database: async () => {
      await ping(o.db);
      return { ready: true, detail: o.db.dialect };
    },
    // With FACEPAY_FACE=0 the face parts are switched off on purpose, which is not a fault.
    face_engine: () => (face ? { ready: true, detail: `${face.model.name}, ${face.engine.pending()} pending` } : { ready: true, detail: 'off' }),
    gallery: () => {
      if (!face) return { ready: true, detail: 'off' };
      return face.gallery.readiness();
    },
  };
  let caCertificate: Buffer | undefined;
  if (o.config.tls) {
    try {
      caCertificate = readFileSync(o.config.tls.caFile);
    } catch {
      // A certificate from a public CA or the shop's own has no local CA to offer.
      caCertificate = undefined;
    }
  }
  return {
    probes: { ...standard, ...o.probes },
    metrics: registry,
    ...(o.config.metricsToken ? { metricsToken: o.config.metricsToken } : {}),
    ...(caCertificate ? { caCertificate } : {}),
    ...(caCertificate && o.config.httpRedirectPort ? { caHttpPort: o.config.httpRedirectPort } : {}),
  };
}

function cardSecret(config: Config): string {
  if (!config.cardWebhookSecret) throw new DomainError('invalid', 'card_webhook_secret_missing', 'a card acquirer needs FACEPAY_CARD_WEBHOOK_SECRET');
  return config.cardWebhookSecret;
}

/**
 * The key under which activation codes are stored (as HMACs). Unlike `derivedSecret`'s development
 * fallback, which is only the data directory's path, it comes from a random key even in
 * development: the gallery's master key (FACEPAY_MASTER_KEY, or the development key file kept in
 * the data directory), never from anything in the database. A new master key therefore voids the
 * codes still pending (they live 24 hours; the merchant issues new ones).
 */
function activationCodeSecret(config: Config, random: Random): Buffer {
  let master: Buffer;
  try {
    master = loadMasterKeys(process.env, config.dataDir, random).ring.current.key;
  } catch (e) {
    // Two processes starting at once on a fresh data directory: the other one wrote the file first.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    master = loadMasterKeys(process.env, config.dataDir, random).ring.current.key;
  }
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'facepay device activation code', 32));
}

export async function createPlatform(config: Config, overrides: PlatformOverrides = {}): Promise<Platform> {
  const clock = overrides.clock ?? systemClock;
  const random = overrides.random ?? pooledCryptoRandom();
  const ids = overrides.ids ?? randomIds(random, () => clock.now().getTime());
  const ownDb = overrides.db === undefined;
  const db = overrides.db ?? (await openConfiguredDb(config));

  // The app's logger is made last; follow-up failures are logged through it once it exists.
  let app: FastifyInstance | undefined;
  const ledger = createLedger({ db, clock });
  const wallets = createWallets(ledger);
  // Bound late: settlement is built below, and merchants are closed only once serving.
  const merchants = createMerchantService({ db, clock, ids, random, closureBlockers: (tx, id) => settlement.closureBlockers(tx, id) });
  const webhooks = createWebhookService({
    db,
    clock,
    ids,
    random,
    allowInsecureUrls: config.webhookAllowHttp,
    allowPrivateTargets: config.webhookAllowPrivate,
    ...(overrides.webhookResolver ? { resolver: overrides.webhookResolver } : {}),
    ...(overrides.webhookPoster ? { poster: overrides.webhookPoster } : {}),
  });
  const registry = createMetricsRegistry();
  const paymentOutcomes = new Counter({
    name: 'facepay_payment_events_total',
    help: 'payment intents by outcome (the event recorded: payment_intent.succeeded, .canceled, .payment_failed, ...) and mode; counted when recorded, so a rolled-back transaction may count once',
    labelNames: ['outcome', 'mode'],
    registers: [registry],
  });
  const refundsRecorded = new Counter({
    name: 'facepay_refunds_total',
    help: 'refunds recorded, by mode',
    labelNames: ['mode'],
    registers: [registry],
  });
  // A merchant's day is its programme's time zone's day, as on the dashboard (members is built below; called only once serving).
  const merchantTimeZone = async (merchantId: string): Promise<string> => {
    const p = await members.programme(merchantId).catch((e: unknown) => (isDomainError(e) && e.kind === 'not_found' ? null : Promise.reject(e)));
    return p?.timeZone ?? 'UTC';
  };
  // The configured limits are the defaults until an operator admin sets one (read at each use, at most 5 s old).
  const platformLimits = createPlatformLimits({
    db,
    clock,
    ids,
    defaults: { shopperPaymentLimit: config.shopperPaymentLimit, shopperDailyLimit: config.shopperDailyLimit, topUpCap: config.topUpCap, topUpDailyCap: config.topUpDailyCap },
  });
  const feeRates = createFeeSchedule({
    db,
    clock,
    ids,
    defaultBps: config.platformFeeBps,
    timeZoneOf: merchantTimeZone,
    merchantExists: (id) => merchants.getMerchant(id).then(() => true, (e: unknown) => (isDomainError(e) && e.kind === 'not_found' ? false : Promise.reject(e))),
  });
  const payments = createPaymentService({
    db,
    clock,
    ids,
    ledger,
    feeBps: feeRates.bpsAt,
    stores: merchants,
    // The payment service's events pass through here on their way to the webhook outbox: the one
    // place that sees every outcome, without the service knowing about metrics.
    events: {
      record: async (tx, e) => {
        const r = await webhooks.record(tx, e);
        if (e.type === 'refund.created') refundsRecorded.inc({ mode: e.mode });
        else if (e.type.startsWith('payment_intent.')) paymentOutcomes.inc({ outcome: e.type.slice('payment_intent.'.length), mode: e.mode });
        return r;
      },
    },
    funding: topUpFundingSource(ledger, wallets),
    config: {
      platformFeeBps: config.platformFeeBps,
      shopperPaymentLimit: config.shopperPaymentLimit,
      shopperDailyLimit: config.shopperDailyLimit,
    },
    limits: platformLimits.current,
    // Bound late: members and marketing are built below, and refunds come only once serving.
    onRefund: (pi, r) => checkout.onRefund(pi, r),
    // A coupon is reserved just before the money moves; if the terminal then gives up and the
    // intent is cancelled, the coupon goes back to the shopper.
    onCancel: (pi) => checkout.onCancel(pi),
  });
  const devices = createDevicesService({
    repo: new DeviceRepo(db),
    clock,
    ids,
    random,
    codeSecret: activationCodeSecret(config, random),
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

  const analysisSeconds = new Histogram({
    name: 'facepay_face_analysis_seconds',
    help: 'time of one frame analysis in the face engine (queue wait included), by queue and outcome',
    labelNames: ['priority', 'outcome'],
    buckets: [0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2],
    registers: [registry],
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
        searchBudgetMs: config.searchBudgetMs,
        ...(config.galleryPartitions ? { servedPartitions: config.galleryPartitions } : {}),
        ...(config.faceModel ? { model: config.faceModel } : {}),
        ...(config.calibrationPopulation ? { calibrationPopulation: config.calibrationPopulation } : {}),
        ...(overrides.faceChallenge ? { challenge: overrides.faceChallenge } : config.faceChallengeKinds ? { challenge: { kinds: config.faceChallengeKinds } } : {}),
        ...(overrides.faceStreamPlan ? { streamPlan: overrides.faceStreamPlan } : {}),
        onAnalysis: (a) => analysisSeconds.observe({ priority: a.priority, outcome: a.failed ? 'error' : 'ok' }, a.ms / 1000),
      })
    : undefined;
  // With the face engine off this process has no index, but a face deleted here (the shopper's
  // choice, a withdrawn consent, an account deletion) still leaves the database, and the gallery's
  // change feed tells the processes that search to drop it.
  const offFaces: FaceTemplatePort = {
    ...noFaces,
    remove: async (shopperId) => {
      await deleteShopperTemplates(db, clock, shopperId);
    },
    describe: (shopperId) => describeShopperTemplates(db, shopperId),
  };
  const shoppers = createShopperService({
    repo: new ShopperRepo(db),
    faces: face?.templates ?? offFaces,
    ...(face ? { enrolment: face.enrolment } : {}),
    challengeSecret: derivedSecret(config, 'enrolment challenge'),
    // There is no mail service yet: the notice the owner would get by e-mail is a log line (the
    // shopper's id, never the address), so an operator can see sign-ups aimed at existing accounts.
    onSignUpForExistingAccount: (shopperId) =>
      app?.log.info({ shopper: shopperId, notice: 'signup_existing_account' }, 'sign-up with the e-mail of an existing account; its owner would be e-mailed'),
    // An unlock with the password clears the wrong factors counted by face pay (made just below).
    factorFailures: { clear: (shopperId) => facePay.clearShopperFailures(shopperId) },
    clock,
    ids,
    random,
  });
  // Checkout's steps and follow-ups are rows in the database: the housekeeping worker resumes them.
  const checkout = createCheckout({ db, payments, members, marketing, shoppers, merchants, clock, ids, log: { error: (obj, msg) => app?.log.error(obj, msg) } });
  // Locked or frozen means switched off: the shopper switches face pay on again in the portal.
  // The lockout after wrong digits and a "This wasn't me" dispute both turn it off this way.
  const freezeFacePay = (id: string): Promise<boolean> => shoppers.freezeFacePay(id);
  const facePay = createFacePayService({
    attempts: new AttemptRepo(db),
    face: face?.faceCheck ??
      overrides.faceStandIn?.faceCheck ?? {
        issueChallenge: faceOff,
        verify: faceOff,
      },
    gallery: face?.identifier ?? overrides.faceStandIn?.identifier ?? { identify: faceOff },
    shoppers: {
      get: async (id) => {
        const s = await shoppers.get(id).catch(() => undefined);
        return s && { id: s.id, maskedName: s.maskedName, facePayEnabled: s.facePayEnabled, perPaymentLimit: s.perPaymentLimit, hasPin: s.hasPin };
      },
      verifyPin: (id, pin) => shoppers.verifyPin(id, pin),
      payCodeShopper: (code) => shoppers.payCodeShopper(code),
      usePayCode: (tx, code, shopperId) => shoppers.usePayCode(tx, code, shopperId),
      lockFacePay: async (id, reason) => {
        if (!(await freezeFacePay(id))) return;
        await marketing.addNotice({
          shopperId: id,
          merchantId: reason.merchantId,
          title: 'Face pay is locked',
          body: `Someone entered the wrong digits or PIN for you ${reason.failures} times within a day, so face pay is off. Switch it on again in Face pay if this was you.`,
          at: clock.now().getTime(),
        });
      },
    },
    checkout: checkout.checkout,
    // A platform configured with a lower per-payment limit sends larger face payments another way
    // at the decision, instead of failing them at the ledger.
    riskRules: async () => tighten(DEFAULT_RULES, { faceMaxAmount: (await platformLimits.current()).shopperPaymentLimit }),
    risk: {
      // Every terminal today films with a 2-D camera; the device's registration will say when one has depth or infrared.
      terminalCapability: async () => 'camera_2d',
      // The merchant reads each decision in the payment intent's events (and its webhooks): codes only.
      recordDecision: (d) =>
        db.transaction(async (tx) => {
          await webhooks.record(tx, {
            merchantId: d.merchantId,
            type: 'payment_intent.face_decision',
            objectId: d.intentId,
            data: { object: 'face_decision', id: d.attemptId, payment_intent: d.intentId, choice: d.choice, reasons: d.reasons, created_at: d.at },
          });
        }),
    },
    clock,
    ids,
  });
  const staff = createStaffService({ repo: new StaffRepo(db), clock, ids, random });
  const mail = createMailService({
    db,
    clock,
    ids,
    transport:
      overrides.mailTransport ??
      (config.smtpUrl ? smtpTransport(config.smtpUrl, config.mailFrom) : logTransport((obj, msg) => app?.log.info(obj, msg))),
  });
  // Links in mail use the configured public address, never the request's Host header, which
  // whoever asks for a reset could set to their own site.
  const publicBase = (config.publicUrl ?? `${config.tls ? 'https' : 'http'}://localhost:${config.port}`).replace(/\/+$/, '');
  const operators = createOperatorService({ repo: new OperatorRepo(db), clock, ids, random });
  // Each kind of login has its own page: the operator's is in the console but apart from the merchant staff's.
  const resetPages: Record<'staff' | 'shopper' | 'operator', string> = { staff: 'console/reset-password', shopper: 'portal/reset-password', operator: 'console/operator-reset-password' };
  const resets = createPasswordResets({
    db,
    clock,
    random,
    mail,
    accounts: { staff, shopper: shoppers, operator: operators },
    link: (kind, token) => `${publicBase}/${resetPages[kind]}?token=${token}`,
  });
  const invitations = createStaffInvitations({
    db,
    clock,
    ids,
    random,
    mail,
    // A closed merchant gets no new owner: its invitation is refused before any mail is written.
    merchantName: async (id) => {
      await merchants.assertNotClosed(id);
      return (await merchants.getMerchant(id).catch((e: unknown) => (isDomainError(e) && e.kind === 'not_found' ? undefined : Promise.reject(e))))?.name;
    },
    link: (token) => `${publicBase}/console/accept-invitation?token=${token}`,
  });
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
  const fundingService = createFundingService({
    db,
    clock,
    ids,
    ledger,
    wallets,
    config: { mode: config.fundingMode, perTopUpCap: config.topUpCap, dailyCap: config.topUpDailyCap },
    caps: async () => {
      const l = await platformLimits.current();
      return { perTopUpCap: l.topUpCap, dailyCap: l.topUpDailyCap };
    },
  });
  const disputedPayment = (pi: PaymentIntent): DisputedPayment => ({
    id: pi.id,
    merchantId: pi.merchantId,
    mode: pi.mode,
    shopperId: pi.shopperId,
    status: pi.status,
    received: pi.status === 'succeeded' ? pi.amount - pi.discount : 0,
    refunded: pi.amountRefunded,
    currency: pi.currency,
  });
  const disputes = createDisputesService({
    repo: new DisputeRepo(db),
    clock,
    ids,
    ports: {
      paymentOfShopper: async (shopperId, id) => disputedPayment(await payments.getForShopper(shopperId, id)),
      paymentOfMerchant: async (merchantId, id, mode) => disputedPayment(await payments.getIntent(merchantId, id, { mode })),
      paymentMethod: async (id) => (await attemptRepo.paidMethod(id)) ?? 'other',
      refund: (merchantId, input, opts) => payments.createRefund(merchantId, input, opts),
      freezeFacePay,
      notify: (n) => marketing.addNotice(n),
      recordEvent: (tx, e) => webhooks.record(tx, e),
      merchantName: async (id) => (await merchants.getMerchant(id)).name,
    },
  });
  const settlement: SettlementService = createSettlementService({
    db,
    clock,
    ids,
    ledger,
    events: webhooks,
    timeZoneOf: merchantTimeZone,
    fees: feeRates,
    config: {
      debtor: config.payoutDebtor.iban ? { name: config.payoutDebtor.name, iban: config.payoutDebtor.iban, bic: config.payoutDebtor.bic ?? null } : null,
      closeGraceMs: config.settlementGraceMs,
    },
  });
  // Export, account deletion and the face-template retention rule (server/src/rights).
  const rights = createRightsService({
    repo: new RightsRepo(db),
    ports: rightsPorts({
      shoppers,
      faces: face?.templates ?? offFaces,
      ledger,
      walletCurrency: config.walletCurrency,
      payments,
      funding: fundingService,
      members,
      marketing,
      merchants,
      disputes,
      attempts: attemptRepo,
      mail,
    }),
    clock,
    ids,
    retentionDays: config.templateRetentionDays,
    portalUrl: `${publicBase}/portal/`,
  });
  const paymentViews = createPaymentViews({
    payments,
    terminals: devices,
    members,
    coupons: marketing,
    stores: {
      async storeNames(merchantId) {
        const names = new Map<string, string>();
        let cursor: string | undefined;
        do {
          const page = await merchants.listStores(merchantId, { limit: 100, ...(cursor ? { cursor } : {}) });
          for (const s of page.data) names.set(s.id, s.name);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        return names;
      },
    },
  });
  const services: AppServices = {
    merchants,
    webhooks,
    payments,
    paymentViews,
    ledger,
    devices,
    shoppers,
    members,
    marketing,
    funding: topUpFundingSource(ledger, wallets),
    fundingService,
    desk: createDeskService({
      db,
      clock,
      ids,
      ledger,
      wallets,
      funding: fundingService,
      shoppers: {
        byId: async (id) => {
          const s = await shoppers.get(id).catch((e: unknown) => (isDomainError(e) && e.kind === 'not_found' ? null : Promise.reject(e)));
          return s && { id: s.id, name: s.name, email: s.email };
        },
        byEmail: async (email) => (await shoppers.findByContact({ email })).map((s) => ({ id: s.id, name: s.name, email: s.email }))[0] ?? null,
        byPhone: async (phone) => (await shoppers.findByContact({ phone })).map((s) => ({ id: s.id, name: s.name, email: s.email })),
      },
      caps: { perCredit: config.deskTopUpCap, daily: config.deskDailyCap },
    }),
    operators,
    merchantOverview: createMerchantOverview({ db, clock, merchant: (id) => merchants.getMerchant(id) }),
    reconciliation: createReconciliation({ db, ledger, now: () => clock.now().getTime() }),
    ...(overrides.cardAcquirer ? { cardRail: createCardRail({ db, clock, funding: fundingService, acquirer: overrides.cardAcquirer, secret: cardSecret(config) }) } : {}),
    walletCurrency: config.walletCurrency,
    clock,
    facePay,
    staff,
    reports,
    resets,
    invitations,
    disputes,
    settlement,
    feeRates,
    platformLimits,
    rights,
  };
  const idempotency = createIdempotencyStore(db, clock);
  const operations = operationsFor({ config, db, face, webhooks, registry, probes: overrides.probes ?? {} });
  new Gauge({
    name: 'facepay_mail_outbox_pending',
    help: 'mail waiting in the outbox (new, or failed and due for another try)',
    registers: [registry],
    async collect() {
      this.set(await mail.pending());
    },
  });
  app = buildApp({
    services,
    db,
    clock,
    ids,
    config: { ...config, ...(config.tls ? { https: readTls(config.tls) } : {}) },
    idempotency,
    operations,
    ...(overrides.logStream ? { logStream: overrides.logStream } : {}),
  });
  const server = app;

  let housekeeping: NodeJS.Timeout | undefined;
  let lastSettle = 0;
  let scheduler: NodeJS.Timeout | undefined;
  return {
    config,
    db,
    clock,
    ids,
    services,
    app: server,
    face,
    mail,
    startWorkers() {
      const app = server;
      webhooks.start(config.webhookIntervalMs, (e) => app.log.error({ err: e, worker: 'webhooks' }, 'webhook worker failed'));
      mail.start(config.webhookIntervalMs, (e) => app.log.error({ err: e, worker: 'mail' }, 'mail worker failed'));
      // Checkouts a crash interrupted are finished or compensated at start and then with the housekeeping.
      const resumeCheckouts = (): void => {
        checkout
          .recover()
          .then(() => checkout.retryDue())
          .catch((e: unknown) => app.log.error({ err: e, worker: 'checkout' }, 'resuming checkouts and follow-up steps failed'));
      };
      resumeCheckouts();
      housekeeping = setInterval(() => {
        ledger.expirePending().catch((e: unknown) => app.log.error({ err: e, worker: 'ledger' }, 'expiring pending transfers failed'));
        idempotency.purge(24 * 3600_000).catch((e: unknown) => app.log.error({ err: e, worker: 'idempotency' }, 'purging idempotency keys failed'));
        resumeCheckouts();
        rights.resumeDeletions().catch((e: unknown) => app.log.error({ err: e, worker: 'rights' }, 'resuming account deletions failed'));
        // Days are closed at most once a minute: a close reads every merchant's payable.
        if (Date.now() - lastSettle >= 60_000) {
          lastSettle = Date.now();
          settlement
            .resumeOpenRuns()
            .then(() => settlement.closeDays())
            .catch((e: unknown) => app.log.error({ err: e, worker: 'settlement' }, 'closing settlement days failed'));
        }
      }, 5_000);
      housekeeping.unref();
      // Scheduled campaigns (birthday treats, win-backs) reach their audience hourly, and once at start.
      const runScheduled = (): void => {
        marketing
          .runScheduled(clock.now().getTime())
          .catch((e: unknown) => app.log.error({ err: e, worker: 'marketing' }, 'running scheduled campaigns failed'));
        // The face-template retention rule works in days: hourly is more than often enough.
        rights.runRetention().catch((e: unknown) => app.log.error({ err: e, worker: 'retention' }, 'the face-template retention rule failed'));
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
      await mail.stop();
      await server.close();
      if (ownDb) await db.close();
    },
  };
}
