/**
 * The one storage port. Repositories (and only they) write SQL against it, in PostgreSQL's style
 * with `$1, $2` placeholders; the SQLite adapter rewrites them. Integers come back as JS numbers
 * and an integer outside the safe range is an error rather than a silently wrong amount.
 */
export type Dialect = 'sqlite' | 'postgres';

export type Row = Record<string, unknown>;

export interface SqlExecutor {
  readonly dialect: Dialect;
  /** Rows of a SELECT (or of a statement with RETURNING). */
  query<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** A statement without rows; answers how many rows it changed. */
  execute(sql: string, params?: readonly unknown[]): Promise<{ changes: number }>;
}

export interface Db extends SqlExecutor {
  /**
   * Runs fn in one transaction: committed when fn resolves, rolled back when it throws.
   * On SQLite transactions are serialised (BEGIN IMMEDIATE behind a queue); on PostgreSQL they
   * run at READ COMMITTED unless `serializable` is asked for, and take row locks (`FOR UPDATE`)
   * where they read what they will change. A serialisation failure or deadlock is retried.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, opts?: { serializable?: boolean }): Promise<T>;
  close(): Promise<void>;
}

/** One schema change, written once per dialect where they differ. */
export interface Migration {
  /** Unique and ordered: `<module>/<NNNN>_<what>`, e.g. `ledger/0001_accounts`. */
  id: string;
  sqlite: string;
  postgres: string;
}

/**
 * Inside a transaction its executor stands in for the database, so a repository built on a `Db`
 * can be handed the transaction; a nested transaction just runs inline.
 */
export function asDb(tx: SqlExecutor): Db {
  return {
    dialect: tx.dialect,
    query: (sql, params) => tx.query(sql, params),
    execute: (sql, params) => tx.execute(sql, params),
    transaction: (fn) => fn(tx),
    close: async () => undefined,
  };
}

/** Answers once the database runs a trivial query: the readiness probe's check. */
export async function ping(db: SqlExecutor): Promise<void> {
  await db.query('SELECT 1 AS one');
}
