/** The fee schedule's table, and the read-only join of the ledger's fee and payment transfers its audit needs. */
import type { SqlExecutor } from '../storage/index.ts';
import type { FeeRate } from './fees.ts';

type R = Record<string, unknown>;

function toRate(r: R): FeeRate {
  return {
    id: String(r.id),
    merchantId: String(r.merchant_id),
    bps: Number(r.bps),
    effectiveFrom: String(r.effective_from),
    effectiveAt: Number(r.effective_at),
    timeZone: String(r.time_zone),
    setBy: String(r.set_by),
    reason: String(r.reason),
    createdAt: Number(r.created_at),
  };
}

export async function insertRate(x: SqlExecutor, r: FeeRate & { requestRef: string }): Promise<boolean> {
  const res = await x.execute(
    `INSERT INTO settlement_fee_rates (id, request_ref, merchant_id, bps, effective_from, effective_at, time_zone, set_by, reason, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
    [r.id, r.requestRef, r.merchantId, r.bps, r.effectiveFrom, r.effectiveAt, r.timeZone, r.setBy, r.reason, r.createdAt],
  );
  return res.changes === 1;
}

export async function rateByRequest(x: SqlExecutor, requestRef: string): Promise<FeeRate | null> {
  const [r] = await x.query<R>('SELECT * FROM settlement_fee_rates WHERE request_ref = $1', [requestRef]);
  return r ? toRate(r) : null;
}

/** The rate in effect at `at`: the latest to take effect by then, and of those the last one set. */
export async function rateAt(x: SqlExecutor, merchantId: string, at: number): Promise<FeeRate | null> {
  const [r] = await x.query<R>(
    'SELECT * FROM settlement_fee_rates WHERE merchant_id = $1 AND effective_at <= $2 ORDER BY effective_at DESC, created_at DESC, id DESC LIMIT 1',
    [merchantId, at],
  );
  return r ? toRate(r) : null;
}

/** Every rate set for the merchant, newest first: the audit trail of who changed what, when and why. */
export async function history(x: SqlExecutor, merchantId: string, limit: number): Promise<FeeRate[]> {
  const rows = await x.query<R>(`SELECT * FROM settlement_fee_rates WHERE merchant_id = $1 ORDER BY created_at DESC, id DESC LIMIT ${Math.floor(limit)}`, [merchantId]);
  return rows.map(toRate);
}

export async function allRates(x: SqlExecutor): Promise<FeeRate[]> {
  return (await x.query<R>('SELECT * FROM settlement_fee_rates ORDER BY merchant_id, effective_at, created_at, id')).map(toRate);
}

/**
 * Each platform fee transfer with the payment it was taken on (`<intent>:fee` beside
 * `<intent>:payment`), after `after` by id, a page at a time.
 */
export async function feesWithPayments(
  x: SqlExecutor,
  after: string,
  limit: number,
): Promise<{ id: string; fee: number; paid: number | null; merchantAccount: string | null; createdAt: number; metadata: string }[]> {
  const rows = await x.query<R>(
    `SELECT f.id, f.amount AS fee, f.created_at, f.metadata, p.amount AS paid, p.credit_account_id
     FROM ledger_transfers f LEFT JOIN ledger_transfers p ON p.id = substr(f.id, 1, length(f.id) - 4) || ':payment'
     WHERE f.code = 'platform_fee' AND f.id > $1 ORDER BY f.id LIMIT ${Math.floor(limit)}`,
    [after],
  );
  return rows.map((r) => ({
    id: String(r.id),
    fee: Number(r.fee),
    paid: r.paid === null || r.paid === undefined ? null : Number(r.paid),
    merchantAccount: r.credit_account_id === null || r.credit_account_id === undefined ? null : String(r.credit_account_id),
    createdAt: Number(r.created_at),
    metadata: String(r.metadata ?? '{}'),
  }));
}
