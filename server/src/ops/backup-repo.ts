import type { SqlExecutor } from '../storage/index.ts';

/** What a backup's manifest says of the database it holds: its schema and the master keys it needs. */
export const backupRepo = {
  async migrations(x: SqlExecutor): Promise<string[]> {
    return (await x.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id')).map((r) => r.id);
  },
  async masterKeyIds(x: SqlExecutor): Promise<string[]> {
    return (await x.query<{ id: string }>('SELECT DISTINCT master_key_id AS id FROM gallery_keys ORDER BY master_key_id')).map((r) => r.id);
  },
};
