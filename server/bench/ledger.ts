/**
 * bench:ledger — payments per second through the payment service and over HTTP, on the embedded
 * SQLite and (when FACEPAY_PG_URL is set) on PostgreSQL, each next to a baseline measured in the
 * same run on the same database: the minimal SQL of one transfer (two balance updates and one
 * insert in a transaction) in a loop.
 *
 * A payment is the real flow: create a payment intent, then confirm it for a shopper (limits,
 * fee, two ledger transfers, events in the outbox). Over HTTP it is one POST /v1/payment_intents
 * with `confirm: true` and an Idempotency-Key, sent by a child process over keep-alive
 * connections to the server listening on loopback, with request logging on (to a null sink).
 *
 * Then the settlement close of one merchant day with 100 thousand live payments (10 thousand with
 * --quick): the seconds `closeDays` takes to put every transfer of the day into its statement and
 * total it, next to the seconds of a plain SQL sum over the same rows.
 *
 *   npm run bench:ledger [-- --quick] [-- --json] [-- --settlement-only]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, freemem, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { loadConfig } from '../src/config/index.ts';
import { allMigrations, createPlatform, type Platform } from '../src/composition.ts';
import { ManualClock, Progress } from '../src/platform/index.ts';
import { migrate, PostgresDb, SqliteDb, type Db } from '../src/storage/index.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const pgUrl = process.env.FACEPAY_PG_URL || undefined;
const settlementOnly = args.includes('--settlement-only');
const SETTLEMENT_PAYMENTS = quick ? 10_000 : 100_000;

const SHOPPERS = 200;
const counts = quick
  ? { warm: 500, service: 3000, http: 3000, baseline: 5000, pgService: 1000, pgHttp: 1000, pgBaseline: 1000 }
  : { warm: 2000, service: 20000, http: 15000, baseline: 30000, pgService: 4000, pgHttp: 4000, pgBaseline: 4000 };
const SERVICE_CONCURRENCY = 32;
const HTTP_CONNECTIONS = 16;
const PG_CONCURRENCY = 16;

const log = (s: string): void => void (json ? process.stderr : process.stdout).write(`${s}\n`);

function machine(): string {
  const c = cpus();
  return `${c[0]?.model ?? 'cpu'} x${c.length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} free), node ${process.version}`;
}

async function setUp(db: Db): Promise<{ platform: Platform; merchantId: string; storeId: string; key: string }> {
  // Rate limits off: the load comes from one address by design.
  const config = loadConfig({ FACEPAY_LOG_LEVEL: 'info', FACEPAY_SHOPPER_DAILY_LIMIT: String(Number.MAX_SAFE_INTEGER), FACEPAY_PLATFORM_FEE_BPS: '150', FACEPAY_RATE_LIMITS: '0' });
  const platform = await createPlatform(config, { db, logStream: { write: () => undefined } });
  const m = await platform.services.merchants.createMerchant({ name: 'Bench' });
  const store = await platform.services.merchants.createStore(m.id, { name: 'Bench store' });
  const { secret } = await platform.services.merchants.createApiKey(m.id, { mode: 'test' });
  for (let i = 0; i < SHOPPERS; i++) await platform.services.payments.topUp(`test_bench_${i}`, 1e12, 'usd', `bench-${i}`);
  return { platform, merchantId: m.id, storeId: store.id, key: secret };
}

/** Payments through the service with `concurrency` in flight; answers payments per second. */
async function servicePayments(s: Awaited<ReturnType<typeof setUp>>, n: number, concurrency: number, label: string): Promise<number> {
  const { payments } = s.platform.services;
  const progress = new Progress(label, n);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        const pi = await payments.createIntent(s.merchantId, { amount: 100 + (i % 400), currency: 'usd', storeId: s.storeId, orderReference: `o${i}` });
        await payments.confirmWithShopper(pi.id, `test_bench_${i % SHOPPERS}`);
        progress.tick();
      }
    }),
  );
  const secs = (performance.now() - started) / 1000;
  progress.finish();
  return n / secs;
}

async function httpPayments(s: Awaited<ReturnType<typeof setUp>>, n: number, prefix: string): Promise<number> {
  const address = await s.platform.app.listen({ port: 0, host: '127.0.0.1' });
  const child = spawn(process.execPath, [join(import.meta.dirname, 'ledger-http-load.mjs'), address, s.key, s.storeId, String(HTTP_CONNECTIONS), String(n), String(SHOPPERS), prefix], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => child.on('exit', r));
  const r = JSON.parse(out.trim().split('\n').pop()!) as { requests: number; seconds: number; statuses: Record<string, number> };
  if ((r.statuses['200'] ?? 0) !== r.requests) throw new Error(`HTTP load got statuses ${JSON.stringify(r.statuses)}`);
  return r.requests / r.seconds;
}

/** The minimal SQL of one transfer, prepared, in a loop on the same kind of file database. */
function sqliteBaseline(file: string, n: number): number {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE acc (id TEXT PRIMARY KEY, debits BIGINT NOT NULL, credits BIGINT NOT NULL);
    CREATE TABLE tr (id TEXT PRIMARY KEY, debit TEXT NOT NULL, credit TEXT NOT NULL, amount BIGINT NOT NULL, created_at BIGINT NOT NULL)`);
  const ins = db.prepare('INSERT INTO acc VALUES (?, 0, 0)');
  for (let i = 0; i < SHOPPERS; i++) ins.run(`w${i}`);
  ins.run('m');
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const debit = db.prepare('UPDATE acc SET debits = debits + ? WHERE id = ?');
  const credit = db.prepare('UPDATE acc SET credits = credits + ? WHERE id = ?');
  const transfer = db.prepare('INSERT INTO tr VALUES (?, ?, ?, ?, ?)');
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    begin.run();
    debit.run(100, `w${i % SHOPPERS}`);
    credit.run(100, 'm');
    transfer.run(`t${i}`, `w${i % SHOPPERS}`, 'm', 100, Date.now());
    commit.run();
  }
  const rate = n / ((performance.now() - started) / 1000);
  db.close();
  return rate;
}

/** The same minimal transfer on PostgreSQL, from as many connections as the service uses. */
async function pgBaseline(url: string, schema: string, n: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: PG_CONCURRENCY, options: `-c search_path=${schema}` });
  await pool.query(`CREATE TABLE acc (id TEXT PRIMARY KEY, debits BIGINT NOT NULL, credits BIGINT NOT NULL);
    CREATE TABLE tr (id TEXT PRIMARY KEY, debit TEXT NOT NULL, credit TEXT NOT NULL, amount BIGINT NOT NULL, created_at BIGINT NOT NULL)`);
  await pool.query(`INSERT INTO acc SELECT 'w' || g, 0, 0 FROM generate_series(0, ${SHOPPERS - 1}) g`);
  await pool.query("INSERT INTO acc VALUES ('m', 0, 0)");
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: PG_CONCURRENCY }, async () => {
      const c = await pool.connect();
      try {
        for (;;) {
          const i = next++;
          if (i >= n) return;
          // Prepared, as the service's statements are.
          await c.query('BEGIN');
          await c.query({ name: 'b1', text: 'UPDATE acc SET debits = debits + $1 WHERE id = $2', values: [100, `w${i % SHOPPERS}`] });
          await c.query({ name: 'b2', text: 'UPDATE acc SET credits = credits + $1 WHERE id = $2', values: [100, 'm'] });
          await c.query({ name: 'b3', text: 'INSERT INTO tr VALUES ($1, $2, $3, $4, $5)', values: [`t${i}`, `w${i % SHOPPERS}`, 'm', 100, Date.now()] });
          await c.query('COMMIT');
        }
      } finally {
        c.release();
      }
    }),
  );
  const rate = n / ((performance.now() - started) / 1000);
  await pool.end();
  return rate;
}

/**
 * pgbench's own TPC-B-like transaction (scale 1, prepared, the same number of clients), printed
 * for reference beside the minimal-transfer baseline; absent when pgbench is not installed.
 */
function pgbenchTpcb(url: string, schema: string, transactionsPerClient: number): number | undefined {
  const env = { ...process.env, PGOPTIONS: `-c search_path=${schema}` };
  const init = spawnSync('pgbench', ['-i', '-s', '1', '-q', url], { env, encoding: 'utf8' });
  if (init.error || init.status !== 0) return undefined;
  const run = spawnSync('pgbench', ['-n', '-M', 'prepared', '-c', String(PG_CONCURRENCY), '-j', '2', '-t', String(transactionsPerClient), url], { env, encoding: 'utf8' });
  const m = /tps = ([\d.]+)/.exec(run.stdout ?? '');
  return m ? Number(m[1]) : undefined;
}

async function checkBooks(p: Platform, label: string): Promise<void> {
  const audit = await p.services.payments.audit();
  if (!audit.ok) throw new Error(`${label}: the books do not balance: ${audit.problems.slice(0, 5).join('; ')}`);
}

/**
 * One live merchant day of n payments (made through the payment service at a fixed instant of the
 * day), then its close; answers the close's seconds and a plain SQL sum's over the same transfers.
 */
async function settlementClose(db: Db, n: number, label: string): Promise<{ closeS: number; sumS: number; transfers: number }> {
  const clock = new ManualClock('2026-03-02T10:00:00Z');
  const config = loadConfig({ FACEPAY_LOG_LEVEL: 'silent', FACEPAY_FACE: '0', FACEPAY_SHOPPER_DAILY_LIMIT: String(Number.MAX_SAFE_INTEGER), FACEPAY_PLATFORM_FEE_BPS: '150', FACEPAY_RATE_LIMITS: '0', FACEPAY_SETTLEMENT_GRACE_MS: '0' });
  const platform = await createPlatform(config, { db, clock, logStream: { write: () => undefined } });
  try {
    const { payments, merchants } = platform.services;
    const settlement = platform.services.settlement!;
    const m = await merchants.createMerchant({ name: 'Settle bench' });
    const store = await merchants.createStore(m.id, { name: 'Bench store' });
    for (let i = 0; i < SHOPPERS; i++) await payments.topUp(`settle_bench_${i}`, 1e12, 'eur', `settle-bench-${i}`);
    const progress = new Progress(`${label} settlement day`, n);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < n; i = next++) {
        const pi = await payments.createIntent(m.id, { amount: 1_000 + (i % 97), currency: 'eur', storeId: store.id });
        await payments.confirmWithShopper(pi.id, `settle_bench_${i % SHOPPERS}`);
        progress.tick();
      }
    };
    await Promise.all(Array.from({ length: db.dialect === 'postgres' ? PG_CONCURRENCY : SERVICE_CONCURRENCY }, worker));
    progress.finish();
    clock.set('2026-03-03T00:00:01Z');
    const t0 = performance.now();
    const [st] = await settlement.closeDays();
    const closeS = (performance.now() - t0) / 1000;
    if (!st || st.transferCount !== 2 * n) throw new Error(`${label}: the statement holds ${st?.transferCount} transfers, not ${2 * n}`);
    const account = `merchant:${m.id}:eur`;
    const t1 = performance.now();
    const [sum] = await db.query<{ total: unknown; n: unknown }>(
      `SELECT SUM(CASE WHEN credit_account_id = $1 THEN amount ELSE -amount END) AS total, COUNT(*) AS n FROM ledger_transfers
       WHERE (credit_account_id = $1 OR debit_account_id = $1) AND created_at >= $2 AND created_at < $3`,
      [account, st.periodStart, st.periodEnd],
    );
    const sumS = (performance.now() - t1) / 1000;
    if (Number(sum?.total) !== st.net) throw new Error(`${label}: the statement's net ${st.net} is not the SQL sum ${String(sum?.total)}`);
    const audit = await settlement.audit();
    if (!audit.ok) throw new Error(`${label}: settlement audit: ${audit.problems.slice(0, 3).join('; ')}`);
    return { closeS, sumS, transfers: Number(sum?.n) };
  } finally {
    await platform.close();
  }
}

async function settlementFigures(dir: string, figures: Record<string, number | string | boolean>): Promise<void> {
  const sdb = new SqliteDb(join(dir, 'settle.sqlite'));
  await migrate(sdb, allMigrations);
  const r = await settlementClose(sdb, SETTLEMENT_PAYMENTS, 'sqlite');
  await sdb.close();
  figures.sqlite_settlement_payments = SETTLEMENT_PAYMENTS;
  figures.sqlite_settlement_close_s = Number(r.closeS.toFixed(2));
  figures.sqlite_settlement_sql_sum_s = Number(r.sumS.toFixed(3));
  log(`sqlite settlement close of a day of ${SETTLEMENT_PAYMENTS} payments (${r.transfers} transfers): ${figures.sqlite_settlement_close_s} s; plain SQL sum of the same rows: ${figures.sqlite_settlement_sql_sum_s} s`);
  if (pgUrl) {
    const pdb = new PostgresDb({ url: pgUrl, schema: `bench_settle_${process.pid}`, maxConnections: PG_CONCURRENCY });
    await pdb.init();
    try {
      await migrate(pdb, allMigrations);
      const n = Math.min(SETTLEMENT_PAYMENTS, quick ? 5_000 : 20_000);
      const p = await settlementClose(pdb, n, 'pg');
      figures.pg_settlement_payments = n;
      figures.pg_settlement_close_s = Number(p.closeS.toFixed(2));
      figures.pg_settlement_sql_sum_s = Number(p.sumS.toFixed(3));
      log(`pg settlement close of a day of ${n} payments (${p.transfers} transfers): ${figures.pg_settlement_close_s} s; plain SQL sum: ${figures.pg_settlement_sql_sum_s} s`);
    } finally {
      await pdb.dropSchema();
      await pdb.close();
    }
  }
}

async function main(): Promise<void> {
  const figures: Record<string, number | string | boolean> = { quick, machine: machine() };
  log(`bench:ledger ${quick ? '(quick) ' : ''}on ${machine()}`);
  const dir = mkdtempSync(join(tmpdir(), 'facepay-bench-'));
  if (settlementOnly) {
    try {
      await settlementFigures(dir, figures);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    if (json) process.stdout.write(`${JSON.stringify(figures)}\n`);
    return;
  }
  try {
    figures.sqlite_baseline_per_s = Math.round(sqliteBaseline(join(dir, 'baseline.sqlite'), counts.baseline));
    log(`sqlite baseline (minimal transfer SQL in a loop): ${figures.sqlite_baseline_per_s}/s`);

    const sdb = new SqliteDb(join(dir, 'facepay.sqlite'));
    await migrate(sdb, allMigrations);
    const s = await setUp(sdb);
    await servicePayments(s, counts.warm, SERVICE_CONCURRENCY, 'sqlite warm-up');
    figures.sqlite_service_per_s = Math.round(await servicePayments(s, counts.service, SERVICE_CONCURRENCY, 'sqlite service'));
    log(`sqlite service: ${figures.sqlite_service_per_s} payments/s (target >= 5000)`);
    figures.sqlite_http_per_s = Math.round(await httpPayments(s, counts.http, 'sqlite'));
    log(`sqlite http: ${figures.sqlite_http_per_s} payments/s over ${HTTP_CONNECTIONS} keep-alive connections (target >= 1500)`);
    await checkBooks(s.platform, 'sqlite');
    await s.platform.close();
    await sdb.close();

    if (pgUrl) {
      const schema = `bench_${process.pid}`;
      const admin = new pg.Pool({ connectionString: pgUrl, max: 1 });
      await admin.query(`CREATE SCHEMA ${schema}_base`);
      try {
        figures.pg_baseline_per_s = Math.round(await pgBaseline(pgUrl, `${schema}_base`, counts.pgBaseline));
        log(`pg baseline (minimal transfer SQL, ${PG_CONCURRENCY} connections): ${figures.pg_baseline_per_s}/s`);
        await admin.query(`CREATE SCHEMA ${schema}_pgb`);
        const tpcb = pgbenchTpcb(pgUrl, `${schema}_pgb`, Math.ceil(counts.pgBaseline / PG_CONCURRENCY));
        if (tpcb !== undefined) {
          figures.pg_pgbench_tpcb_per_s = Math.round(tpcb);
          log(`pg reference: pgbench TPC-B-like, scale 1, ${PG_CONCURRENCY} clients: ${figures.pg_pgbench_tpcb_per_s} tps`);
        }
        const pdb = new PostgresDb({ url: pgUrl, schema, maxConnections: PG_CONCURRENCY });
        await pdb.init();
        await migrate(pdb, allMigrations);
        const p = await setUp(pdb);
        await servicePayments(p, Math.min(counts.warm, 300), PG_CONCURRENCY, 'pg warm-up');
        figures.pg_service_per_s = Math.round(await servicePayments(p, counts.pgService, PG_CONCURRENCY, 'pg service'));
        log(`pg service: ${figures.pg_service_per_s} payments/s (target >= ${Math.round(Number(figures.pg_baseline_per_s) / 2)}, half the baseline)`);
        figures.pg_http_per_s = Math.round(await httpPayments(p, counts.pgHttp, 'pg'));
        log(`pg http: ${figures.pg_http_per_s} payments/s`);
        await checkBooks(p.platform, 'pg');
        await p.platform.close();
        await pdb.dropSchema();
        await pdb.close();
      } finally {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema}_base CASCADE`);
        await admin.query(`DROP SCHEMA IF EXISTS ${schema}_pgb CASCADE`);
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.end();
      }
    } else {
      log('FACEPAY_PG_URL is not set: PostgreSQL figures skipped');
    }
    await settlementFigures(dir, figures);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  figures.sqlite_service_meets_target = Number(figures.sqlite_service_per_s) >= 5000;
  figures.sqlite_http_meets_target = Number(figures.sqlite_http_per_s) >= 1500;
  if (figures.pg_service_per_s !== undefined) figures.pg_service_meets_target = Number(figures.pg_service_per_s) >= Number(figures.pg_baseline_per_s) / 2;
  if (json) process.stdout.write(`${JSON.stringify(figures)}\n`);
}

await main();
