/**
 * The parity harness: a suite written once runs against the embedded SQLite and, when
 * FACEPAY_PG_URL is set, against a real PostgreSQL in a schema of its own that is dropped after.
 */
import { after, before, describe } from 'node:test';
import type { Db, Migration } from './db.ts';
import { migrate } from './migrate.ts';
import { PostgresDb } from './postgres.ts';
import { SqliteDb } from './sqlite.ts';

export const pgUrl = process.env.FACEPAY_PG_URL;
export const PG_SKIP_REASON = 'FACEPAY_PG_URL is not set: PostgreSQL suite skipped';

let schemaCounter = 0;

/** A migrated, empty database of the given dialect. The caller closes it (and `dispose` drops PG's schema). */
export async function freshDb(
  dialect: 'sqlite' | 'postgres',
  migrations: readonly Migration[],
  opts: { file?: string; maxConnections?: number } = {},
): Promise<Db & { dispose(): Promise<void> }> {
  let db: Db;
  if (dialect === 'sqlite') {
    db = new SqliteDb(opts.file ?? ':memory:');
  } else {
    if (!pgUrl) throw new Error(PG_SKIP_REASON);
    const schema = `t_${process.pid}_${Date.now().toString(36)}_${schemaCounter++}`;
    const pgDb = new PostgresDb({ url: pgUrl, schema, maxConnections: opts.maxConnections ?? 10 });
    await pgDb.init();
    db = pgDb;
  }
  await migrate(db, migrations);
  return Object.assign(db, {
    async dispose(): Promise<void> {
      if (db instanceof PostgresDb) await db.dropSchema();
      await db.close();
    },
  });
}

/**
 * `describe` once per database: `name [sqlite]` and `name [postgres]`, the latter skipped with a
 * clear reason when no PostgreSQL is configured. `getDb()` is valid inside the tests.
 */
export function describeEachDb(
  name: string,
  migrations: readonly Migration[],
  body: (getDb: () => Db, dialect: 'sqlite' | 'postgres') => void,
): void {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    const skip = dialect === 'postgres' && !pgUrl ? PG_SKIP_REASON : false;
    describe(`${name} [${dialect}]`, { skip }, () => {
      let db: (Db & { dispose(): Promise<void> }) | undefined;
      before(async () => {
        db = await freshDb(dialect, migrations);
      });
      after(async () => {
        await db?.dispose();
      });
      body(() => {
        if (!db) throw new Error('database not ready');
        return db;
      }, dialect);
    });
  }
}

/**
 * `describe` once per dialect, for suites that build their own database (a whole platform, a file
 * on disk, a child process): the body gets the dialect and the PostgreSQL run is skipped with a
 * reason when FACEPAY_PG_URL is not set.
 */
export function describeEachDialect(name: string, body: (dialect: 'sqlite' | 'postgres') => void): void {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    const skip = dialect === 'postgres' && !pgUrl ? PG_SKIP_REASON : false;
    describe(`${name} [${dialect}]`, { skip }, () => body(dialect));
  }
}
