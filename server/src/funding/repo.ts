import type { SqlExecutor } from '../storage/index.ts';
import type { FundingIntent, IntentStatus } from './types.ts';

interface IntentRow {
  id: string;
  request_ref: string;
  shopper_id: string;
  amount: number | string;
  currency: string;
  status: string;
  rail: string | null;
  rail_ref: string | null;
  transfer_id: string | null;
  created_at: number | string;
  confirmed_at: number | string | null;
}

function toIntent(r: IntentRow): FundingIntent {
  return {
    id: r.id,
    requestRef: r.request_ref,
    shopperId: r.shopper_id,
    amount: Number(r.amount),
    currency: r.currency,
    status: r.status as IntentStatus,
    rail: r.rail,
    railRef: r.rail_ref,
    transferId: r.transfer_id,
    createdAt: Number(r.created_at),
    confirmedAt: r.confirmed_at === null ? null : Number(r.confirmed_at),
  };
}

export async function insertIntent(x: SqlExecutor, i: FundingIntent): Promise<boolean> {
  const r = await x.execute(
    `INSERT INTO funding_intents (id, request_ref, shopper_id, amount, currency, status, rail, rail_ref, transfer_id, created_at, confirmed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
    [i.id, i.requestRef, i.shopperId, i.amount, i.currency, i.status, i.rail, i.railRef, i.transferId, i.createdAt, i.confirmedAt],
  );
  return r.changes === 1;
}

export async function intentByRequest(x: SqlExecutor, requestRef: string): Promise<FundingIntent | null> {
  const [r] = await x.query<IntentRow>('SELECT * FROM funding_intents WHERE request_ref = $1', [requestRef]);
  return r ? toIntent(r) : null;
}

export async function intentById(x: SqlExecutor, id: string, forUpdate = false): Promise<FundingIntent | null> {
  const lock = forUpdate && x.dialect === 'postgres' ? ' FOR UPDATE' : '';
  const [r] = await x.query<IntentRow>(`SELECT * FROM funding_intents WHERE id = $1${lock}`, [id]);
  return r ? toIntent(r) : null;
}

export async function markConfirmed(x: SqlExecutor, id: string, rail: string, railRef: string, transferId: string, at: number): Promise<void> {
  await x.execute(
    `UPDATE funding_intents SET status = 'confirmed', rail = $2, rail_ref = $3, transfer_id = $4, confirmed_at = $5 WHERE id = $1 AND status = 'pending'`,
    [id, rail, railRef, transferId, at],
  );
}

/** What a shopper asked for since `from`, pending and confirmed: the daily cap counts both. */
export async function requestedSince(x: SqlExecutor, shopperId: string, currency: string, from: number): Promise<number> {
  const [r] = await x.query<{ total: number | string | null }>(
    `SELECT SUM(amount) AS total FROM funding_intents WHERE shopper_id = $1 AND currency = $2 AND created_at >= $3 AND status IN ('pending', 'confirmed')`,
    [shopperId, currency, from],
  );
  return Number(r?.total ?? 0);
}

export async function referenceOf(x: SqlExecutor, shopperId: string): Promise<string | null> {
  const [r] = await x.query<{ reference: string }>('SELECT reference FROM funding_references WHERE shopper_id = $1', [shopperId]);
  return r?.reference ?? null;
}

export async function shopperOfReference(x: SqlExecutor, reference: string): Promise<string | null> {
  const [r] = await x.query<{ shopper_id: string }>('SELECT shopper_id FROM funding_references WHERE reference = $1', [reference]);
  return r?.shopper_id ?? null;
}

export async function insertReference(x: SqlExecutor, shopperId: string, reference: string): Promise<void> {
  await x.execute('INSERT INTO funding_references (shopper_id, reference) VALUES ($1, $2) ON CONFLICT DO NOTHING', [shopperId, reference]);
}

export async function insertBankEntry(
  x: SqlExecutor,
  e: { entryRef: string; statementId: string; amount: number; currency: string; reference: string | null; status: string; intentId: string | null; bookedOn: string | null; at: number },
): Promise<boolean> {
  const r = await x.execute(
    `INSERT INTO funding_bank_entries (entry_ref, statement_id, amount, currency, reference, status, intent_id, booked_on, imported_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
    [e.entryRef, e.statementId, e.amount, e.currency, e.reference, e.status, e.intentId, e.bookedOn, e.at],
  );
  return r.changes === 1;
}

export async function bankEntry(x: SqlExecutor, entryRef: string): Promise<{ status: string; intent_id: string | null } | null> {
  const [r] = await x.query<{ status: string; intent_id: string | null }>('SELECT status, intent_id FROM funding_bank_entries WHERE entry_ref = $1', [entryRef]);
  return r ?? null;
}

export async function unmatchedEntries(x: SqlExecutor): Promise<{ entry_ref: string; statement_id: string; amount: number | string; currency: string; reference: string | null }[]> {
  return x.query("SELECT entry_ref, statement_id, amount, currency, reference FROM funding_bank_entries WHERE status = 'unmatched' ORDER BY entry_ref");
}
