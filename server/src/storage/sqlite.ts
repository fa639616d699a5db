import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Db, SqlExecutor } from './db.ts';

/** A statement rewritten for SQLite: positional `?` and, for each, the index of the `$n` it binds. */
interface Translated {
  sql: string;
  order: number[];
}

// The same few statements run millions of times on the hot path, so each is rewritten once.
const translations = new Map<string, Translated>();

/** `$1 ... $n` to positional `?`, with the parameters reordered to match (a `$2` used twice binds twice). */
function translate(sql: string, params: readonly unknown[]): { sql: string; params: unknown[] } {
  let t = translations.get(sql);
  if (t === undefined) {
    const order: number[] = [];
    const out = sql.replace(/\$(\d+)/g, (_m, n: string) => {
      order.push(Number(n) - 1);
      return '?';
    });
    t = { sql: out.replace(/\s+FOR UPDATE\b/gi, ''), order };
    if (translations.size < 10_000) translations.set(sql, t);
  }
  const bound = new Array<unknown>(t.order.length);
  for (let i = 0; i < t.order.length; i++) bound[i] = toSqlite(params[t.order[i]!]);
  return { sql: t.sql, params: bound };
}

function toSqlite(v: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.getTime();
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof Uint8Array)) return JSON.stringify(v);
  return v === undefined ? null : v;
}

/**
 * The embedded database. better-sqlite3 is synchronous, so one connection serves everything and
 * transactions are queued: an async transaction must never interleave with another on the same
 * connection.
 */
/**
 * The database holds staff password hashes, shoppers' details and wrapped keys: its folder is
 * created 0700 and the file 0600 before SQLite opens it (SQLite gives its -wal and -shm files the
 * database file's mode). An existing database from before is tightened to 0600 too.
 */
function ownerOnly(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}

export class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly cache = new Map<string, { stmt: Database.Statement; reader: boolean }>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    if (file !== ':memory:') ownerOnly(file);
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // A 64 MiB page cache keeps the hot ends of the indexes in memory (the default is 2 MiB), and
    // checkpointing every ~40 MiB of WAL instead of every 4 MiB makes its fsync rarer.
    this.db.pragma('cache_size = -65536');
    this.db.pragma('wal_autocheckpoint = 10000');
    this.db.pragma('temp_store = MEMORY');
  }

  /** The raw handle, for the migration runner and benchmarks' baselines only. */
  get raw(): Database.Database {
    return this.db;
  }

  /**
   * An online backup (SQLite's backup API through better-sqlite3): a consistent copy of the whole
   * database while it stays open for reads and writes. The copy is created owner-only.
   */
  async backup(file: string): Promise<void> {
    ownerOnly(file);
    await this.db.backup(file);
    chmodSync(file, 0o600);
  }

  private prepare(sql: string): { stmt: Database.Statement; reader: boolean } {
    let entry = this.cache.get(sql);
    if (entry === undefined) {
      const stmt = this.db.prepare(sql);
      entry = { stmt, reader: stmt.reader };
      this.cache.set(sql, entry);
    }
    return entry;
  }

  querySync<T>(sql: string, params: readonly unknown[] = []): T[] {
    const t = translate(sql, params);
    const { stmt, reader } = this.prepare(t.sql);
    if (!reader) {
      stmt.run(...t.params);
      return [];
    }
    return stmt.all(...t.params) as T[];
  }

  executeSync(sql: string, params: readonly unknown[] = []): { changes: number } {
    const t = translate(sql, params);
    const { stmt, reader } = this.prepare(t.sql);
    if (reader) {
      stmt.all(...t.params);
      return { changes: 0 };
    }
    return { changes: stmt.run(...t.params).changes };
  }

  async query<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.enqueue(() => this.querySync<T>(sql, params));
  }

  /** A write outside a transaction joins the next group commit rather than paying for a commit of its own. */
  async execute(sql: string, params?: readonly unknown[]): Promise<{ changes: number }> {
    return this.transaction(async (tx) => tx.execute(sql, params));
  }

  /**
   * Group commit: transactions that queue up while others run are executed one after another
   * inside a single BEGIN ... COMMIT, each in its own SAVEPOINT. One that throws is rolled back to
   * its savepoint alone; none is answered before the COMMIT that makes it durable. A commit costs
   * several system calls and a share of a checkpoint, so under load this multiplies throughput
   * without changing what any caller sees.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn: fn as (tx: SqlExecutor) => Promise<unknown>, resolve: resolve as (v: unknown) => void, reject });
      // The batch starts after the current turn of the event loop, so that transactions started
      // by every request that arrived in this turn share its commit.
      if (this.pending.length === 1) setImmediate(() => void this.enqueue(() => this.runBatch()));
    });
  }

  private readonly pending: { fn: (tx: SqlExecutor) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  private readonly txExecutor: SqlExecutor = {
    dialect: 'sqlite',
    query: async <R>(sql: string, params?: readonly unknown[]) => this.querySync<R>(sql, params),
    execute: async (sql: string, params?: readonly unknown[]) => this.executeSync(sql, params),
  };

  private async runBatch(): Promise<void> {
    const batch = this.pending.splice(0, SqliteDb.MAX_BATCH);
    if (batch.length === 0) return;
    // Whatever queued beyond this batch gets the next turn on the connection.
    if (this.pending.length > 0) void this.enqueue(() => this.runBatch());
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.prepare('BEGIN IMMEDIATE').stmt.run();
    } catch (e) {
      for (const t of batch) t.reject(e);
      return;
    }
    for (const t of batch) {
      this.prepare('SAVEPOINT tx').stmt.run();
      try {
        const value = await t.fn(this.txExecutor);
        this.prepare('RELEASE tx').stmt.run();
        outcomes.push({ ok: true, value });
      } catch (e) {
        if (this.db.inTransaction) {
          this.prepare('ROLLBACK TO tx').stmt.run();
          this.prepare('RELEASE tx').stmt.run();
        }
        outcomes.push({ ok: false, value: e });
      }
    }
    try {
      if (this.db.inTransaction) this.prepare('COMMIT').stmt.run();
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      for (const t of batch) t.reject(e);
      return;
    }
    batch.forEach((t, i) => {
      const o = outcomes[i]!;
      if (o.ok) t.resolve(o.value);
      else t.reject(o.value);
    });
  }

  private static readonly MAX_BATCH = 64;

  /**
   * Everything on the connection runs in turn: a statement issued while a transaction awaits
   * would otherwise land inside that transaction. Statements inside a transaction use its `tx`.
   */
  private enqueue<T>(work: () => T | Promise<T>): Promise<T> {
    const p = this.queue.then(work, work);
    this.queue = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  async close(): Promise<void> {
    while (this.pending.length > 0) await new Promise((r) => setImmediate(r));
    await this.queue;
    this.db.close();
  }
}
