import type { Row, SqlExecutor } from '../storage/index.ts';

export interface IdempotencyRecord {
  fingerprint: string;
  state: 'running' | 'done';
  lockedUntil: number;
  statusCode: number | null;
  body: string | null;
}

const toRecord = (r: Row): IdempotencyRecord => ({
  fingerprint: r.fingerprint as string,
  state: r.state as IdempotencyRecord['state'],
  lockedUntil: Number(r.locked_until),
  statusCode: r.status_code === null ? null : Number(r.status_code),
  body: (r.body as string | null) ?? null,
});

export const idempotencyRepo = {
  async claim(x: SqlExecutor, scope: string, key: string, fingerprint: string, now: number, lockedUntil: number): Promise<boolean> {
    const r = await x.execute(
      `INSERT INTO idempotency_keys (scope, key, fingerprint, state, locked_until, status_code, body, created_at)
       VALUES ($1, $2, $3, 'running', $4, NULL, NULL, $5) ON CONFLICT (scope, key) DO NOTHING`,
      [scope, key, fingerprint, lockedUntil, now],
    );
    return r.changes === 1;
  },
  async get(x: SqlExecutor, scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    const [r] = await x.query('SELECT fingerprint, state, locked_until, status_code, body FROM idempotency_keys WHERE scope = $1 AND key = $2', [scope, key]);
    return r ? toRecord(r) : undefined;
  },
  /** Takes over a running record whose holder died (its lease ran out). */
  async takeOver(x: SqlExecutor, scope: string, key: string, now: number, lockedUntil: number): Promise<boolean> {
    const r = await x.execute(
      "UPDATE idempotency_keys SET locked_until = $4 WHERE scope = $1 AND key = $2 AND state = 'running' AND locked_until < $3",
      [scope, key, now, lockedUntil],
    );
    return r.changes === 1;
  },
  async finish(x: SqlExecutor, scope: string, key: string, statusCode: number, body: string): Promise<void> {
    await x.execute("UPDATE idempotency_keys SET state = 'done', status_code = $3, body = $4 WHERE scope = $1 AND key = $2", [scope, key, statusCode, body]);
  },
  async release(x: SqlExecutor, scope: string, key: string): Promise<void> {
    await x.execute("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND state = 'running'", [scope, key]);
  },
  async purge(x: SqlExecutor, before: number): Promise<number> {
    return (await x.execute('DELETE FROM idempotency_keys WHERE created_at < $1', [before])).changes;
  },
};
