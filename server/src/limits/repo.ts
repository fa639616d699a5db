/** The only place the limits module writes SQL. */
import type { SqlExecutor } from '../storage/index.ts';

export interface LimitRow {
  key: string;
  value: number;
  updatedAt: number;
  updatedBy: string;
}

export interface LimitChangeRow {
  id: string;
  key: string;
  oldValue: number;
  newValue: number;
  changedBy: string;
  changedAt: number;
}

type R = Record<string, unknown>;

/** Every limit set; `lock` (in a transaction that changes them) holds the rows until it ends. */
export async function allLimits(x: SqlExecutor, lock = false): Promise<LimitRow[]> {
  const rows = await x.query<R>(`SELECT * FROM platform_limits ORDER BY limit_key${lock ? ' FOR UPDATE' : ''}`);
  return rows.map((r) => ({ key: String(r.limit_key), value: Number(r.value), updatedAt: Number(r.updated_at), updatedBy: String(r.updated_by) }));
}

export async function upsertLimit(x: SqlExecutor, r: LimitRow): Promise<void> {
  await x.execute(
    `INSERT INTO platform_limits (limit_key, value, updated_at, updated_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (limit_key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
    [r.key, r.value, r.updatedAt, r.updatedBy],
  );
}

export async function insertChange(x: SqlExecutor, c: LimitChangeRow): Promise<void> {
  await x.execute('INSERT INTO platform_limit_changes (id, limit_key, old_value, new_value, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5, $6)', [
    c.id,
    c.key,
    c.oldValue,
    c.newValue,
    c.changedBy,
    c.changedAt,
  ]);
}

/** The latest changes, newest first. */
export async function changes(x: SqlExecutor, limit: number): Promise<LimitChangeRow[]> {
  const rows = await x.query<R>(`SELECT * FROM platform_limit_changes ORDER BY changed_at DESC, id DESC LIMIT ${Math.floor(limit)}`);
  return rows.map((r) => ({
    id: String(r.id),
    key: String(r.limit_key),
    oldValue: Number(r.old_value),
    newValue: Number(r.new_value),
    changedBy: String(r.changed_by),
    changedAt: Number(r.changed_at),
  }));
}
