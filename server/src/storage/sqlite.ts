import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Db, SqlExecutor } from './db.ts';

/** `$1 ... $n` to positional `?`, with the parameters reordered to match (a `$2` used twice binds twice). */
function translate(sql: string, params: readonly unknown[]): { sql: string; params: unknown[] } {
  const ordered: unknown[] = [];
  const out = sql.replace(/\$(\d+)/g, (_m, n: string) => {
    ordered.push(params[Number(n) - 1]);
    return '?';
  });
  return { sql: out.replace(/\s+FOR UPDATE\b/gi, ''), params: ordered.map(toSqlite) };
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
export class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly cache = new Map<string, { stmt: Database.Statement; reader: boolean }>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
  }

  /** The raw handle, for the migration runner and benchmarks' baselines only. */
  get raw(): Database.Database {
    return this.db;
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

  async execute(sql: string, params?: readonly unknown[]): Promise<{ changes: number }> {
    return this.enqueue(() => this.executeSync(sql, params));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const tx: SqlExecutor = {
      dialect: 'sqlite',
      query: async <R>(sql: string, params?: readonly unknown[]) => this.querySync<R>(sql, params),
      execute: async (sql: string, params?: readonly unknown[]) => this.executeSync(sql, params),
    };
    return this.enqueue(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(tx);
        this.db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }

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
    await this.queue;
    this.db.close();
  }
}
