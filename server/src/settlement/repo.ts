/**
 * The settlement tables, and the reads of the ledger's and payments' tables that settling needs.
 * Those reads are read-only and set-based (a day of 100k payments is settled by one INSERT ...
 * SELECT, not 100k round trips); every movement of money still goes through the Ledger.
 */
import type { SqlExecutor } from '../storage/index.ts';
import type { PayoutAccount, PayoutItem, PayoutRun, Statement, StatementLine, Withdrawal } from './types.ts';

const n = (v: unknown): number => {
  const x = Number(v ?? 0);
  if (!Number.isSafeInteger(x)) throw new Error(`amount ${String(v)} is outside the safe integer range`);
  return x;
};
const lock = (x: SqlExecutor): string => (x.dialect === 'postgres' ? ' FOR UPDATE' : '');

/** Codes that move a payable out to a payout and back: not part of any statement. */
export const PAYOUT_CODES = ['payout', 'payout_return'] as const;

type R = Record<string, unknown>;

function toStatement(r: R): Statement {
  return {
    id: String(r.id),
    merchantId: String(r.merchant_id),
    currency: String(r.currency),
    accountId: String(r.account_id),
    day: String(r.day),
    timeZone: String(r.time_zone),
    periodStart: n(r.period_start),
    periodEnd: n(r.period_end),
    gross: n(r.gross),
    discounts: n(r.discounts),
    refunds: n(r.refunds),
    fees: n(r.fees),
    adjustments: n(r.adjustments),
    carriedIn: n(r.carried_in),
    net: n(r.net),
    transferCount: n(r.transfer_count),
    status: String(r.status) as Statement['status'],
    carriedInto: r.carried_into === null ? null : String(r.carried_into),
    payoutItemId: r.payout_item_id === null ? null : String(r.payout_item_id),
    closedAt: n(r.closed_at),
  };
}

function toWithdrawal(r: R): Withdrawal {
  return {
    id: String(r.id),
    requestRef: String(r.request_ref),
    shopperId: String(r.shopper_id),
    amount: n(r.amount),
    currency: String(r.currency),
    iban: String(r.iban),
    holderName: String(r.holder_name),
    status: String(r.status) as Withdrawal['status'],
    payoutItemId: r.payout_item_id === null ? null : String(r.payout_item_id),
    createdAt: n(r.created_at),
    decidedAt: r.decided_at === null ? null : n(r.decided_at),
  };
}

function toRun(r: R): PayoutRun {
  return {
    id: String(r.id),
    requestRef: String(r.request_ref),
    currency: String(r.currency),
    status: String(r.status) as PayoutRun['status'],
    itemCount: n(r.item_count),
    total: n(r.total),
    createdAt: n(r.created_at),
    updatedAt: n(r.updated_at),
  };
}

function toItem(r: R): PayoutItem {
  return {
    id: String(r.id),
    runId: String(r.run_id),
    kind: String(r.kind) as PayoutItem['kind'],
    partyId: String(r.party_id),
    sourceAccount: String(r.source_account),
    amount: n(r.amount),
    currency: String(r.currency),
    iban: String(r.iban),
    bic: r.bic === null ? null : String(r.bic),
    holderName: String(r.holder_name),
    status: String(r.status) as PayoutItem['status'],
  };
}

export const settlementRepo = {
  // ---- payout accounts ----
  async upsertPayoutAccount(x: SqlExecutor, a: PayoutAccount): Promise<void> {
    await x.execute(
      `INSERT INTO settlement_payout_accounts (merchant_id, iban, bic, holder_name, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (merchant_id) DO UPDATE SET iban = EXCLUDED.iban, bic = EXCLUDED.bic, holder_name = EXCLUDED.holder_name, updated_at = EXCLUDED.updated_at`,
      [a.merchantId, a.iban, a.bic, a.holderName, a.updatedAt],
    );
  },
  async payoutAccount(x: SqlExecutor, merchantId: string): Promise<PayoutAccount | null> {
    const [r] = await x.query<R>('SELECT * FROM settlement_payout_accounts WHERE merchant_id = $1', [merchantId]);
    return r ? { merchantId: String(r.merchant_id), iban: String(r.iban), bic: r.bic === null ? null : String(r.bic), holderName: String(r.holder_name), updatedAt: n(r.updated_at) } : null;
  },

  // ---- ledger reads ----
  /** Live merchant payable accounts (test ones hold `:test:` in their id and never settle). */
  /** A merchant's live payables (its test ones excluded), each balance exact: credits less debits posted. */
  async livePayables(x: SqlExecutor, merchantId: string): Promise<{ currency: string; balance: bigint }[]> {
    const rows = await x.query<{ currency: string; cpo: string; dpo: string }>(
      `SELECT currency, CAST(credits_posted AS TEXT) AS cpo, CAST(debits_posted AS TEXT) AS dpo FROM ledger_accounts
       WHERE code = 'merchant' AND id = 'merchant:' || CAST($1 AS TEXT) || ':' || currency ORDER BY currency`,
      [merchantId],
    );
    return rows.map((r) => ({ currency: r.currency, balance: BigInt(r.cpo) - BigInt(r.dpo) }));
  },
  /** Payout runs not yet sent or returned that hold a credit transfer to the merchant. */
  async openRunsOfMerchant(x: SqlExecutor, merchantId: string): Promise<string[]> {
    const rows = await x.query<{ id: string }>(
      `SELECT DISTINCT r.id FROM settlement_payout_items i JOIN settlement_payout_runs r ON r.id = i.run_id
       WHERE i.kind = 'merchant' AND i.party_id = $1 AND r.status IN ('moving', 'ready') ORDER BY r.id`,
      [merchantId],
    );
    return rows.map((r) => r.id);
  },
  async merchantAccounts(x: SqlExecutor): Promise<{ id: string; currency: string }[]> {
    return x.query("SELECT id, currency FROM ledger_accounts WHERE code = 'merchant' AND id NOT LIKE '%:test:%' ORDER BY id");
  },
  /** The first statement-bearing transfer of the account at or after `from`, if any. */
  async firstTransferAt(x: SqlExecutor, accountId: string, from: number): Promise<number | null> {
    const [r] = await x.query<{ at: unknown }>(
      `SELECT MIN(at) AS at FROM (
         SELECT MIN(created_at) AS at FROM ledger_transfers WHERE credit_account_id = $1 AND created_at >= $2 AND kind IN ('posted', 'post_pending') AND code NOT IN ('payout', 'payout_return')
         UNION ALL
         SELECT MIN(created_at) AS at FROM ledger_transfers WHERE debit_account_id = $1 AND created_at >= $2 AND kind IN ('posted', 'post_pending') AND code NOT IN ('payout', 'payout_return')
       ) s`,
      [accountId, from],
    );
    return r?.at === null || r?.at === undefined ? null : n(r.at);
  },

  // ---- statements ----
  async lastStatement(x: SqlExecutor, accountId: string): Promise<Statement | null> {
    const [r] = await x.query<R>('SELECT * FROM settlement_statements WHERE account_id = $1 ORDER BY period_end DESC LIMIT 1', [accountId]);
    return r ? toStatement(r) : null;
  },
  /** The newest statement whose net (not above zero) waits to be carried into the next one. */
  async openCarry(x: SqlExecutor, accountId: string): Promise<Statement | null> {
    const [r] = await x.query<R>(
      `SELECT * FROM settlement_statements WHERE account_id = $1 AND status = 'carried' AND carried_into IS NULL ORDER BY period_end DESC LIMIT 1${lock(x)}`,
      [accountId],
    );
    return r ? toStatement(r) : null;
  },
  async insertStatementShell(x: SqlExecutor, s: Pick<Statement, 'id' | 'merchantId' | 'currency' | 'accountId' | 'day' | 'timeZone' | 'periodStart' | 'periodEnd' | 'closedAt'>): Promise<boolean> {
    const r = await x.execute(
      `INSERT INTO settlement_statements (id, merchant_id, currency, account_id, day, time_zone, period_start, period_end,
         gross, discounts, refunds, fees, adjustments, carried_in, net, transfer_count, status, closed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, 0, 0, 0, 0, 0, 0, 'closing', $9) ON CONFLICT DO NOTHING`,
      [s.id, s.merchantId, s.currency, s.accountId, s.day, s.timeZone, s.periodStart, s.periodEnd, s.closedAt],
    );
    return r.changes === 1;
  },
  /**
   * Puts every transfer of the account in the window that no statement holds yet into this one,
   * signed from the payable's side; answers how many.
   */
  async collectItems(x: SqlExecutor, statementId: string, accountId: string, from: number, to: number): Promise<number> {
    const r = await x.execute(
      `INSERT INTO settlement_items (transfer_id, statement_id, code, amount)
       SELECT id, $1, code, amount FROM ledger_transfers
       WHERE credit_account_id = $2 AND created_at >= $3 AND created_at < $4 AND kind IN ('posted', 'post_pending') AND code NOT IN ('payout', 'payout_return')
       UNION ALL
       SELECT id, $1, code, -amount FROM ledger_transfers
       WHERE debit_account_id = $2 AND created_at >= $3 AND created_at < $4 AND kind IN ('posted', 'post_pending') AND code NOT IN ('payout', 'payout_return')
       ON CONFLICT DO NOTHING`,
      [statementId, accountId, from, to],
    );
    return r.changes;
  },
  async sumsByCode(x: SqlExecutor, statementId: string): Promise<Map<string, { total: number; count: number }>> {
    const rows = await x.query<{ code: string; total: unknown; count: unknown }>(
      'SELECT code, SUM(amount) AS total, COUNT(*) AS count FROM settlement_items WHERE statement_id = $1 GROUP BY code',
      [statementId],
    );
    return new Map(rows.map((r) => [r.code, { total: n(r.total), count: n(r.count) }]));
  },
  /** Coupon discounts of the statement's payments: they never move money (the merchant bears them), so they are read from the intents. */
  async discountsOf(x: SqlExecutor, statementId: string): Promise<number> {
    const [r] = await x.query<{ total: unknown }>(
      `SELECT SUM(pi.discount) AS total FROM settlement_items i
       JOIN payment_intents pi ON pi.id = substr(i.transfer_id, 1, length(i.transfer_id) - 8)
       WHERE i.statement_id = $1 AND i.code = 'payment'`,
      [statementId],
    );
    return n(r?.total);
  },
  async finishStatement(x: SqlExecutor, s: Statement): Promise<void> {
    await x.execute(
      `UPDATE settlement_statements SET gross = $2, discounts = $3, refunds = $4, fees = $5, adjustments = $6, carried_in = $7, net = $8,
         transfer_count = $9, status = $10 WHERE id = $1`,
      [s.id, s.gross, s.discounts, s.refunds, s.fees, s.adjustments, s.carriedIn, s.net, s.transferCount, s.status],
    );
  },
  async markCarried(x: SqlExecutor, id: string, into: string): Promise<void> {
    await x.execute('UPDATE settlement_statements SET carried_into = $2 WHERE id = $1', [id, into]);
  },
  async getStatement(x: SqlExecutor, id: string): Promise<Statement | null> {
    const [r] = await x.query<R>('SELECT * FROM settlement_statements WHERE id = $1', [id]);
    return r ? toStatement(r) : null;
  },
  async listStatements(x: SqlExecutor, merchantId: string, q: { from?: string; to?: string; limit: number; cursor?: string }): Promise<Statement[]> {
    const where = ['merchant_id = $1', "status <> 'closing'"];
    const params: unknown[] = [merchantId];
    if (q.from !== undefined) where.push(`day >= $${params.push(q.from)}`);
    if (q.to !== undefined) where.push(`day <= $${params.push(q.to)}`);
    if (q.cursor !== undefined) {
      // Newest first by the end of the period; ids break ties, so a page boundary is exact.
      const c = params.push(q.cursor);
      where.push(
        `(period_end < (SELECT period_end FROM settlement_statements WHERE id = $${c}) OR (period_end = (SELECT period_end FROM settlement_statements WHERE id = $${c}) AND id < $${c}))`,
      );
    }
    const rows = await x.query<R>(`SELECT * FROM settlement_statements WHERE ${where.join(' AND ')} ORDER BY period_end DESC, id DESC LIMIT $${params.push(q.limit)}`, params);
    return rows.map(toStatement);
  },
  async lines(x: SqlExecutor, statementId: string, limit: number, after?: string): Promise<StatementLine[]> {
    const rows = await x.query<R>(
      `SELECT i.transfer_id, i.code, i.amount, t.created_at FROM settlement_items i JOIN ledger_transfers t ON t.id = i.transfer_id
       WHERE i.statement_id = $1 AND i.transfer_id > $2 ORDER BY i.transfer_id LIMIT $3`,
      [statementId, after ?? '', limit],
    );
    return rows.map((r) => ({ transferId: String(r.transfer_id), code: String(r.code), amount: n(r.amount), createdAt: n(r.created_at) }));
  },
  /** Closed positive statements of a currency that no payout holds, for merchants with a payout account. */
  async payableStatements(x: SqlExecutor, currency: string): Promise<(Statement & { iban: string; bic: string | null; holderName: string })[]> {
    const rows = await x.query<R>(
      `SELECT s.*, a.iban AS pa_iban, a.bic AS pa_bic, a.holder_name AS pa_name FROM settlement_statements s
       JOIN settlement_payout_accounts a ON a.merchant_id = s.merchant_id
       WHERE s.status = 'closed' AND s.currency = $1 AND s.net > 0 ORDER BY s.merchant_id, s.period_end${x.dialect === 'postgres' ? ' FOR UPDATE OF s' : ''}`,
      [currency],
    );
    return rows.map((r) => ({ ...toStatement(r), iban: String(r.pa_iban), bic: r.pa_bic === null ? null : String(r.pa_bic), holderName: String(r.pa_name) }));
  },
  async setStatementsPayout(x: SqlExecutor, ids: string[], itemId: string | null, status: Statement['status']): Promise<void> {
    for (const id of ids) await x.execute('UPDATE settlement_statements SET payout_item_id = $2, status = $3 WHERE id = $1', [id, itemId, status]);
  },
  async statementsOfItem(x: SqlExecutor, itemId: string): Promise<Statement[]> {
    return (await x.query<R>('SELECT * FROM settlement_statements WHERE payout_item_id = $1 ORDER BY period_end', [itemId])).map(toStatement);
  },

  // ---- withdrawals ----
  async insertWithdrawal(x: SqlExecutor, w: Withdrawal): Promise<boolean> {
    const r = await x.execute(
      `INSERT INTO settlement_withdrawals (id, request_ref, shopper_id, amount, currency, iban, holder_name, status, payout_item_id, created_at, decided_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
      [w.id, w.requestRef, w.shopperId, w.amount, w.currency, w.iban, w.holderName, w.status, w.payoutItemId, w.createdAt, w.decidedAt],
    );
    return r.changes === 1;
  },
  async withdrawalByRef(x: SqlExecutor, ref: string): Promise<Withdrawal | null> {
    const [r] = await x.query<R>('SELECT * FROM settlement_withdrawals WHERE request_ref = $1', [ref]);
    return r ? toWithdrawal(r) : null;
  },
  async withdrawal(x: SqlExecutor, id: string, forUpdate = false): Promise<Withdrawal | null> {
    const [r] = await x.query<R>(`SELECT * FROM settlement_withdrawals WHERE id = $1${forUpdate ? lock(x) : ''}`, [id]);
    return r ? toWithdrawal(r) : null;
  },
  async setWithdrawal(x: SqlExecutor, id: string, status: Withdrawal['status'], payoutItemId: string | null, decidedAt: number | null): Promise<void> {
    await x.execute('UPDATE settlement_withdrawals SET status = $2, payout_item_id = $3, decided_at = COALESCE($4, decided_at) WHERE id = $1', [id, status, payoutItemId, decidedAt]);
  },
  async listWithdrawals(x: SqlExecutor, q: { shopperId?: string; status?: string; limit: number }): Promise<Withdrawal[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.shopperId !== undefined) where.push(`shopper_id = $${params.push(q.shopperId)}`);
    if (q.status !== undefined) where.push(`status = $${params.push(q.status)}`);
    const rows = await x.query<R>(
      `SELECT * FROM settlement_withdrawals ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT $${params.push(q.limit)}`,
      params,
    );
    return rows.map(toWithdrawal);
  },
  async approvedWithdrawals(x: SqlExecutor, currency: string): Promise<Withdrawal[]> {
    return (await x.query<R>(`SELECT * FROM settlement_withdrawals WHERE status = 'approved' AND currency = $1 ORDER BY created_at, id${lock(x)}`, [currency])).map(toWithdrawal);
  },

  // ---- payout runs ----
  async insertRun(x: SqlExecutor, r: PayoutRun): Promise<boolean> {
    const res = await x.execute(
      `INSERT INTO settlement_payout_runs (id, request_ref, currency, status, item_count, total, file, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8) ON CONFLICT DO NOTHING`,
      [r.id, r.requestRef, r.currency, r.status, r.itemCount, r.total, r.createdAt, r.updatedAt],
    );
    return res.changes === 1;
  },
  async runByRef(x: SqlExecutor, ref: string): Promise<PayoutRun | null> {
    const [r] = await x.query<R>('SELECT * FROM settlement_payout_runs WHERE request_ref = $1', [ref]);
    return r ? toRun(r) : null;
  },
  async run(x: SqlExecutor, id: string, forUpdate = false): Promise<PayoutRun | null> {
    const [r] = await x.query<R>(`SELECT * FROM settlement_payout_runs WHERE id = $1${forUpdate ? lock(x) : ''}`, [id]);
    return r ? toRun(r) : null;
  },
  async runFile(x: SqlExecutor, id: string): Promise<string | null> {
    const [r] = await x.query<{ file: string | null }>('SELECT file FROM settlement_payout_runs WHERE id = $1', [id]);
    return r?.file ?? null;
  },
  async updateRun(x: SqlExecutor, id: string, fields: { status: PayoutRun['status']; itemCount?: number; total?: number; file?: string; at: number }): Promise<void> {
    await x.execute(
      'UPDATE settlement_payout_runs SET status = $2, item_count = COALESCE($3, item_count), total = COALESCE($4, total), file = COALESCE($5, file), updated_at = $6 WHERE id = $1',
      [id, fields.status, fields.itemCount ?? null, fields.total ?? null, fields.file ?? null, fields.at],
    );
  },
  async runsWithStatus(x: SqlExecutor, status: PayoutRun['status']): Promise<PayoutRun[]> {
    return (await x.query<R>('SELECT * FROM settlement_payout_runs WHERE status = $1 ORDER BY created_at', [status])).map(toRun);
  },
  async listRuns(x: SqlExecutor, limit: number): Promise<PayoutRun[]> {
    return (await x.query<R>('SELECT * FROM settlement_payout_runs ORDER BY created_at DESC, id DESC LIMIT $1', [limit])).map(toRun);
  },
  async insertItem(x: SqlExecutor, i: PayoutItem): Promise<void> {
    await x.execute(
      `INSERT INTO settlement_payout_items (id, run_id, kind, party_id, source_account, amount, currency, iban, bic, holder_name, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [i.id, i.runId, i.kind, i.partyId, i.sourceAccount, i.amount, i.currency, i.iban, i.bic, i.holderName, i.status],
    );
  },
  async items(x: SqlExecutor, runId: string): Promise<PayoutItem[]> {
    return (await x.query<R>('SELECT * FROM settlement_payout_items WHERE run_id = $1 ORDER BY id', [runId])).map(toItem);
  },
  async itemStatus(x: SqlExecutor, id: string): Promise<PayoutItem['status'] | null> {
    const [r] = await x.query<{ status: string }>(`SELECT status FROM settlement_payout_items WHERE id = $1${lock(x)}`, [id]);
    return r ? (r.status as PayoutItem['status']) : null;
  },
  async setItemStatus(x: SqlExecutor, id: string, status: PayoutItem['status']): Promise<void> {
    await x.execute('UPDATE settlement_payout_items SET status = $2 WHERE id = $1', [id, status]);
  },
};
