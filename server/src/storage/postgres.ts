import pg from 'pg';
import type { Db, SqlExecutor } from './db.ts';

// BIGINT and NUMERIC counts come back from node-postgres as strings; amounts are safe integers
// checked at the edge, so read them as numbers and fail loudly if one ever is not.
function parseSafeInt(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`integer out of the safe range: ${text}`);
  return n;
}
pg.types.setTypeParser(pg.types.builtins.INT8, parseSafeInt);

const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected

// Statements with parameters run as named prepared statements: each connection parses and plans
// a statement once instead of on every call, which is most of the server's work for short ones.
const statementNames = new Map<string, string>();

function prepared(sql: string, params: readonly unknown[]): pg.QueryConfig | string {
  if (params.length === 0) return sql;
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `fp${statementNames.size}`;
    statementNames.set(sql, name);
  }
  return { name, text: sql, values: params as unknown[] };
}

function executor(client: pg.PoolClient | pg.Pool): SqlExecutor {
  return {
    dialect: 'postgres',
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
      return (await client.query(prepared(sql, params))).rows as T[];
    },
    async execute(sql: string, params: readonly unknown[] = []): Promise<{ changes: number }> {
      return { changes: (await client.query(prepared(sql, params))).rowCount ?? 0 };
    },
  };
}

export interface PostgresOptions {
  url: string;
  /** A schema to create and use: lets test suites share one database without seeing each other. */
  schema?: string;
  maxConnections?: number;
}

export class PostgresDb implements Db {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;
  private readonly direct: SqlExecutor;
  private readonly schema: string | undefined;

  constructor(opts: PostgresOptions) {
    this.schema = opts.schema;
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.maxConnections ?? 10,
      ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
    });
    // An idle client that loses its connection must not crash the process.
    this.pool.on('error', () => undefined);
    this.direct = executor(this.pool);
  }

  /** Creates the schema if one was named; call once before use. */
  async init(): Promise<void> {
    if (this.schema) {
      if (!/^[a-z_][a-z0-9_]*$/.test(this.schema)) throw new Error(`bad schema name ${this.schema}`);
      await this.pool.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
    }
  }

  query<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.direct.query<T>(sql, params);
  }

  execute(sql: string, params?: readonly unknown[]): Promise<{ changes: number }> {
    return this.direct.execute(sql, params);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, opts: { serializable?: boolean } = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query(opts.serializable ? 'BEGIN ISOLATION LEVEL SERIALIZABLE' : 'BEGIN');
        const result = await fn(executor(client));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        const code = (e as { code?: string }).code;
        if (code !== undefined && RETRYABLE.has(code) && attempt < 20) {
          await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
          continue;
        }
        throw e;
      } finally {
        client.release();
      }
    }
  }

  /** Drops the schema (tests only). */
  async dropSchema(): Promise<void> {
    if (this.schema) await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
