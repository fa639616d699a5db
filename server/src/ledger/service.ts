import { DomainError, isCurrency, type Clock } from '../platform/index.ts';
import type { Db, SqlExecutor } from '../storage/index.ts';
import { type AccountDelta, type ExactTotals, MAX_TOTAL, ledgerRepo as repo } from './repo.ts';
import {
  CREDITS_MUST_NOT_EXCEED_DEBITS,
  DEBITS_MUST_NOT_EXCEED_CREDITS,
  type Account,
  type AccountInput,
  type PendingState,
  type Transfer,
  type TransferInput,
  type VerifyReport,
} from './types.ts';

export interface LedgerDeps {
  db: Db;
  clock: Clock;
}

export interface Ledger {
  /** Creates an account; an existing id with the same fields answers the existing account, with other fields a conflict. */
  createAccount(input: AccountInput, tx?: SqlExecutor): Promise<Account>;
  getAccount(id: string, tx?: SqlExecutor): Promise<Account>;
  /**
   * Applies the transfers atomically (all or none). A transfer whose id exists with the same
   * fields is answered as it is, not applied again; with other fields it is a conflict. Runs in
   * its own transaction, or inside `tx` when the caller's change must commit with the money.
   */
  createTransfers(inputs: readonly TransferInput[], tx?: SqlExecutor): Promise<Transfer[]>;
  /** Posts a pending transfer, in full or (with `amount`) in part; the rest goes back. */
  postPending(input: { id: string; pendingId: string; amount?: number }, tx?: SqlExecutor): Promise<Transfer>;
  voidPending(input: { id: string; pendingId: string }, tx?: SqlExecutor): Promise<Transfer>;
  /** Expires pending transfers past their timeout; answers how many. */
  expirePending(limit?: number): Promise<number>;
  getTransfer(id: string, tx?: SqlExecutor): Promise<Transfer>;
  pendingState(pendingId: string): Promise<PendingState>;
  listTransfers(accountId: string, opts?: { limit?: number; before?: string }): Promise<Transfer[]>;
  /** Recomputes every balance from the transfers and checks the invariants (an audit: reads everything). */
  verify(): Promise<VerifyReport>;
  /** Per currency, the exact summed totals of the accounts whose id starts with `prefix` but with none of `exclude` (reports). */
  sumAccounts(prefix: string, exclude?: readonly string[]): Promise<AccountSum[]>;
  /** The exact totals of every account whose id starts with `prefix` (reports over a few accounts). */
  accountTotals(prefix: string): Promise<ExactTotals[]>;
}

export interface AccountSum {
  currency: string;
  accounts: number;
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
}

// Lower case, as stored, and in the ISO 4217 list.
const CURRENCY = { test: (c: string): boolean => /^[a-z]{3}$/.test(c) && isCurrency(c) };
const ID = /^[A-Za-z0-9_:.\-]{1,128}$/;

function checkAmount(amount: unknown, field = 'amount'): number {
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) {
    throw new DomainError('invalid', 'amount_invalid', `${field} must be a positive safe integer in minor units`);
  }
  return amount;
}

function checkId(id: unknown, what: string): string {
  if (typeof id !== 'string' || !ID.test(id)) throw new DomainError('invalid', `${what}_id_invalid`, `bad ${what} id`);
  return id;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

const ZERO: AccountDelta = { debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 0 };

export function createLedger({ db, clock }: LedgerDeps): Ledger {
  /** Currency and flags never change, so they are kept once read: they order the locks. */
  const known = new Map<string, { currency: string; flags: number }>();

  async function lookup(x: SqlExecutor, id: string): Promise<{ currency: string; flags: number }> {
    let k = known.get(id);
    if (k === undefined) {
      const a = await repo.getAccount(x, id);
      if (a === undefined) throw new DomainError('not_found', 'account_not_found', `no account ${id}`);
      k = { currency: a.currency, flags: a.flags };
      known.set(id, k);
    }
    return k;
  }

  /** Runs fn in the caller's transaction or a new one; a duplicate-id race is retried once so the loser sees the winner. */
  async function inTx<T>(tx: SqlExecutor | undefined, fn: (x: SqlExecutor) => Promise<T>): Promise<T> {
    if (tx) return fn(tx);
    try {
      return await db.transaction(fn);
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      return db.transaction(fn);
    }
  }

  /**
   * Adds the deltas account by account in one fixed order: accounts with a limit (wallets) first,
   * then the others, each group by id. A total order means two transactions never wait on each
   * other in a cycle, and the busy shared accounts (merchant, fees) are locked last and so held
   * for the shortest time.
   */
  async function applyDeltas(x: SqlExecutor, deltas: Map<string, AccountDelta>, currency: Map<string, string>): Promise<void> {
    const ids = [...deltas.keys()];
    const meta = new Map<string, { currency: string; flags: number }>();
    for (const id of ids) meta.set(id, await lookup(x, id));
    ids.sort((a, b) => {
      const ra = meta.get(a)!.flags === 0 ? 1 : 0;
      const rb = meta.get(b)!.flags === 0 ? 1 : 0;
      return ra - rb || (a < b ? -1 : a > b ? 1 : 0);
    });
    const refused = (id: string): DomainError => {
      const m = meta.get(id)!;
      if (m.flags & DEBITS_MUST_NOT_EXCEED_CREDITS) {
        return new DomainError('unprocessable', 'insufficient_funds', `account ${id} has insufficient funds`, { account: id });
      }
      if (m.flags & CREDITS_MUST_NOT_EXCEED_DEBITS) {
        return new DomainError('unprocessable', 'credit_limit_exceeded', `account ${id} would exceed its limit`, { account: id });
      }
      return new DomainError('not_found', 'account_not_found', `no account ${id}`);
    };
    for (const id of ids) {
      const m = meta.get(id)!;
      const cur = currency.get(id)!;
      if (m.currency !== cur) {
        throw new DomainError('invalid', 'currency_mismatch', `account ${id} holds ${m.currency}, not ${cur}`);
      }
    }
    const at = await repo.applyDeltas(x, ids.map((id) => ({ id, currency: currency.get(id)!, delta: deltas.get(id)! })));
    if (at >= 0) {
      const id = ids[at]!;
      const d = deltas.get(id)!;
      const a = await repo.getAccount(x, id);
      // Totals are at most MAX_TOTAL, so these sums are exact as numbers only in BigInt.
      const over =
        a !== undefined &&
        (BigInt(a.debitsPosted) + BigInt(a.debitsPending) + BigInt(d.debitsPosted) + BigInt(d.debitsPending) > BigInt(MAX_TOTAL) ||
          BigInt(a.creditsPosted) + BigInt(a.creditsPending) + BigInt(d.creditsPosted) + BigInt(d.creditsPending) > BigInt(MAX_TOTAL));
      if (over) {
        throw new DomainError('unprocessable', 'amount_too_large', `account ${id} would hold more than ${MAX_TOTAL} minor units in total`, { account: id });
      }
      throw refused(id);
    }
  }

  function add(deltas: Map<string, AccountDelta>, currencies: Map<string, string>, id: string, cur: string, d: Partial<AccountDelta>): void {
    const prev = deltas.get(id) ?? { ...ZERO };
    deltas.set(id, {
      debitsPending: prev.debitsPending + (d.debitsPending ?? 0),
      debitsPosted: prev.debitsPosted + (d.debitsPosted ?? 0),
      creditsPending: prev.creditsPending + (d.creditsPending ?? 0),
      creditsPosted: prev.creditsPosted + (d.creditsPosted ?? 0),
    });
    const seen = currencies.get(id);
    if (seen !== undefined && seen !== cur) {
      throw new DomainError('invalid', 'currency_mismatch', `account ${id} used with ${seen} and ${cur}`);
    }
    currencies.set(id, cur);
  }

  function validate(t: TransferInput): void {
    checkId(t.id, 'transfer');
    checkId(t.debitAccountId, 'account');
    checkId(t.creditAccountId, 'account');
    checkAmount(t.amount);
    if (!CURRENCY.test(t.currency)) throw new DomainError('invalid', 'currency_invalid', 'currency must be a lower-case ISO 4217 code, such as usd');
    if (t.debitAccountId === t.creditAccountId) {
      throw new DomainError('invalid', 'accounts_must_differ', 'a transfer needs two different accounts');
    }
    if (typeof t.code !== 'string' || t.code.length === 0 || t.code.length > 64) {
      throw new DomainError('invalid', 'transfer_code_invalid', 'code must be a short string');
    }
    if (t.timeoutMs !== undefined && (!t.pending || !Number.isSafeInteger(t.timeoutMs) || t.timeoutMs <= 0)) {
      throw new DomainError('invalid', 'timeout_invalid', 'timeoutMs is a positive integer and only for pending transfers');
    }
  }

  function sameTransfer(existing: Transfer, t: TransferInput): boolean {
    return (
      existing.debitAccountId === t.debitAccountId &&
      existing.creditAccountId === t.creditAccountId &&
      existing.amount === t.amount &&
      existing.currency === t.currency &&
      existing.code === t.code &&
      existing.kind === (t.pending ? 'pending' : 'posted') &&
      sameJson(existing.metadata, t.metadata ?? {})
    );
  }

  async function resolve(
    x: SqlExecutor,
    kind: 'post_pending' | 'void_pending' | 'expire_pending',
    id: string,
    pendingId: string,
    amount: number | undefined,
  ): Promise<Transfer> {
    checkId(id, 'transfer');
    const existing = await repo.getTransfer(x, id);
    if (existing) {
      if (existing.kind === kind && existing.pendingId === pendingId && (amount === undefined || existing.amount === amount)) {
        return existing;
      }
      throw new DomainError('conflict', 'transfer_exists_with_different_fields', `transfer ${id} exists with other fields`);
    }
    const p = await repo.getTransfer(x, pendingId);
    if (!p || p.kind !== 'pending') throw new DomainError('not_found', 'pending_transfer_not_found', `no pending transfer ${pendingId}`);
    const done = await repo.getResolution(x, pendingId);
    if (done) {
      const state = done.kind === 'post_pending' ? 'posted' : done.kind === 'void_pending' ? 'voided' : 'expired';
      throw new DomainError('conflict', `pending_transfer_already_${state}`, `pending transfer ${pendingId} is already ${state}`);
    }
    const now = clock.now().getTime();
    if (kind !== 'expire_pending' && p.timeoutAt !== null && now >= p.timeoutAt) {
      throw new DomainError('conflict', 'pending_transfer_expired', `pending transfer ${pendingId} has expired`);
    }
    const posted = kind === 'post_pending' ? (amount === undefined ? p.amount : checkAmount(amount)) : 0;
    if (posted > p.amount) throw new DomainError('invalid', 'amount_exceeds_pending', 'cannot post more than is pending');
    const deltas = new Map<string, AccountDelta>();
    const currencies = new Map<string, string>();
    add(deltas, currencies, p.debitAccountId, p.currency, { debitsPending: -p.amount, debitsPosted: posted });
    add(deltas, currencies, p.creditAccountId, p.currency, { creditsPending: -p.amount, creditsPosted: posted });
    const t: Transfer = {
      id,
      debitAccountId: p.debitAccountId,
      creditAccountId: p.creditAccountId,
      amount: kind === 'post_pending' ? posted : p.amount,
      currency: p.currency,
      code: p.code,
      kind,
      pendingId,
      timeoutAt: null,
      metadata: {},
      createdAt: now,
    };
    if (!(await repo.insertTransfer(x, t))) {
      // The same id was written by a concurrent call since the check above.
      const same = (await repo.getTransfer(x, id))!;
      if (same.kind === kind && same.pendingId === pendingId) return same;
      throw new DomainError('conflict', 'transfer_exists_with_different_fields', `transfer ${id} exists with other fields`);
    }
    await applyDeltas(x, deltas, currencies);
    return t;
  }

  return {
    async createAccount(input, tx) {
      checkId(input.id, 'account');
      if (!CURRENCY.test(input.currency)) throw new DomainError('invalid', 'currency_invalid', 'currency must be a lower-case ISO 4217 code, such as usd');
      const flags = input.flags ?? 0;
      if (flags & DEBITS_MUST_NOT_EXCEED_CREDITS && flags & CREDITS_MUST_NOT_EXCEED_DEBITS) {
        throw new DomainError('invalid', 'account_flags_invalid', 'an account cannot carry both limit flags');
      }
      const a: Account = {
        id: input.id,
        currency: input.currency,
        code: input.code,
        flags,
        debitsPending: 0,
        debitsPosted: 0,
        creditsPending: 0,
        creditsPosted: 0,
        metadata: input.metadata ?? {},
        createdAt: clock.now().getTime(),
      };
      return inTx(tx, async (x) => {
        if (await repo.insertAccount(x, a)) return a;
        const existing = (await repo.getAccount(x, a.id))!;
        if (existing.currency !== a.currency || existing.code !== a.code || existing.flags !== a.flags || !sameJson(existing.metadata, a.metadata)) {
          throw new DomainError('conflict', 'account_exists_with_different_fields', `account ${a.id} exists with other fields`);
        }
        return existing;
      });
    },

    async getAccount(id, tx) {
      const a = await repo.getAccount(tx ?? db, id);
      if (!a) throw new DomainError('not_found', 'account_not_found', `no account ${id}`);
      return a;
    },

    async createTransfers(inputs, tx) {
      for (const t of inputs) validate(t);
      if (new Set(inputs.map((t) => t.id)).size !== inputs.length) {
        throw new DomainError('invalid', 'transfer_id_repeated', 'a batch names the same transfer id twice');
      }
      return inTx(tx, async (x) => {
        const now = clock.now().getTime();
        const out: Transfer[] = [];
        const deltas = new Map<string, AccountDelta>();
        const currencies = new Map<string, string>();
        const fresh: Transfer[] = [];
        for (const input of inputs) {
          // Known accounts are checked here rather than by the foreign key, to answer a coded error.
          await lookup(x, input.debitAccountId);
          await lookup(x, input.creditAccountId);
          fresh.push({
            id: input.id,
            debitAccountId: input.debitAccountId,
            creditAccountId: input.creditAccountId,
            amount: input.amount,
            currency: input.currency,
            code: input.code,
            kind: input.pending ? 'pending' : 'posted',
            pendingId: null,
            timeoutAt: input.pending && input.timeoutMs !== undefined ? now + input.timeoutMs : null,
            metadata: input.metadata ?? {},
            createdAt: now,
          });
        }
        // Insert all at once and look only at ids that clashed: on every path but a retry, none does.
        const inserted = await repo.insertTransfers(x, fresh);
        for (const [i, t] of fresh.entries()) {
          const input = inputs[i]!;
          if (!inserted.has(t.id)) {
            const existing = (await repo.getTransfer(x, t.id))!;
            if (!sameTransfer(existing, input)) {
              throw new DomainError('conflict', 'transfer_exists_with_different_fields', `transfer ${input.id} exists with other fields`);
            }
            out.push(existing);
            continue;
          }
          if (t.kind === 'pending') {
            add(deltas, currencies, t.debitAccountId, t.currency, { debitsPending: t.amount });
            add(deltas, currencies, t.creditAccountId, t.currency, { creditsPending: t.amount });
          } else {
            add(deltas, currencies, t.debitAccountId, t.currency, { debitsPosted: t.amount });
            add(deltas, currencies, t.creditAccountId, t.currency, { creditsPosted: t.amount });
          }
          for (const d of deltas.values()) {
            if (!Number.isSafeInteger(d.debitsPosted + d.debitsPending + d.creditsPosted + d.creditsPending)) {
              throw new DomainError('invalid', 'amount_invalid', 'the batch total is outside the safe integer range');
            }
          }
          out.push(t);
        }
        if (deltas.size > 0) await applyDeltas(x, deltas, currencies);
        return out;
      });
    },

    postPending({ id, pendingId, amount }, tx) {
      return inTx(tx, (x) => resolve(x, 'post_pending', id, pendingId, amount));
    },

    voidPending({ id, pendingId }, tx) {
      return inTx(tx, (x) => resolve(x, 'void_pending', id, pendingId, undefined));
    },

    async expirePending(limit = 100) {
      const due = await repo.duePending(db, clock.now().getTime(), limit);
      let n = 0;
      for (const p of due) {
        try {
          await db.transaction((x) => resolve(x, 'expire_pending', `${p.id}:expired`, p.id, undefined));
          n++;
        } catch (e) {
          // Posted or voided meanwhile by another process: nothing to expire.
          if (!(e instanceof DomainError && e.kind === 'conflict') && !isUniqueViolation(e)) throw e;
        }
      }
      return n;
    },

    async getTransfer(id, tx) {
      const t = await repo.getTransfer(tx ?? db, id);
      if (!t) throw new DomainError('not_found', 'transfer_not_found', `no transfer ${id}`);
      return t;
    },

    async pendingState(pendingId) {
      const p = await repo.getTransfer(db, pendingId);
      if (!p || p.kind !== 'pending') throw new DomainError('not_found', 'pending_transfer_not_found', `no pending transfer ${pendingId}`);
      const r = await repo.getResolution(db, pendingId);
      if (!r) return 'pending';
      return r.kind === 'post_pending' ? 'posted' : r.kind === 'void_pending' ? 'voided' : 'expired';
    },

    sumAccounts(prefix, exclude = []) {
      return repo.sumByPrefix(db, prefix, exclude);
    },

    accountTotals(prefix) {
      return repo.totalsByPrefix(db, prefix);
    },

    async listTransfers(accountId, opts = {}) {
      const limit = Math.min(Math.max(opts.limit ?? 50, 1), 1000);
      return repo.listTransfers(db, accountId, limit, opts.before);
    },

    async verify() {
      // One consistent snapshot: on SQLite the transaction excludes writers; on PostgreSQL it is
      // REPEATABLE READ-or-better through SERIALIZABLE.
      return db.transaction(
        async (x) => {
          const accounts = await repo.allTotalsExact(x);
          const transfers = await repo.allTransfers(x);
          const problems: string[] = [];
          const byId = new Map(transfers.map((t) => [t.id, t]));
          // Summed in BigInt: a sum of numbers past 2^53 rounds, and the audit must not.
          type Exact = { debitsPending: bigint; debitsPosted: bigint; creditsPending: bigint; creditsPosted: bigint };
          const ZERO_N: Exact = { debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n };
          const recomputed = new Map<string, Exact>();
          const bump = (id: string, d: Partial<AccountDelta>): void => {
            const p = recomputed.get(id) ?? { ...ZERO_N };
            recomputed.set(id, {
              debitsPending: p.debitsPending + BigInt(d.debitsPending ?? 0),
              debitsPosted: p.debitsPosted + BigInt(d.debitsPosted ?? 0),
              creditsPending: p.creditsPending + BigInt(d.creditsPending ?? 0),
              creditsPosted: p.creditsPosted + BigInt(d.creditsPosted ?? 0),
            });
          };
          for (const t of transfers) {
            if (t.kind === 'posted') {
              bump(t.debitAccountId, { debitsPosted: t.amount });
              bump(t.creditAccountId, { creditsPosted: t.amount });
            } else if (t.kind === 'pending') {
              bump(t.debitAccountId, { debitsPending: t.amount });
              bump(t.creditAccountId, { creditsPending: t.amount });
            } else {
              const p = t.pendingId === null ? undefined : byId.get(t.pendingId);
              if (!p) {
                problems.push(`transfer ${t.id} resolves a missing pending transfer`);
                continue;
              }
              const posted = t.kind === 'post_pending' ? t.amount : 0;
              bump(t.debitAccountId, { debitsPending: -p.amount, debitsPosted: posted });
              bump(t.creditAccountId, { creditsPending: -p.amount, creditsPosted: posted });
            }
          }
          const sumsN = new Map<string, { posted: bigint; pending: bigint }>();
          for (const acc of accounts) {
            const a = acc;
            const r = recomputed.get(acc.id) ?? ZERO_N;
            if (
              r.debitsPending !== a.debitsPending ||
              r.debitsPosted !== a.debitsPosted ||
              r.creditsPending !== a.creditsPending ||
              r.creditsPosted !== a.creditsPosted
            ) {
              problems.push(`account ${acc.id} balances differ from its transfers`);
            }
            if (acc.flags & DEBITS_MUST_NOT_EXCEED_CREDITS && a.debitsPosted + a.debitsPending > a.creditsPosted) {
              problems.push(`account ${acc.id} is overdrawn`);
            }
            if (acc.flags & CREDITS_MUST_NOT_EXCEED_DEBITS && a.creditsPosted + a.creditsPending > a.debitsPosted) {
              problems.push(`account ${acc.id} is over its credit limit`);
            }
            if (a.debitsPosted + a.debitsPending > BigInt(MAX_TOTAL) || a.creditsPosted + a.creditsPending > BigInt(MAX_TOTAL)) {
              problems.push(`account ${acc.id} holds totals past ${MAX_TOTAL}`);
            }
            const s = sumsN.get(acc.currency) ?? { posted: 0n, pending: 0n };
            s.posted += a.creditsPosted - a.debitsPosted;
            s.pending += a.creditsPending - a.debitsPending;
            sumsN.set(acc.currency, s);
          }
          const sums: VerifyReport['sums'] = {};
          for (const [cur, s] of sumsN) {
            sums[cur] = { posted: Number(s.posted), pending: Number(s.pending) };
            if (s.posted !== 0n || s.pending !== 0n) problems.push(`${cur} balances sum to ${s.posted} posted, ${s.pending} pending`);
          }
          return { ok: problems.length === 0, sums, accounts: accounts.length, transfers: transfers.length, problems };
        },
        { serializable: true },
      );
    },
  };
}
