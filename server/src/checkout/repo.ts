import { asDb, type Db, type SqlExecutor } from '../storage/index.ts';

export type FlowStatus = 'started' | 'coupon_reserved' | 'succeeded' | 'failed' | 'compensated';
export type JobStatus = 'pending' | 'done' | 'given_up';

export interface StepRow {
  flow_id: string;
  step: string;
  status: string;
  input: string;
  token: string | null;
  due_at: number;
  tries: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

const FLOW = 'checkout';
/** A checkout still under way: the states a crash can leave behind. */
const OPEN = "('started', 'coupon_reserved')";

const toRow = (r: Record<string, unknown>): StepRow => ({
  flow_id: String(r.flow_id),
  step: String(r.step),
  status: String(r.status),
  input: String(r.input),
  token: r.token === null || r.token === undefined ? null : String(r.token),
  due_at: Number(r.due_at),
  tries: Number(r.tries),
  last_error: r.last_error === null || r.last_error === undefined ? null : String(r.last_error),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
});

/** The only place the checkout workflow writes SQL. */
export class CheckoutRepo {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: (repo: CheckoutRepo) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(new CheckoutRepo(asDb(tx))));
  }

  /** The same repository on a transaction someone else opened (the payment's). */
  static on(tx: SqlExecutor): CheckoutRepo {
    return new CheckoutRepo(asDb(tx));
  }

  async flow(intentId: string, lock = false): Promise<StepRow | undefined> {
    const rows = await this.db.query<Record<string, unknown>>(`SELECT * FROM checkout_steps WHERE flow_id = $1 AND step = $2${lock ? ' FOR UPDATE' : ''}`, [intentId, FLOW]);
    return rows[0] && toRow(rows[0]);
  }

  /** A new checkout of the intent, held by `token` until `leaseUntil`; false when it already has one. */
  async insertFlow(intentId: string, input: string, token: string, leaseUntil: number, now: number): Promise<boolean> {
    const r = await this.db.execute(
      `INSERT INTO checkout_steps (flow_id, step, status, input, token, due_at, tries, last_error, created_at, updated_at)
       VALUES ($1, $2, 'started', $3, $4, $5, 0, NULL, $6, $6) ON CONFLICT DO NOTHING`,
      [intentId, FLOW, input, token, leaseUntil, now],
    );
    return r.changes === 1;
  }

  /**
   * Takes over a checkout that is not under way (it ended without a payment) or whose holder's
   * lease has run out; never one that succeeded, nor one whose coupon is still being released (a
   * release that read the intent unpaid must not meet a payment made meanwhile with that coupon).
   * False when someone else holds it.
   */
  async restartFlow(intentId: string, input: string, token: string, leaseUntil: number, now: number): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE checkout_steps SET status = 'started', input = $3, token = $4, due_at = $5, updated_at = $6
       WHERE flow_id = $1 AND step = $2 AND (status IN ('failed', 'compensated') OR (status IN ${OPEN} AND due_at <= $6))
         AND NOT EXISTS (SELECT 1 FROM checkout_steps j WHERE j.flow_id = $1 AND j.step = 'coupon_release' AND j.status = 'pending')`,
      [intentId, FLOW, input, token, leaseUntil, now],
    );
    return r.changes === 1;
  }

  /** The recovery pass takes over an interrupted checkout; false when another took it first. */
  async takeOver(intentId: string, oldToken: string | null, token: string, leaseUntil: number, now: number): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE checkout_steps SET token = $3, due_at = $4, updated_at = $5
       WHERE flow_id = $1 AND step = $2 AND status IN ${OPEN} AND due_at <= $5 AND token = $6`,
      [intentId, FLOW, token, leaseUntil, now, oldToken],
    );
    return r.changes === 1;
  }

  /** Moves the checkout on, only while `token` still holds it; false when it was taken over. */
  async setFlowStatus(intentId: string, token: string, status: FlowStatus, now: number): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE checkout_steps SET status = $3, updated_at = $4 WHERE flow_id = $1 AND step = $2 AND token = $5`,
      [intentId, FLOW, status, now, token],
    );
    return r.changes === 1;
  }

  /** Checkouts still under way whose holder's lease has run out: a crashed or stalled process. */
  async interrupted(now: number, limit: number): Promise<StepRow[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT * FROM checkout_steps WHERE step = $1 AND status IN ${OPEN} AND due_at <= $2 ORDER BY due_at, flow_id LIMIT $3`,
      [FLOW, now, limit],
    );
    return rows.map(toRow);
  }

  /**
   * A follow-up job, due now; nothing when it is already there (each job is enqueued once per key),
   * unless `rearm`, which makes a job that is done or given up due again (a release, safe to repeat).
   */
  async enqueue(flowId: string, step: string, input: string, now: number, rearm: boolean): Promise<void> {
    await this.db.execute(
      `INSERT INTO checkout_steps (flow_id, step, status, input, token, due_at, tries, last_error, created_at, updated_at)
       VALUES ($1, $2, 'pending', $3, NULL, $4, 0, NULL, $4, $4)
       ON CONFLICT (flow_id, step) DO ${rearm ? "UPDATE SET status = 'pending', input = $3, due_at = $4, tries = 0, updated_at = $4 WHERE checkout_steps.status <> 'pending'" : 'NOTHING'}`,
      [flowId, step, input, now],
    );
  }

  /** Claims a due job for `leaseMs`: a process that dies running it leaves it due again after the lease. */
  async claimJob(flowId: string, step: string, token: string, leaseUntil: number, now: number): Promise<StepRow | undefined> {
    const rows = await this.db.query<Record<string, unknown>>(
      `UPDATE checkout_steps SET token = $3, due_at = $4, tries = tries + 1, updated_at = $5
       WHERE flow_id = $1 AND step = $2 AND status = 'pending' AND due_at <= $5 RETURNING *`,
      [flowId, step, token, leaseUntil, now],
    );
    return rows[0] && toRow(rows[0]);
  }

  async finishJob(flowId: string, step: string, token: string, status: JobStatus, dueAt: number, error: string | null, now: number): Promise<void> {
    await this.db.execute(
      `UPDATE checkout_steps SET status = $3, due_at = $4, last_error = $5, token = NULL, updated_at = $6 WHERE flow_id = $1 AND step = $2 AND token = $7`,
      [flowId, step, status, dueAt, error, now, token],
    );
  }

  async dueJobs(now: number, limit: number): Promise<{ flow_id: string; step: string }[]> {
    return this.db.query<{ flow_id: string; step: string }>(
      `SELECT flow_id, step FROM checkout_steps WHERE status = 'pending' AND due_at <= $1 ORDER BY due_at, flow_id, step LIMIT $2`,
      [now, limit],
    );
  }

  async job(flowId: string, step: string): Promise<StepRow | undefined> {
    const rows = await this.db.query<Record<string, unknown>>('SELECT * FROM checkout_steps WHERE flow_id = $1 AND step = $2', [flowId, step]);
    return rows[0] && toRow(rows[0]);
  }

  /** Follow-ups not yet done, and checkouts still under way. */
  async pending(): Promise<number> {
    const rows = await this.db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM checkout_steps WHERE status IN ('pending', 'started', 'coupon_reserved')`);
    return Number(rows[0]?.n ?? 0);
  }
}
