import type { SqlExecutor } from '../storage/index.ts';
import type { FundingIntent, IntentStatus } from './types.ts';

interface IntentRow {
  id: string;
  request_ref: string;
  shopper_id: string;
  merchant_id: string | null;
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
    merchantId: r.merchant_id ?? null,
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
    `INSERT INTO funding_intents (id, request_ref, shopper_id, amount, currency, status, rail, rail_ref, transfer_id, created_at, confirmed_at, merchant_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
    [i.id, i.requestRef, i.shopperId, i.amount, i.currency, i.status, i.rail, i.railRef, i.transferId, i.createdAt, i.confirmedAt, i.merchantId],
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

/**
 * The shopper's top-ups still waiting for money, oldest first: the ones the shopper asked for
 * (`request_ref` is `<shopper>:<key>`), not a rail's receipt being confirmed in another transaction.
 */
export async function pendingRequested(x: SqlExecutor, shopperId: string, currency: string, limit = 20): Promise<FundingIntent[]> {
  const rows = await x.query<IntentRow>(
    `SELECT * FROM funding_intents WHERE shopper_id = $1 AND currency = $2 AND status = 'pending' AND substr(request_ref, 1, length($1) + 1) = $1 || ':'
     ORDER BY created_at, id LIMIT ${Math.floor(limit)}`,
    [shopperId, currency],
  );
  return rows.map(toIntent);
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

export async function insertBankBalance(x: SqlExecutor, b: { statementId: string; currency: string; amount: number; asOf: string; at: number }): Promise<void> {
  await x.execute(
    'INSERT INTO funding_bank_balances (statement_id, currency, closing_balance, as_of, imported_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
    [b.statementId, b.currency, b.amount, b.asOf, b.at],
  );
}

/** Per currency, the closing balance of the latest statement (by its date, then by import). */
export async function latestBankBalances(x: SqlExecutor): Promise<{ currency: string; statement_id: string; closing_balance: number | string; as_of: string }[]> {
  const rows = await x.query<{ currency: string; statement_id: string; closing_balance: number | string; as_of: string }>(
    'SELECT currency, statement_id, closing_balance, as_of FROM funding_bank_balances ORDER BY currency, as_of DESC, imported_at DESC, statement_id DESC',
  );
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.currency) && seen.add(r.currency));
}

export async function unmatchedTotals(x: SqlExecutor): Promise<{ currency: string; total: number | string; n: number | string }[]> {
  return x.query("SELECT currency, SUM(amount) AS total, COUNT(*) AS n FROM funding_bank_entries WHERE status = 'unmatched' GROUP BY currency ORDER BY currency");
}

/**
 * Serialises the capped requests of one desk user or shopper on PostgreSQL until the transaction
 * ends, so that two at once cannot both fit under a daily cap (SQLite's writers are serial anyway).
 */
export async function lockCapped(x: SqlExecutor, who: string): Promise<void> {
  if (x.dialect === 'postgres') await x.query("SELECT pg_advisory_xact_lock(hashtext('funding cap ' || $1))", [who]);
}

export interface DeskCreditRow {
  id: string;
  request_ref: string;
  staff_id: string;
  shopper_id: string;
  amount: number;
  currency: string;
  method: 'cash' | 'card';
  intent_id: string;
  transfer_id: string;
  created_at: number;
  reversal_id: string | null;
  reversal_staff_id: string | null;
  reversal_reason: string | null;
  reversal_transfer_id: string | null;
  reversed_at: number | null;
}

const DESK_SELECT = `SELECT c.*, r.id AS reversal_id, r.staff_id AS reversal_staff_id, r.reason AS reversal_reason, r.transfer_id AS reversal_transfer_id, r.created_at AS reversed_at
  FROM funding_desk_credits c LEFT JOIN funding_desk_reversals r ON r.credit_id = c.id`;

function toDeskRow(r: Record<string, unknown>): DeskCreditRow {
  const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return { ...(r as unknown as DeskCreditRow), amount: Number(r.amount), created_at: Number(r.created_at), reversed_at: n(r.reversed_at) };
}

export async function insertDeskCredit(
  x: SqlExecutor,
  c: { id: string; requestRef: string; staffId: string; shopperId: string; amount: number; currency: string; method: string; intentId: string; transferId: string; at: number },
): Promise<boolean> {
  const r = await x.execute(
    `INSERT INTO funding_desk_credits (id, request_ref, staff_id, shopper_id, amount, currency, method, intent_id, transfer_id, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
    [c.id, c.requestRef, c.staffId, c.shopperId, c.amount, c.currency, c.method, c.intentId, c.transferId, c.at],
  );
  return r.changes === 1;
}

export async function deskCreditByRequest(x: SqlExecutor, requestRef: string): Promise<DeskCreditRow | null> {
  const [r] = await x.query(`${DESK_SELECT} WHERE c.request_ref = $1`, [requestRef]);
  return r ? toDeskRow(r) : null;
}

export async function deskCreditById(x: SqlExecutor, id: string): Promise<DeskCreditRow | null> {
  const [r] = await x.query(`${DESK_SELECT} WHERE c.id = $1`, [id]);
  return r ? toDeskRow(r) : null;
}

/** What a desk user credited since `from`: reversals do not give the cap back. */
export async function deskCreditedSince(x: SqlExecutor, staffId: string, currency: string, from: number): Promise<number> {
  const [r] = await x.query<{ total: number | string | null }>(
    'SELECT SUM(amount) AS total FROM funding_desk_credits WHERE staff_id = $1 AND currency = $2 AND created_at >= $3',
    [staffId, currency, from],
  );
  return Number(r?.total ?? 0);
}

export async function listDeskCredits(x: SqlExecutor, q: { staffId?: string | undefined; shopperId?: string | undefined; from: number; to: number; limit: number }): Promise<DeskCreditRow[]> {
  const where = ['c.created_at >= $1', 'c.created_at < $2'];
  const args: unknown[] = [q.from, q.to];
  if (q.staffId !== undefined) where.push(`c.staff_id = $${args.push(q.staffId)}`);
  if (q.shopperId !== undefined) where.push(`c.shopper_id = $${args.push(q.shopperId)}`);
  const rows = await x.query(`${DESK_SELECT} WHERE ${where.join(' AND ')} ORDER BY c.created_at DESC, c.id DESC LIMIT ${Math.floor(q.limit)}`, args);
  return rows.map(toDeskRow);
}

export async function insertDeskReversal(
  x: SqlExecutor,
  r: { id: string; creditId: string; requestRef: string; staffId: string; reason: string; transferId: string; at: number },
): Promise<boolean> {
  const res = await x.execute(
    `INSERT INTO funding_desk_reversals (id, credit_id, request_ref, staff_id, reason, transfer_id, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [r.id, r.creditId, r.requestRef, r.staffId, r.reason, r.transferId, r.at],
  );
  return res.changes === 1;
}

export async function deskReversalByRequest(x: SqlExecutor, requestRef: string): Promise<{ credit_id: string } | null> {
  const [r] = await x.query<{ credit_id: string }>('SELECT credit_id FROM funding_desk_reversals WHERE request_ref = $1', [requestRef]);
  return r ?? null;
}

/** False when the event was seen before (a replay). */
export async function insertCardEvent(x: SqlExecutor, e: { eventId: string; rail: string; type: string; intentId: string | null; at: number }): Promise<boolean> {
  const r = await x.execute(
    'INSERT INTO funding_card_events (event_id, rail, type, intent_id, received_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
    [e.eventId, e.rail, e.type, e.intentId, e.at],
  );
  return r.changes === 1;
}

export async function allIntents(x: SqlExecutor): Promise<FundingIntent[]> {
  return (await x.query<IntentRow>('SELECT * FROM funding_intents ORDER BY id')).map(toIntent);
}

export async function allDeskCredits(x: SqlExecutor): Promise<DeskCreditRow[]> {
  return (await x.query(`${DESK_SELECT} ORDER BY c.id`)).map(toDeskRow);
}

export async function matchedBankEntries(x: SqlExecutor): Promise<{ entry_ref: string; intent_id: string | null }[]> {
  return x.query("SELECT entry_ref, intent_id FROM funding_bank_entries WHERE status = 'matched' ORDER BY entry_ref");
}

export async function bankEntryForUpdate(x: SqlExecutor, entryRef: string): Promise<{ entry_ref: string; amount: number; currency: string; status: string; intent_id: string | null } | null> {
  const lock = x.dialect === 'postgres' ? ' FOR UPDATE' : '';
  const [r] = await x.query<{ entry_ref: string; amount: number | string; currency: string; status: string; intent_id: string | null }>(
    `SELECT entry_ref, amount, currency, status, intent_id FROM funding_bank_entries WHERE entry_ref = $1${lock}`,
    [entryRef],
  );
  return r ? { ...r, amount: Number(r.amount) } : null;
}

export async function markBankEntryMatched(x: SqlExecutor, entryRef: string, intentId: string): Promise<void> {
  await x.execute("UPDATE funding_bank_entries SET status = 'matched', intent_id = $2 WHERE entry_ref = $1 AND status = 'unmatched'", [entryRef, intentId]);
}

/** An unmatched entry sent back to the payer by hand; only an unmatched one changes. */
export async function markBankEntryReturned(x: SqlExecutor, entryRef: string, at: number, note: string): Promise<void> {
  await x.execute("UPDATE funding_bank_entries SET status = 'returned', returned_at = $2, return_note = $3 WHERE entry_ref = $1 AND status = 'unmatched'", [entryRef, at, note]);
}

export async function bankEntryReturn(x: SqlExecutor, entryRef: string): Promise<{ returnedAt: number; note: string } | null> {
  const [r] = await x.query<{ returned_at: number | string | null; return_note: string | null }>(
    "SELECT returned_at, return_note FROM funding_bank_entries WHERE entry_ref = $1 AND status = 'returned'",
    [entryRef],
  );
  return r && r.returned_at !== null ? { returnedAt: Number(r.returned_at), note: r.return_note ?? '' } : null;
}

export async function intentsOfShopper(x: SqlExecutor, shopperId: string): Promise<FundingIntent[]> {
  return (await x.query<IntentRow>('SELECT * FROM funding_intents WHERE shopper_id = $1 ORDER BY created_at, id', [shopperId])).map(toIntent);
}

/** Cancels the shopper's pending top-ups; answers how many. */
export async function cancelPendingOf(x: SqlExecutor, shopperId: string): Promise<number> {
  return (await x.execute("UPDATE funding_intents SET status = 'canceled' WHERE shopper_id = $1 AND status = 'pending'", [shopperId])).changes;
}

export async function deleteReference(x: SqlExecutor, shopperId: string): Promise<void> {
  await x.execute('DELETE FROM funding_references WHERE shopper_id = $1', [shopperId]);
}
