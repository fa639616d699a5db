/**
 * All configuration comes from environment variables, read once at start by `loadConfig`. Each
 * variable is documented in CONFIG_VARS (printed by `facepay start --help`); a bad value stops
 * the start with a message naming the variable rather than running on a surprising default.
 */
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { isCurrency } from '../platform/currencies.ts';

export interface Config {
  port: number;
  host: string;
  /** Where the embedded database and other local state live. */
  dataDir: string;
  /** PostgreSQL instead of the embedded database when set. */
  pgUrl: string | undefined;
  pgMaxConnections: number;
  platformFeeBps: number;
  shopperPaymentLimit: number;
  shopperDailyLimit: number;
  bodyLimitBytes: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  webhookIntervalMs: number;
  /** Lets webhook endpoints use http:// (development only). */
  webhookAllowHttp: boolean;
  /** Lets webhook endpoints target loopback, private and link-local addresses (tests and development only). */
  webhookAllowPrivate: boolean;
  /** The URL printed for people to open; defaults to http://HOST:PORT. */
  publicUrl: string | undefined;
  /** Load the face engine and gallery (face payments, enrolment). Off in tests that do not need them. */
  faceEnabled: boolean;
  /** Face engine worker threads; 0 runs it on the main thread. */
  faceWorkers: number;
  /** The embedder's name (the face engine refuses an unknown one); unset means the engine's default. */
  faceModel: string | undefined;
  /** One measured population to decide on instead of the envelope of all (warned about at start). */
  calibrationPopulation: string | undefined;
  /** The liveness challenges a shopper may be asked (unset: the face engine's default, turn left or right). */
  /** Milliseconds one partition's exact scan may take before the gallery searches it by graph. */
  searchBudgetMs: number;
  /**
   * The gallery partitions (regions, merchant groups) this process loads and searches; unset means
   * every partition in the database. Others are still written to the database, for their own processes.
   */
  galleryPartitions: readonly string[] | undefined;
  faceChallengeKinds: readonly ('turn_left' | 'turn_right' | 'blink')[] | undefined;
  /** Currency of shopper wallets (lower case, as amounts are stored). */
  walletCurrency: string;
  /** `test`: a portal top-up is credited at once (demo); `live`: it is a pending funding intent until a rail confirms it. */
  fundingMode: 'test' | 'live';
  topUpCap: number;
  topUpDailyCap: number;
  /** The service desk's caps for each desk user, per credit and per UTC day (a user may carry lower ones). */
  deskTopUpCap: number;
  deskDailyCap: number;
  /** The secret a card acquirer signs its webhooks with (only used when an acquirer adapter is wired in). */
  cardWebhookSecret: string | undefined;
  /** The operator's own bank account, the debtor of payout files (unset: payout runs are refused). */
  payoutDebtor: { name: string; iban: string | undefined; bic: string | undefined };
  /** A merchant's day is closed into a statement this long after it ended. */
  settlementGraceMs: number;
  /** Face templates of a shopper who has neither enrolled nor paid by face for this many days are deleted (a notice goes 30 days before). */
  templateRetentionDays: number;
  /** Keys the marketing holdout draw; must be the same in every process and across restarts. */
  marketingSecret: string | undefined;
  /** Fastify's trustProxy: false, true (any proxy), a hop count or a list of addresses. */
  trustProxy: boolean | number | string;
  /** Rate limits per address, per device and on sign-in (off only for benchmarks). */
  rateLimits: boolean;
  /** HTTPS: the server's certificate and key (PEM files); both or neither. */
  tls: { certFile: string; keyFile: string; caFile: string } | undefined;
  /** With HTTPS, a plain-HTTP listener on this port redirects to it (and serves the CA certificate). */
  httpRedirectPort: number | undefined;
  /** smtp:// or smtps:// URL of the mail server; without it mail is written to the log. */
  smtpUrl: string | undefined;
  mailFrom: string;
  /** A bearer token that opens /metrics from anywhere; without it only loopback addresses may read it. */
  metricsToken: string | undefined;
}

interface VarDoc {
  name: string;
  default: string;
  about: string;
}

export const CONFIG_VARS: readonly VarDoc[] = [
  { name: 'PORT', default: '3000', about: 'TCP port of the API and web apps (0 picks a free one)' },
  { name: 'HOST', default: '127.0.0.1', about: 'interface to listen on; 0.0.0.0 to reach it from tablets on the network' },
  { name: 'FACEPAY_DATA_DIR', default: './data', about: 'folder of the embedded SQLite database (facepay.sqlite) and local state' },
  { name: 'FACEPAY_PG_URL', default: '(unset)', about: 'postgres://... to use PostgreSQL instead of the embedded database' },
  { name: 'FACEPAY_PG_MAX_CONNECTIONS', default: '10', about: 'size of the PostgreSQL connection pool of each process' },
  { name: 'FACEPAY_PLATFORM_FEE_BPS', default: '100', about: 'platform fee per payment in basis points (100 = 1%), rounded down' },
  { name: 'FACEPAY_SHOPPER_PAYMENT_LIMIT', default: '100000', about: 'largest face payment, in minor units of any currency (a default: operator admins may change it at run time)' },
  { name: 'FACEPAY_SHOPPER_DAILY_LIMIT', default: '300000', about: 'most a shopper may pay by face per UTC day and currency, in minor units (a default: operator admins may change it at run time)' },
  { name: 'FACEPAY_FUNDING_MODE', default: 'live', about: 'live: a portal top-up waits for a funding rail (service desk, bank transfer, card) to confirm it; test: also credits test shoppers (test_...) at once' },
  { name: 'FACEPAY_DESK_TOP_UP_CAP', default: '50000', about: 'largest credit one service desk user may make, in minor units (each user may have a lower one)' },
  { name: 'FACEPAY_CARD_WEBHOOK_SECRET', default: '(unset)', about: 'shared secret of the card acquirer\'s signed webhooks (needs an acquirer adapter; none ships)' },
  { name: 'FACEPAY_DESK_DAILY_CAP', default: '500000', about: 'most one service desk user may credit per UTC day, in minor units (each user may have a lower one)' },
  { name: 'FACEPAY_TOP_UP_CAP', default: '1000000', about: 'largest single wallet top-up, in minor units (a default: operator admins may change it at run time)' },
  { name: 'FACEPAY_PAYOUT_DEBTOR_IBAN', default: '(unset)', about: "the operator's bank account (IBAN) payout files pay from; payout runs need it" },
  { name: 'FACEPAY_PAYOUT_DEBTOR_NAME', default: 'Facepay operator', about: 'the account holder name written as debtor into payout files' },
  { name: 'FACEPAY_PAYOUT_DEBTOR_BIC', default: '(unset)', about: "the BIC of the operator's bank, if the bank wants it in payout files" },
  { name: 'FACEPAY_TEMPLATE_RETENTION_DAYS', default: '1095', about: 'days a face template is kept after its last use (enrolment or face payment); the shopper is mailed 30 days before and when it goes (docs/privacy.md)' },
  { name: 'FACEPAY_SETTLEMENT_GRACE_MS', default: '600000', about: "how long after a merchant's local midnight its day is closed into a statement" },
  { name: 'FACEPAY_TOP_UP_DAILY_CAP', default: '5000000', about: 'most a shopper may top up per UTC day and currency, in minor units (a default: operator admins may change it at run time)' },
  { name: 'FACEPAY_BODY_LIMIT_BYTES', default: '65536', about: 'largest accepted request body (device routes may set their own)' },
  { name: 'FACEPAY_LOG_LEVEL', default: 'info', about: 'fatal, error, warn, info, debug, trace or silent' },
  { name: 'FACEPAY_WEBHOOK_INTERVAL_MS', default: '1000', about: 'how often the webhook worker looks for work' },
  { name: 'FACEPAY_WEBHOOK_ALLOW_HTTP', default: '0', about: '1 lets webhook endpoints use plain http:// (development)' },
  { name: 'FACEPAY_WEBHOOK_ALLOW_PRIVATE', default: '0', about: '1 lets webhook endpoints target loopback and private addresses (tests and development; never in production)' },
  { name: 'FACEPAY_PUBLIC_URL', default: '(unset)', about: 'the address printed for people to open, when behind a proxy' },
  { name: 'FACEPAY_FACE', default: '1', about: '0 starts without the face engine and gallery (no face payments or enrolment)' },
  { name: 'FACEPAY_FACE_WORKERS', default: '(cores)', about: 'face engine worker threads, one model set each' },
  { name: 'FACEPAY_FACE_MODEL', default: 'faceplugin-arcface512', about: 'face embedder (faceplugin-arcface512 or faceapi-resnet128; see server/src/face/models); templates of another model are not used' },
  { name: 'FACEPAY_CALIBRATION_POPULATION', default: '(envelope)', about: 'decide face matches on one measured population (lfw, lfw-east-asian, korean-family) instead of the envelope of all; its risks hold only for that population' },
  { name: 'FACEPAY_SEARCH_BUDGET_MS', default: '15', about: "milliseconds one gallery partition's exact scan may take; a partition measured slower is searched by the HNSW graph instead (chosen at start, printed per partition)" },
  { name: 'FACEPAY_GALLERY_PARTITIONS', default: '(all)', about: 'gallery partitions this process loads and searches, comma separated (e.g. eu-north,grocer-x); a search of another answers 503 gallery_partition_not_served, enrolments in any are still written' },
  { name: 'FACEPAY_CHALLENGE_KINDS', default: 'turn_left,turn_right', about: 'liveness challenges asked at enrolment and payment, comma separated: turn_left, turn_right, blink' },
  { name: 'FACEPAY_WALLET_CURRENCY', default: 'eur', about: 'currency of shopper wallets (ISO 4217)' },
  { name: 'FACEPAY_MASTER_KEY', default: '(dev key)', about: '32 bytes base64 wrapping the face-template keys; without it a development key is kept in the data dir' },
  { name: 'FACEPAY_MASTER_KEY_PREVIOUS', default: '(unset)', about: 'older master keys, comma separated, during a rotation' },
  { name: 'FACEPAY_MARKETING_SECRET', default: '(from master key)', about: 'keys campaign holdout groups; keep it stable across restarts and processes' },
  { name: 'FACEPAY_TRUST_PROXY', default: '0', about: 'behind a reverse proxy: 1 (trust any), a hop count (e.g. 2) or addresses/CIDRs, comma separated; sets the client address and https from X-Forwarded-*' },
  { name: 'FACEPAY_TLS_CERT', default: '(unset)', about: 'PEM certificate (chain) file: the server then speaks HTTPS (make one with `facepay tls init`)' },
  { name: 'FACEPAY_TLS_KEY', default: '(unset)', about: 'PEM private key file of FACEPAY_TLS_CERT' },
  { name: 'FACEPAY_TLS_CA', default: '(ca.pem beside the cert)', about: 'the CA certificate offered to tablets at /ca.crt and /ca.pem' },
  { name: 'FACEPAY_HTTP_PORT', default: '(unset)', about: 'with HTTPS, a plain-HTTP port that redirects to it and serves the CA certificate (e.g. 80, or 3080)' },
  { name: 'FACEPAY_SMTP_URL', default: '(unset: mail to the log)', about: 'smtp://user:pass@host:587 or smtps://...:465 for password reset mail; set FACEPAY_PUBLIC_URL too, the links use it' },
  { name: 'FACEPAY_MAIL_FROM', default: 'Facepay <no-reply@localhost>', about: 'the From of mail the platform sends' },
  { name: 'FACEPAY_METRICS_TOKEN', default: '(unset)', about: '/metrics for a scraper with Authorization: Bearer TOKEN; without it only loopback clients may read /metrics' },
  { name: 'FACEPAY_RATE_LIMITS', default: '1', about: '0 switches rate limits off (benchmarks only)' },
  { name: 'FACEPAY_DATASETS', default: '../shared/datasets', about: 'face datasets for tests and benchmarks' },
];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(`${name} must be 0 or 1, got "${raw}"`);
}

function fundingMode(raw: string | undefined): 'test' | 'live' {
  if (raw === undefined || raw === '' || raw === 'live') return 'live';
  if (raw === 'test') return 'test';
  throw new ConfigError('FACEPAY_FUNDING_MODE must be test or live');
}

function walletCurrency(raw: string | undefined): string {
  const c = (raw || 'eur').toLowerCase();
  if (!/^[a-z]{3}$/.test(c) || !isCurrency(c)) throw new ConfigError(`FACEPAY_WALLET_CURRENCY must be a three-letter ISO 4217 code, got "${raw}"`);
  return c;
}

function trustProxy(raw: string | undefined): boolean | number | string {
  const v = (raw ?? '').trim();
  if (v === '' || v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  if (!/^[0-9A-Fa-f.:\/, ]+$/.test(v)) throw new ConfigError(`FACEPAY_TRUST_PROXY must be 0, 1, a hop count or addresses, got "${raw}"`);
  return v;
}

function tls(env: NodeJS.ProcessEnv, cwd: string): Config['tls'] {
  const cert = env.FACEPAY_TLS_CERT || undefined;
  const key = env.FACEPAY_TLS_KEY || undefined;
  if ((cert === undefined) !== (key === undefined)) throw new ConfigError('FACEPAY_TLS_CERT and FACEPAY_TLS_KEY go together: set both or neither');
  if (cert === undefined || key === undefined) return undefined;
  const certFile = resolve(cwd, cert);
  const ca = env.FACEPAY_TLS_CA ? resolve(cwd, env.FACEPAY_TLS_CA) : undefined;
  return { certFile, keyFile: resolve(cwd, key), caFile: ca ?? resolve(dirname(certFile), 'ca.pem') };
}

function smtpUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^smtps?:\/\/[^\s]+$/.test(raw)) throw new ConfigError('FACEPAY_SMTP_URL must be smtp://... or smtps://...');
  return raw;
}

function metricsToken(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < 16 || !/^[\x21-\x7e]+$/.test(raw)) throw new ConfigError('FACEPAY_METRICS_TOKEN must be at least 16 printable characters without spaces');
  return raw;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const CHALLENGE_KINDS = ['turn_left', 'turn_right', 'blink'] as const;

function challengeKinds(raw: string | undefined): Config['faceChallengeKinds'] {
  if (raw === undefined || raw.trim() === '') return undefined;
  const kinds = raw.split(',').map((k) => k.trim());
  for (const k of kinds) {
    if (!(CHALLENGE_KINDS as readonly string[]).includes(k)) throw new ConfigError(`FACEPAY_CHALLENGE_KINDS must list ${CHALLENGE_KINDS.join(', ')} (comma separated), got "${raw}"`);
  }
  return [...new Set(kinds)] as (typeof CHALLENGE_KINDS)[number][];
}

/** What a partition id may be: short, and safe in a log line, a metric label and a file name. */
const PARTITION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function galleryPartitions(raw: string | undefined): Config['galleryPartitions'] {
  if (raw === undefined || raw.trim() === '') return undefined;
  const ids = raw.split(',').map((p) => p.trim());
  for (const id of ids) {
    if (!PARTITION_ID.test(id)) {
      throw new ConfigError(
        `FACEPAY_GALLERY_PARTITIONS must list partition ids (letters, digits, '.', '_' or '-', up to 100, starting with a letter or digit), comma separated, got "${raw}"`,
      );
    }
  }
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice !== undefined) throw new ConfigError(`FACEPAY_GALLERY_PARTITIONS names partition "${twice}" twice`);
  return ids;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Config {
  const logLevel = (env.FACEPAY_LOG_LEVEL ?? 'info') as Config['logLevel'];
  if (!LEVELS.includes(logLevel)) throw new ConfigError(`FACEPAY_LOG_LEVEL must be one of ${LEVELS.join(', ')}`);
  const pgUrl = env.FACEPAY_PG_URL === '' ? undefined : env.FACEPAY_PG_URL;
  if (pgUrl !== undefined && !/^postgres(ql)?:\/\//.test(pgUrl)) throw new ConfigError('FACEPAY_PG_URL must start with postgres://');
  return {
    port: int(env, 'PORT', 3000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    dataDir: resolve(cwd, env.FACEPAY_DATA_DIR || './data'),
    pgUrl,
    pgMaxConnections: int(env, 'FACEPAY_PG_MAX_CONNECTIONS', 10, 1, 1000),
    platformFeeBps: int(env, 'FACEPAY_PLATFORM_FEE_BPS', 100, 0, 10_000),
    shopperPaymentLimit: int(env, 'FACEPAY_SHOPPER_PAYMENT_LIMIT', 100_000, 1, Number.MAX_SAFE_INTEGER),
    shopperDailyLimit: int(env, 'FACEPAY_SHOPPER_DAILY_LIMIT', 300_000, 1, Number.MAX_SAFE_INTEGER),
    bodyLimitBytes: int(env, 'FACEPAY_BODY_LIMIT_BYTES', 65_536, 1024, 64 * 1024 * 1024),
    logLevel,
    webhookIntervalMs: int(env, 'FACEPAY_WEBHOOK_INTERVAL_MS', 1000, 10, 3_600_000),
    webhookAllowHttp: flag(env, 'FACEPAY_WEBHOOK_ALLOW_HTTP'),
    webhookAllowPrivate: flag(env, 'FACEPAY_WEBHOOK_ALLOW_PRIVATE'),
    publicUrl: env.FACEPAY_PUBLIC_URL || undefined,
    faceEnabled: env.FACEPAY_FACE === undefined || env.FACEPAY_FACE === '' ? true : flag(env, 'FACEPAY_FACE'),
    faceWorkers: int(env, 'FACEPAY_FACE_WORKERS', availableParallelism(), 0, 64),
    faceModel: env.FACEPAY_FACE_MODEL || undefined,
    calibrationPopulation: env.FACEPAY_CALIBRATION_POPULATION || undefined,
    searchBudgetMs: int(env, 'FACEPAY_SEARCH_BUDGET_MS', 15, 1, 10_000),
    galleryPartitions: galleryPartitions(env.FACEPAY_GALLERY_PARTITIONS),
    faceChallengeKinds: challengeKinds(env.FACEPAY_CHALLENGE_KINDS),
    walletCurrency: walletCurrency(env.FACEPAY_WALLET_CURRENCY),
    fundingMode: fundingMode(env.FACEPAY_FUNDING_MODE),
    topUpCap: int(env, 'FACEPAY_TOP_UP_CAP', 1_000_000, 1, Number.MAX_SAFE_INTEGER),
    topUpDailyCap: int(env, 'FACEPAY_TOP_UP_DAILY_CAP', 5_000_000, 1, Number.MAX_SAFE_INTEGER),
    deskTopUpCap: int(env, 'FACEPAY_DESK_TOP_UP_CAP', 50_000, 1, Number.MAX_SAFE_INTEGER),
    deskDailyCap: int(env, 'FACEPAY_DESK_DAILY_CAP', 500_000, 1, Number.MAX_SAFE_INTEGER),
    cardWebhookSecret: env.FACEPAY_CARD_WEBHOOK_SECRET || undefined,
    payoutDebtor: {
      name: env.FACEPAY_PAYOUT_DEBTOR_NAME || 'Facepay operator',
      iban: env.FACEPAY_PAYOUT_DEBTOR_IBAN || undefined,
      bic: env.FACEPAY_PAYOUT_DEBTOR_BIC || undefined,
    },
    settlementGraceMs: int(env, 'FACEPAY_SETTLEMENT_GRACE_MS', 600_000, 0, 86_400_000),
    templateRetentionDays: int(env, 'FACEPAY_TEMPLATE_RETENTION_DAYS', 1095, 31, 36_500),
    marketingSecret: env.FACEPAY_MARKETING_SECRET || undefined,
    trustProxy: trustProxy(env.FACEPAY_TRUST_PROXY),
    rateLimits: env.FACEPAY_RATE_LIMITS === undefined || env.FACEPAY_RATE_LIMITS === '' ? true : flag(env, 'FACEPAY_RATE_LIMITS'),
    tls: tls(env, cwd),
    httpRedirectPort: env.FACEPAY_HTTP_PORT ? int(env, 'FACEPAY_HTTP_PORT', 0, 0, 65535) : undefined,
    metricsToken: metricsToken(env.FACEPAY_METRICS_TOKEN),
    smtpUrl: smtpUrl(env.FACEPAY_SMTP_URL),
    mailFrom: env.FACEPAY_MAIL_FROM || 'Facepay <no-reply@localhost>',
  };
}

/** The documented variables as text, for `--help`. */
export function describeConfig(): string {
  return CONFIG_VARS.map((v) => `  ${v.name.padEnd(30)} ${v.about} (default ${v.default})`).join('\n');
}
