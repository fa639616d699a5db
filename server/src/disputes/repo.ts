import type { Mode } from '../payments/index.ts';
import { asDb, type Db, type Row, type SqlExecutor } from '../storage/index.ts';
import type { Dispute, DisputeEvent, DisputeStatus, PaymentMethod } from './types.ts';

export type DisputeRow = Omit<Dispute, 'events'>;

const PAGE = '(CAST($2 AS TEXT) IS NULL OR id < $2)';

function toDispute(r: Row, events: DisputeEvent[]): Dispute {
  return {
    id: String(r.id),
    paymentIntentId: String(r.payment_intent_id),
    merchantId: String(r.merchant_id),
    shopperId: String(r.shopper_id),
    mode: r.mode as Mode,
    status: r.status as DisputeStatus,
    reason: String(r.reason),
    method: r.method as PaymentMethod,
    amount: Number(r.amount),
    currency: String(r.currency),
    refundId: r.refund_id === null || r.refund_id === undefined ? null : String(r.refund_id),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    events,
  };
}

/** The only place the disputes module writes SQL. */
export class DisputeRepo {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: (repo: DisputeRepo, tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(new DisputeRepo(asDb(tx)), tx));
  }

  /** False when the payment already has an open dispute (the partial unique index decides). */
  async insertOpen(d: DisputeRow): Promise<boolean> {
    const r = await this.db.execute(
      `INSERT INTO disputes (id, payment_intent_id, merchant_id, shopper_id, mode, status, reason, method, amount, currency, refund_id, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, NULL, $10, $10) ON CONFLICT DO NOTHING`,
      [d.id, d.paymentIntentId, d.merchantId, d.shopperId, d.mode, d.reason, d.method, d.amount, d.currency, d.createdAt],
    );
    return r.changes === 1;
  }

  async insertEvent(id: string, disputeId: string, e: DisputeEvent): Promise<void> {
    await this.db.execute(
      `INSERT INTO dispute_events (id, dispute_id, seq, type, at, detail)
       VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM dispute_events WHERE dispute_id = $2), $3, $4, $5)`,
      [id, disputeId, e.type, e.at, e.detail],
    );
  }

  /** Moves an open dispute on; false when it was no longer open (another request got there first). */
  async settle(id: string, status: Exclude<DisputeStatus, 'open'>, refundId: string | null, at: number): Promise<boolean> {
    const r = await this.db.execute(`UPDATE disputes SET status = $2, refund_id = $3, updated_at = $4 WHERE id = $1 AND status = 'open'`, [id, status, refundId, at]);
    return r.changes === 1;
  }

  private async withEvents(rows: Row[]): Promise<Dispute[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => String(r.id));
    const events = await this.db.query<Row>(
      `SELECT dispute_id, type, at, detail FROM dispute_events WHERE dispute_id IN (${ids.map((_, i) => `$${i + 1}`).join(', ')}) ORDER BY dispute_id, seq`,
      ids,
    );
    const by = new Map<string, DisputeEvent[]>();
    for (const e of events) {
      const list = by.get(String(e.dispute_id)) ?? [];
      list.push({ type: e.type as DisputeEvent['type'], at: Number(e.at), detail: e.detail === null ? null : String(e.detail) });
      by.set(String(e.dispute_id), list);
    }
    return rows.map((r) => toDispute(r, by.get(String(r.id)) ?? []));
  }

  async get(id: string): Promise<Dispute | undefined> {
    return (await this.withEvents(await this.db.query<Row>('SELECT * FROM disputes WHERE id = $1', [id])))[0];
  }

  /** The open dispute of a payment, if any. */
  async openFor(paymentIntentId: string): Promise<Dispute | undefined> {
    return (await this.withEvents(await this.db.query<Row>(`SELECT * FROM disputes WHERE payment_intent_id = $1 AND status = 'open'`, [paymentIntentId])))[0];
  }

  /** Every dispute of these payments, newest first. */
  async forPayments(paymentIntentIds: readonly string[]): Promise<Dispute[]> {
    if (paymentIntentIds.length === 0) return [];
    const rows = await this.db.query<Row>(
      `SELECT * FROM disputes WHERE payment_intent_id IN (${paymentIntentIds.map((_, i) => `$${i + 1}`).join(', ')}) ORDER BY id DESC`,
      paymentIntentIds,
    );
    return this.withEvents(rows);
  }

  async listForMerchant(
    merchantId: string,
    mode: Mode,
    filter: { status?: DisputeStatus | undefined; paymentIntentId?: string | undefined },
    cursor: string | undefined,
    limit: number,
  ): Promise<Dispute[]> {
    const rows = await this.db.query<Row>(
      `SELECT * FROM disputes WHERE merchant_id = $1 AND mode = $4 AND ${PAGE} AND (CAST($5 AS TEXT) IS NULL OR status = $5)
         AND (CAST($6 AS TEXT) IS NULL OR payment_intent_id = $6) ORDER BY id DESC LIMIT $3`,
      [merchantId, cursor ?? null, limit, mode, filter.status ?? null, filter.paymentIntentId ?? null],
    );
    return this.withEvents(rows);
  }

  async listForShopper(shopperId: string, limit: number): Promise<Dispute[]> {
    return this.withEvents(await this.db.query<Row>('SELECT * FROM disputes WHERE shopper_id = $1 ORDER BY id DESC LIMIT $2', [shopperId, limit]));
  }

  /** Every merchant's disputes (the operator), newest first. */
  async listAll(status: DisputeStatus | undefined, cursor: string | undefined, limit: number): Promise<Dispute[]> {
    const rows = await this.db.query<Row>(
      `SELECT * FROM disputes WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) AND ${PAGE} ORDER BY id DESC LIMIT $3`,
      [status ?? null, cursor ?? null, limit],
    );
    return this.withEvents(rows);
  }
}
