import type { Row, SqlExecutor } from '../storage/index.ts';
import type { IntentFilter, IntentStatus, Mode, PaymentIntent, PaymentMethod, Refund } from './types.ts';

const str = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));

const toIntent = (r: Row): PaymentIntent => ({
  id: r.id as string,
  merchantId: r.merchant_id as string,
  mode: r.mode as Mode,
  storeId: r.store_id as string,
  terminalId: str(r.terminal_id),
  amount: Number(r.amount),
  currency: r.currency as string,
  status: r.status as IntentStatus,
  orderReference: str(r.order_reference),
  description: str(r.description),
  metadata: JSON.parse(r.metadata as string) as Record<string, string>,
  shopperId: str(r.shopper_id),
  platformFee: r.platform_fee === null ? null : Number(r.platform_fee),
  discount: Number(r.discount ?? 0),
  couponId: str(r.coupon_id),
  paymentMethod: str(r.payment_method) as PaymentMethod | null,
  amountRefunded: Number(r.amount_refunded),
  failureCode: str(r.failure_code),
  failureMessage: str(r.failure_message),
  idempotencyKey: str(r.idempotency_key),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

const toRefund = (r: Row): Refund => ({
  id: r.id as string,
  merchantId: r.merchant_id as string,
  mode: r.mode as Mode,
  paymentIntentId: r.payment_intent_id as string,
  amount: Number(r.amount),
  currency: r.currency as string,
  feeRefunded: Number(r.fee_refunded),
  status: 'succeeded',
  reason: str(r.reason),
  metadata: JSON.parse(r.metadata as string) as Record<string, string>,
  idempotencyKey: str(r.idempotency_key),
  staffLimited: Number(r.staff_limited) === 1,
  createdAt: Number(r.created_at),
});

const PAGE = '(CAST($2 AS TEXT) IS NULL OR id < $2)';

export const paymentRepo = {
  async insertIntent(x: SqlExecutor, p: PaymentIntent): Promise<void> {
    await x.execute(
      `INSERT INTO payment_intents (id, merchant_id, store_id, terminal_id, amount, currency, status, order_reference, description,
         metadata, shopper_id, platform_fee, amount_refunded, failure_code, failure_message, idempotency_key, created_at, updated_at, mode)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, 0, NULL, NULL, $11, $12, $12, $13)`,
      [p.id, p.merchantId, p.storeId, p.terminalId, p.amount, p.currency, p.status, p.orderReference, p.description, JSON.stringify(p.metadata), p.idempotencyKey, p.createdAt, p.mode],
    );
  },
  async getIntent(x: SqlExecutor, id: string, lock = false): Promise<PaymentIntent | undefined> {
    const [r] = await x.query(`SELECT * FROM payment_intents WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
    return r ? toIntent(r) : undefined;
  },
  async intentByKey(x: SqlExecutor, merchantId: string, mode: Mode, key: string): Promise<PaymentIntent | undefined> {
    const [r] = await x.query('SELECT * FROM payment_intents WHERE merchant_id = $1 AND mode = $3 AND idempotency_key = $2', [merchantId, key, mode]);
    return r ? toIntent(r) : undefined;
  },
  /** A merchant's intents matching every given filter, newest first (ids sort by creation). */
  async listIntents(x: SqlExecutor, merchantId: string, mode: Mode, f: IntentFilter, cursor: string | undefined, limit: number): Promise<PaymentIntent[]> {
    const params: unknown[] = [merchantId, cursor ?? null, limit, mode];
    const where = ['merchant_id = $1', 'mode = $4', PAGE];
    const add = (value: unknown, sql: (p: string) => string): void => {
      if (value === undefined) return;
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    add(f.storeId, (p) => `store_id = ${p}`);
    add(f.terminalId, (p) => `terminal_id = ${p}`);
    add(f.status, (p) => `status = ${p}`);
    add(f.orderReference, (p) => `order_reference = ${p}`);
    // substr rather than LIKE: LIKE is case-insensitive on SQLite and treats % and _ as wildcards.
    add(f.orderReferencePrefix, (p) => `substr(order_reference, 1, length(CAST(${p} AS TEXT))) = ${p}`);
    add(f.createdFrom, (p) => `created_at >= ${p}`);
    add(f.createdTo, (p) => `created_at < ${p}`);
    add(f.amountMin, (p) => `amount >= ${p}`);
    add(f.amountMax, (p) => `amount <= ${p}`);
    const rows = await x.query(`SELECT * FROM payment_intents WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $3`, params);
    return rows.map(toIntent);
  },
  async listForShopper(x: SqlExecutor, shopperId: string, cursor: string | undefined, limit: number): Promise<PaymentIntent[]> {
    const rows = await x.query(`SELECT * FROM payment_intents WHERE shopper_id = $1 AND ${PAGE} ORDER BY id DESC LIMIT $3`, [shopperId, cursor ?? null, limit]);
    return rows.map(toIntent);
  },
  async oldestWaitingForTerminal(x: SqlExecutor, merchantId: string, terminalId: string): Promise<PaymentIntent | undefined> {
    const [r] = await x.query(
      `SELECT * FROM payment_intents WHERE terminal_id = $1 AND merchant_id = $2 AND status = 'requires_face' AND mode = 'live' ORDER BY id LIMIT 1`,
      [terminalId, merchantId],
    );
    return r ? toIntent(r) : undefined;
  },
  async updateIntent(x: SqlExecutor, p: PaymentIntent): Promise<void> {
    await x.execute(
      `UPDATE payment_intents SET status = $2, shopper_id = $3, platform_fee = $4, amount_refunded = $5, failure_code = $6,
         failure_message = $7, updated_at = $8, discount = $9, coupon_id = $10, payment_method = $11 WHERE id = $1`,
      [p.id, p.status, p.shopperId, p.platformFee, p.amountRefunded, p.failureCode, p.failureMessage, p.updatedAt, p.discount, p.couponId, p.paymentMethod],
    );
  },
  /** Adds to the shopper's spend for the day and answers the new total. */
  async addDailySpend(x: SqlExecutor, shopperId: string, currency: string, day: string, amount: number): Promise<number> {
    const [r] = await x.query<{ amount: number }>(
      `INSERT INTO shopper_daily_spend (shopper_id, currency, day, amount) VALUES ($1, $2, $3, $4)
       ON CONFLICT (shopper_id, currency, day) DO UPDATE SET amount = shopper_daily_spend.amount + excluded.amount
       RETURNING amount`,
      [shopperId, currency, day, amount],
    );
    return Number(r!.amount);
  },
  async insertRefund(x: SqlExecutor, r: Refund): Promise<void> {
    await x.execute(
      `INSERT INTO refunds (id, merchant_id, payment_intent_id, amount, currency, fee_refunded, status, reason, metadata, idempotency_key, created_at, mode, staff_limited)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [r.id, r.merchantId, r.paymentIntentId, r.amount, r.currency, r.feeRefunded, r.status, r.reason, JSON.stringify(r.metadata), r.idempotencyKey, r.createdAt, r.mode, r.staffLimited ? 1 : 0],
    );
  },
  async getRefund(x: SqlExecutor, merchantId: string, mode: Mode, id: string): Promise<Refund | undefined> {
    const [r] = await x.query('SELECT * FROM refunds WHERE id = $1 AND merchant_id = $2 AND mode = $3', [id, merchantId, mode]);
    return r ? toRefund(r) : undefined;
  },
  async refundByKey(x: SqlExecutor, merchantId: string, mode: Mode, key: string): Promise<Refund | undefined> {
    const [r] = await x.query('SELECT * FROM refunds WHERE merchant_id = $1 AND mode = $3 AND idempotency_key = $2', [merchantId, key, mode]);
    return r ? toRefund(r) : undefined;
  },
  /** What staff with a refund limit have refunded of one payment so far. */
  async staffLimitedRefunded(x: SqlExecutor, intentId: string): Promise<number> {
    const [r] = await x.query('SELECT COALESCE(SUM(amount), 0) AS s FROM refunds WHERE payment_intent_id = $1 AND staff_limited = 1', [intentId]);
    return Number(r!.s);
  },
  async listRefunds(x: SqlExecutor, merchantId: string, mode: Mode, intentId: string | undefined, cursor: string | undefined, limit: number): Promise<Refund[]> {
    const rows = await x.query(
      `SELECT * FROM refunds WHERE merchant_id = $1 AND mode = $5 AND ${PAGE} AND (CAST($4 AS TEXT) IS NULL OR payment_intent_id = $4) ORDER BY id DESC LIMIT $3`,
      [merchantId, cursor ?? null, limit, intentId ?? null, mode],
    );
    return rows.map(toRefund);
  },
  /** Succeeded payments per time bucket and currency (the dashboard's sales); `amount` is what was received. */
  async salesByBucket(x: SqlExecutor, merchantId: string, from: number, to: number, bucketMs: number): Promise<{ bucket: number; currency: string; count: number; amount: number; refunded: number }[]> {
    const rows = await x.query<Row>(
      `SELECT CAST(created_at / $4 AS BIGINT) AS b, currency, COUNT(*) AS n, SUM(amount - discount) AS amount, SUM(amount_refunded) AS refunded
       FROM payment_intents WHERE merchant_id = $1 AND mode = 'live' AND status = 'succeeded' AND created_at >= $2 AND created_at < $3 GROUP BY 1, 2`,
      [merchantId, from, to, bucketMs],
    );
    return rows.map((r) => ({ bucket: Number(r.b) * bucketMs, currency: r.currency as string, count: Number(r.n), amount: Number(r.amount), refunded: Number(r.refunded) }));
  },
  /** Every intent, for audits and tests. */
  async allIntents(x: SqlExecutor): Promise<PaymentIntent[]> {
    return (await x.query('SELECT * FROM payment_intents ORDER BY id')).map(toIntent);
  },
  async allRefunds(x: SqlExecutor): Promise<Refund[]> {
    return (await x.query('SELECT * FROM refunds ORDER BY id')).map(toRefund);
  },
};
