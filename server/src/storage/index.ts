export type { Db, Dialect, Migration, Row, SqlExecutor } from './db.ts';
export { asDb, ping } from './db.ts';
export { migrate } from './migrate.ts';
export { SqliteDb } from './sqlite.ts';
export { PostgresDb } from './postgres.ts';
