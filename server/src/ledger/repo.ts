import type { Row, SqlExecutor } from '../storage/index.ts';
import type { Account, Transfer, TransferKind } from './types.ts';

const ACCOUNT_COLS =
  'id, currency, code, flags, debits_pending, debits_posted, credits_pending, credits_posted, metadata, created_at';
const TRANSFER_COLS =
  'id, debit_account_id, credit_account_id, amount, currency, code, kind, pending_id, timeout_at, metadata, created_at';

function toAccount(r: Row): Account {
  return {
    id: r.id as string,
    currency: r.currency as string,
    code: r.code as string,
    flags: Number(r.flags),
    debitsPending: Number(r.debits_pending),
    debitsPosted: Number(r.debits_posted),
    creditsPending: Number(r.credits_pending),
    creditsPosted: Number(r.credits_posted),
    metadata: JSON.parse(r.metadata as string) as Record<string, unknown>,
    createdAt: Number(r.created_at),
  };
}

function toTransfer(r: Row): Transfer {
  return {
    id: r.id as string,
    debitAccountId: r.debit_account_id as string,
    creditAccountId: r.credit_account_id as string,
    amount: Number(r.amount),
    currency: r.currency as string,
    code: r.code as string,
    kind: r.kind as TransferKind,
    pendingId: (r.pending_id as string | null) ?? null,
    timeoutAt: r.timeout_at === null || r.timeout_at === undefined ? null : Number(r.timeout_at),
    metadata: JSON.parse(r.metadata as string) as Record<string, unknown>,
    createdAt: Number(r.created_at),
  };
}

/** Balance changes to one account within one batch. */
export interface AccountDelta {
  debitsPending: number;
  debitsPosted: number;
  creditsPending: number;
  creditsPosted: number;
}

/**
 * No account total may pass 2^53 - 1 (Number.MAX_SAFE_INTEGER): every balance then stays exact as
 * a JavaScript number. Checked in the same UPDATE that moves the money, on both dialects.
 */
export const MAX_TOTAL = Number.MAX_SAFE_INTEGER;

/** An account's four totals exactly, as BigInt (for the audit, which must not round). */
export interface ExactTotals {
  id: string;
  currency: string;
  flags: number;
  debitsPending: bigint;
  debitsPosted: bigint;
  creditsPending: bigint;
  creditsPosted: bigint;
}

/** The only SQL of the ledger. */
export const ledgerRepo = {
  async insertAccount(x: SqlExecutor, a: Account): Promise<boolean> {
    const r = await x.execute(
      `INSERT INTO ledger_accounts (${ACCOUNT_COLS}) VALUES ($1, $2, $3, $4, 0, 0, 0, 0, $5, $6) ON CONFLICT (id) DO NOTHING`,
      [a.id, a.currency, a.code, a.flags, JSON.stringify(a.metadata), a.createdAt],
    );
    return r.changes === 1;
  },

  async getAccount(x: SqlExecutor, id: string): Promise<Account | undefined> {
    const [r] = await x.query(`SELECT ${ACCOUNT_COLS} FROM ledger_accounts WHERE id = $1`, [id]);
    return r ? toAccount(r) : undefined;
  },

  /**
   * Applies each delta under its account's limit flag, in the order given, which is the order the
   * rows are locked in on PostgreSQL. Answers the index of the first account refused (missing, of
   * another currency, or its limit would be broken), or -1 when all were applied; after a refusal
   * the caller must roll back.
   */
  async applyDeltas(x: SqlExecutor, rows: readonly { id: string; currency: string; delta: AccountDelta }[]): Promise<number> {
    if (x.dialect === 'postgres') {
      const [r] = await x.query<{ refused: number }>('SELECT ledger_apply_deltas($1, $2, $3, $4, $5, $6) AS refused', [
        rows.map((r) => r.id),
        rows.map((r) => r.currency),
        rows.map((r) => r.delta.debitsPending),
        rows.map((r) => r.delta.debitsPosted),
        rows.map((r) => r.delta.creditsPending),
        rows.map((r) => r.delta.creditsPosted),
      ]);
      return r!.refused - 1;
    }
    for (const [i, { id, currency, delta: d }] of rows.entries()) {
      const r = await x.execute(
        `UPDATE ledger_accounts SET
           debits_pending = debits_pending + $3, debits_posted = debits_posted + $4,
           credits_pending = credits_pending + $5, credits_posted = credits_posted + $6
         WHERE id = $1 AND currency = $2
           AND ((flags & 1) = 0 OR debits_posted + $4 + debits_pending + $3 <= credits_posted + $6)
           AND ((flags & 2) = 0 OR credits_posted + $6 + credits_pending + $5 <= debits_posted + $4)
           AND debits_posted + $4 + debits_pending + $3 <= ${MAX_TOTAL} AND credits_posted + $6 + credits_pending + $5 <= ${MAX_TOTAL}`,
        [id, currency, d.debitsPending, d.debitsPosted, d.creditsPending, d.creditsPosted],
      );
      if (r.changes !== 1) return i;
    }
    return -1;
  },

  /** Answers false, inserting nothing, when the id exists already. */
  async insertTransfer(x: SqlExecutor, t: Transfer): Promise<boolean> {
    const r = await x.execute(`INSERT INTO ledger_transfers (${TRANSFER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING`, [
      t.id,
      t.debitAccountId,
      t.creditAccountId,
      t.amount,
      t.currency,
      t.code,
      t.kind,
      t.pendingId,
      t.timeoutAt,
      JSON.stringify(t.metadata),
      t.createdAt,
    ]);
    return r.changes === 1;
  },

  /** Inserts the transfers in one statement; answers the ids that were new (existing ids are left alone). */
  async insertTransfers(x: SqlExecutor, ts: readonly Transfer[]): Promise<Set<string>> {
    const params: unknown[] = [];
    const rows = ts.map((t) => {
      const base = params.length;
      params.push(t.id, t.debitAccountId, t.creditAccountId, t.amount, t.currency, t.code, t.kind, t.pendingId, t.timeoutAt, JSON.stringify(t.metadata), t.createdAt);
      return `(${Array.from({ length: 11 }, (_, i) => `$${base + i + 1}`).join(', ')})`;
    });
    const inserted = await x.query<{ id: string }>(
      `INSERT INTO ledger_transfers (${TRANSFER_COLS}) VALUES ${rows.join(', ')} ON CONFLICT (id) DO NOTHING RETURNING id`,
      params,
    );
    return new Set(inserted.map((r) => r.id));
  },

  async getTransfer(x: SqlExecutor, id: string): Promise<Transfer | undefined> {
    const [r] = await x.query(`SELECT ${TRANSFER_COLS} FROM ledger_transfers WHERE id = $1`, [id]);
    return r ? toTransfer(r) : undefined;
  },

  async getResolution(x: SqlExecutor, pendingId: string): Promise<Transfer | undefined> {
    const [r] = await x.query(`SELECT ${TRANSFER_COLS} FROM ledger_transfers WHERE pending_id = $1`, [pendingId]);
    return r ? toTransfer(r) : undefined;
  },

  /** Pending transfers past their timeout and not yet resolved. */
  async duePending(x: SqlExecutor, now: number, limit: number): Promise<Transfer[]> {
    const rows = await x.query(
      `SELECT ${TRANSFER_COLS} FROM ledger_transfers p
       WHERE p.kind = 'pending' AND p.timeout_at <= $1
         AND NOT EXISTS (SELECT 1 FROM ledger_transfers r WHERE r.pending_id = p.id)
       ORDER BY p.timeout_at LIMIT $2`,
      [now, limit],
    );
    return rows.map(toTransfer);
  },

  /** Newest first; `before` is the id the previous page ended with. */
  async listTransfers(x: SqlExecutor, accountId: string, limit: number, before?: string): Promise<Transfer[]> {
    const rows = await x.query(
      `SELECT ${TRANSFER_COLS} FROM ledger_transfers
       WHERE (debit_account_id = $1 OR credit_account_id = $1) AND (CAST($2 AS TEXT) IS NULL OR id < $2)
       ORDER BY id DESC LIMIT $3`,
      [accountId, before ?? null, limit],
    );
    return rows.map(toTransfer);
  },

  /** Every account's totals read as text, so that no driver rounds them through a double. */
  async allTotalsExact(x: SqlExecutor): Promise<ExactTotals[]> {
    const rows = await x.query<Row>(
      `SELECT id, currency, flags, CAST(debits_pending AS TEXT) AS dpe, CAST(debits_posted AS TEXT) AS dpo, CAST(credits_pending AS TEXT) AS cpe,
         CAST(credits_posted AS TEXT) AS cpo FROM ledger_accounts ORDER BY id`,
    );
    return rows.map((r) => ({
      id: r.id as string,
      currency: r.currency as string,
      flags: Number(r.flags),
      debitsPending: BigInt(r.dpe as string),
      debitsPosted: BigInt(r.dpo as string),
      creditsPending: BigInt(r.cpe as string),
      creditsPosted: BigInt(r.cpo as string),
    }));
  },

  /** Per currency, the summed totals (as exact text) of the accounts whose id starts with `prefix` and with none of `exclude`. */
  async sumByPrefix(x: SqlExecutor, prefix: string, exclude: readonly string[]): Promise<{ currency: string; accounts: number; debitsPosted: bigint; creditsPosted: bigint; debitsPending: bigint; creditsPending: bigint }[]> {
    const args: unknown[] = [prefix, prefix.length];
    const not = exclude.map((e) => `AND substr(id, 1, $${args.push(e.length)}) <> $${args.push(e)}`).join(' ');
    const rows = await x.query<Row>(
      `SELECT currency, COUNT(*) AS n, CAST(SUM(debits_posted) AS TEXT) AS dpo, CAST(SUM(credits_posted) AS TEXT) AS cpo,
         CAST(SUM(debits_pending) AS TEXT) AS dpe, CAST(SUM(credits_pending) AS TEXT) AS cpe
       FROM ledger_accounts WHERE substr(id, 1, $2) = $1 ${not} GROUP BY currency ORDER BY currency`,
      args,
    );
    return rows.map((r) => ({
      currency: r.currency as string,
      accounts: Number(r.n),
      debitsPosted: BigInt((r.dpo as string | null) ?? '0'),
      creditsPosted: BigInt((r.cpo as string | null) ?? '0'),
      debitsPending: BigInt((r.dpe as string | null) ?? '0'),
      creditsPending: BigInt((r.cpe as string | null) ?? '0'),
    }));
  },

  /** The exact totals of each account whose id starts with `prefix`. */
  async totalsByPrefix(x: SqlExecutor, prefix: string): Promise<ExactTotals[]> {
    const rows = await x.query<Row>(
      `SELECT id, currency, flags, CAST(debits_pending AS TEXT) AS dpe, CAST(debits_posted AS TEXT) AS dpo, CAST(credits_pending AS TEXT) AS cpe,
         CAST(credits_posted AS TEXT) AS cpo FROM ledger_accounts WHERE substr(id, 1, $2) = $1 ORDER BY id`,
      [prefix, prefix.length],
    );
    return rows.map((r) => ({
      id: r.id as string,
      currency: r.currency as string,
      flags: Number(r.flags),
      debitsPending: BigInt(r.dpe as string),
      debitsPosted: BigInt(r.dpo as string),
      creditsPending: BigInt(r.cpe as string),
      creditsPosted: BigInt(r.cpo as string),
    }));
  },

  async allAccounts(x: SqlExecutor): Promise<Account[]> {
    return (await x.query(`SELECT ${ACCOUNT_COLS} FROM ledger_accounts ORDER BY id`)).map(toAccount);
  },

  async allTransfers(x: SqlExecutor): Promise<Transfer[]> {
    return (await x.query(`SELECT ${TRANSFER_COLS} FROM ledger_transfers ORDER BY id`)).map(toTransfer);
  },
};
