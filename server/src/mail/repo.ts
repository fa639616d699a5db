import type { SqlExecutor } from '../storage/index.ts';

export interface OutboxRow {
  id: string;
  to_address: string;
  subject: string;
  body: string;
  attempts: number;
}

/** The only place the mail module writes SQL. */
export const mailRepo = {
  async insert(x: SqlExecutor, m: { id: string; to: string; subject: string; body: string; now: number }): Promise<void> {
    await x.execute(
      "INSERT INTO mail_outbox (id, to_address, subject, body, status, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
      [m.id, m.to, m.subject, m.body, m.now],
    );
  },
  async due(x: SqlExecutor, now: number, limit: number): Promise<OutboxRow[]> {
    const rows = await x.query<OutboxRow>(
      "SELECT id, to_address, subject, body, attempts FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
      [now, limit],
    );
    return rows.map((r) => ({ ...r, attempts: Number(r.attempts) }));
  },
  /** Claims a message for one sender: another process that read it too finds it taken. */
  async claim(x: SqlExecutor, id: string, attempts: number, until: number): Promise<boolean> {
    const r = await x.execute("UPDATE mail_outbox SET attempts = $3, next_attempt_at = $4 WHERE id = $1 AND status = 'pending' AND attempts = $2", [id, attempts, attempts + 1, until]);
    return r.changes === 1;
  },
  async sent(x: SqlExecutor, id: string, now: number): Promise<void> {
    await x.execute("UPDATE mail_outbox SET status = 'sent', sent_at = $2, last_error = NULL WHERE id = $1", [id, now]);
  },
  async failed(x: SqlExecutor, id: string, error: string, retryAt: number | null): Promise<void> {
    if (retryAt === null) await x.execute("UPDATE mail_outbox SET status = 'failed', last_error = $2 WHERE id = $1", [id, error]);
    else await x.execute('UPDATE mail_outbox SET next_attempt_at = $3, last_error = $2 WHERE id = $1', [id, error, retryAt]);
  },
  async pending(x: SqlExecutor): Promise<number> {
    const [r] = await x.query<{ n: number | string }>("SELECT COUNT(*) AS n FROM mail_outbox WHERE status = 'pending'");
    return Number(r?.n ?? 0);
  },
};
