import { asDb, type Db, type SqlExecutor } from '../storage/index.ts';

export type DeletionStep = 'face' | 'account' | 'funding' | 'list_memberships' | 'memberships' | 'marketing' | 'personal' | 'finished';

export interface DeletionRow {
  id: string;
  shopper_id: string;
  status: 'running' | 'done';
  step: DeletionStep;
  memberships: string | null;
  requested_at: number;
  updated_at: number;
  finished_at: number | null;
  attempts: number;
  last_error: string | null;
}

export interface RetentionRow {
  shopper_id: string;
  last_use_at: number;
  noticed_at: number;
  deleted_at: number | null;
}

const num = (v: unknown): number => Number(v);
function toDeletion(r: DeletionRow): DeletionRow {
  return { ...r, requested_at: num(r.requested_at), updated_at: num(r.updated_at), finished_at: r.finished_at === null ? null : num(r.finished_at), attempts: num(r.attempts) };
}

/** The only place the rights module writes SQL. */
export class RightsRepo {
  constructor(private readonly db: Db) {}

  /** `tx` is the raw executor, for other modules' outbox writes (mail) in the same transaction. */
  transaction<T>(fn: (repo: RightsRepo, tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(new RightsRepo(asDb(tx)), tx));
  }

  /** False when the shopper already has a deletion (the caller resumes that one). */
  async insertDeletion(row: DeletionRow): Promise<boolean> {
    const r = await this.db.execute(
      `INSERT INTO rights_deletions (id, shopper_id, status, step, memberships, requested_at, updated_at, finished_at, attempts, last_error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (shopper_id) DO NOTHING`,
      [row.id, row.shopper_id, row.status, row.step, row.memberships, row.requested_at, row.updated_at, row.finished_at, row.attempts, row.last_error],
    );
    return r.changes === 1;
  }

  async deletionOf(shopperId: string): Promise<DeletionRow | undefined> {
    const r = (await this.db.query<DeletionRow>('SELECT * FROM rights_deletions WHERE shopper_id = $1', [shopperId]))[0];
    return r && toDeletion(r);
  }

  async running(limit: number): Promise<DeletionRow[]> {
    return (await this.db.query<DeletionRow>("SELECT * FROM rights_deletions WHERE status = 'running' ORDER BY updated_at, id LIMIT $1", [limit])).map(toDeletion);
  }

  /** Moves a deletion from one step to the next; false when another runner moved it first. */
  async advance(id: string, from: DeletionStep, to: DeletionStep, at: number, extra: { memberships?: string } = {}): Promise<boolean> {
    const done = to === 'finished';
    const r = await this.db.execute(
      `UPDATE rights_deletions SET step = $3, updated_at = $4, status = $5, finished_at = $6, last_error = NULL,
         memberships = COALESCE($7, memberships)
       WHERE id = $1 AND step = $2`,
      [id, from, to, at, done ? 'done' : 'running', done ? at : null, extra.memberships ?? null],
    );
    return r.changes === 1;
  }

  async failed(id: string, error: string, at: number): Promise<void> {
    await this.db.execute('UPDATE rights_deletions SET attempts = attempts + 1, last_error = $2, updated_at = $3 WHERE id = $1', [id, error.slice(0, 500), at]);
  }

  async audit(id: string, shopperId: string, action: string, at: number, detail: Record<string, unknown> | null = null): Promise<void> {
    await this.db.execute('INSERT INTO rights_audit (id, shopper_id, action, at, detail) VALUES ($1, $2, $3, $4, $5)', [
      id,
      shopperId,
      action,
      at,
      detail === null ? null : JSON.stringify(detail),
    ]);
  }

  async auditOf(shopperId: string): Promise<{ action: string; at: number; detail: Record<string, unknown> | null }[]> {
    const rows = await this.db.query<{ action: string; at: number; detail: string | null }>(
      'SELECT action, at, detail FROM rights_audit WHERE shopper_id = $1 ORDER BY at, id',
      [shopperId],
    );
    return rows.map((r) => ({ action: r.action, at: num(r.at), detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>) }));
  }

  async retentionOf(shopperId: string): Promise<RetentionRow | undefined> {
    const r = (await this.db.query<RetentionRow>('SELECT * FROM rights_retention WHERE shopper_id = $1', [shopperId]))[0];
    return r && { shopper_id: r.shopper_id, last_use_at: num(r.last_use_at), noticed_at: num(r.noticed_at), deleted_at: r.deleted_at === null ? null : num(r.deleted_at) };
  }

  async noticed(shopperId: string, lastUseAt: number, at: number): Promise<void> {
    await this.db.execute(
      `INSERT INTO rights_retention (shopper_id, last_use_at, noticed_at, deleted_at) VALUES ($1, $2, $3, NULL)
       ON CONFLICT (shopper_id) DO UPDATE SET last_use_at = excluded.last_use_at, noticed_at = excluded.noticed_at, deleted_at = NULL`,
      [shopperId, lastUseAt, at],
    );
  }

  async retentionDeleted(shopperId: string, at: number): Promise<void> {
    await this.db.execute('UPDATE rights_retention SET deleted_at = $2 WHERE shopper_id = $1', [shopperId, at]);
  }
}
