import { join } from 'node:path';
import type { Db, Migration } from './db.ts';
import { migrate } from './migrate.ts';
import { PostgresDb } from './postgres.ts';
import { SqliteDb } from './sqlite.ts';

export type { Db, Dialect, Migration, Row, SqlExecutor } from './db.ts';
export { migrate } from './migrate.ts';
export { SqliteDb } from './sqlite.ts';
export { PostgresDb } from './postgres.ts';

export interface StorageConfig {
  /** PostgreSQL when set; otherwise the embedded SQLite file under dataDir. */
  pgUrl?: string | undefined;
  dataDir: string;
}

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(config: StorageConfig, migrations: readonly Migration[]): Promise<Db> {
  let db: Db;
  if (config.pgUrl) {
    const pgDb = new PostgresDb({ url: config.pgUrl });
    await pgDb.init();
    db = pgDb;
  } else {
    db = new SqliteDb(join(config.dataDir, 'facepay.sqlite'));
  }
  await migrate(db, migrations);
  return db;
}
