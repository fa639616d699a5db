import { checkShopperId, walletAccountId, type Ledger, type TransferInput } from '../ledger/index.ts';
import { merchantAccountId } from '../payments/index.ts';
import { csvCell, DomainError, type Clock, type IdGenerator } from '../platform/index.ts';
import { isoDate, startOfLocalDay, wallClock } from '../reports/index.ts';
import type { Db, SqlExecutor } from '../storage/index.ts';
import { checkBic, checkHolderName, checkIban } from './iban.ts';
import { buildPain001 } from './pain001.ts';
import { settlementRepo as repo } from './repo.ts';
import type { PayoutAccount, PayoutItem, PayoutRun, SettlementConfig, Statement, StatementLine, Withdrawal } from './types.ts';

export interface SettlementEvents {
  record(tx: SqlExecutor, e: { merchantId: string; mode: 'live'; type: string; objectId: string; data: Record<string, unknown> }): Promise<unknown>;
}

export interface SettlementDeps {
  db: Db;
  clock: Clock;
  ids: IdGenerator;
  ledger: Ledger;
  /** The webhook outbox: `settlement.closed` is written in the transaction that closes the statement. */
  events: SettlementEvents;
  /** The merchant's IANA time zone (its programme's), UTC when it has none. */
  timeZoneOf(merchantId: string): Promise<string>;
  config: SettlementConfig;
  /** The fee schedule, whose audit (each fee against the rate in effect) joins the settlement audit. */
  fees?: { audit(): Promise<{ problems: string[] }> };
  /** Tests only: called after each payout item's money has moved, to stop a run half way. */
  afterItemMoved?: (item: PayoutItem) => Promise<void> | void;
}

export interface SettlementAudit {
  ok: boolean;
  statements: number;
  problems: string[];
}

export interface SettlementService {
  setPayoutAccount(merchantId: string, input: { iban: unknown; holderName: unknown; bic?: unknown }): Promise<PayoutAccount>;
  payoutAccount(merchantId: string): Promise<PayoutAccount | null>;
  /** The live payable: what the platform owes the merchant now (negative after a refund larger than what is left). */
  payable(merchantId: string, currency: string): Promise<number>;
  /**
   * What keeps a merchant from being closed, read in the caller's transaction: its live payables
   * that are not zero, and the payout runs still open (moving or ready) with an item of it.
   */
  closureBlockers(tx: SqlExecutor, merchantId: string): Promise<{ balances: { currency: string; amount: string }[]; openPayoutRuns: string[] }>;
  /** Closes every merchant's days that ended (plus the grace) before `now`; answers the statements made. */
  closeDays(now?: number): Promise<Statement[]>;
  listStatements(merchantId: string, q?: { from?: string; to?: string; limit?: number; cursor?: string }): Promise<{ data: Statement[]; hasMore: boolean; nextCursor: string | null }>;
  getStatement(merchantId: string, id: string): Promise<Statement>;
  lines(merchantId: string, id: string, q?: { limit?: number; after?: string }): Promise<StatementLine[]>;
  /** A statement and all its transfers as CSV (one line per transfer, then the totals). */
  statementCsv(merchantId: string, id: string): Promise<string>;

  requestWithdrawal(shopperId: string, input: { amount: number; currency: string; iban: unknown; holderName: unknown }, key: string): Promise<Withdrawal>;
  approveWithdrawal(id: string): Promise<Withdrawal>;
  rejectWithdrawal(id: string): Promise<Withdrawal>;
  getWithdrawal(id: string): Promise<Withdrawal>;
  listWithdrawals(q?: { shopperId?: string; status?: string; limit?: number }): Promise<Withdrawal[]>;

  /** Claims every closed positive statement and approved withdrawal of the currency, moves them to payout clearing and writes the file. `key` makes a retry the same run. */
  createPayoutRun(key: string, currency?: string): Promise<PayoutRun>;
  /** Finishes a run that stopped half way (a crash); a finished run is answered as it is. */
  resumePayoutRun(id: string): Promise<PayoutRun>;
  /** Resumes every run still `moving` (at start and by the housekeeping worker). */
  resumeOpenRuns(): Promise<number>;
  getPayoutRun(id: string): Promise<PayoutRun & { items: PayoutItem[] }>;
  listPayoutRuns(limit?: number): Promise<PayoutRun[]>;
  payoutFile(id: string): Promise<string>;
  markPayoutSent(id: string): Promise<PayoutRun>;
  markPayoutReturned(id: string): Promise<PayoutRun>;

  /** Statements against their transfers, payables against open statements, clearing against open runs. */
  audit(): Promise<SettlementAudit>;
}

export const payoutClearingAccountId = (currency: string): string => `payout:clearing:${currency}`;
/** Money that left the operator's bank account for a payout: grows with every run marked sent. */
export const payoutSentAccountId = (currency: string): string => `payout:sent:${currency}`;
export const withdrawalPendingAccountId = (currency: string): string => `withdrawal:pending:${currency}`;

/** Test shoppers (`test_...`) hold test money only, as in payments. */
const isTestShopper = (shopperId: string): boolean => shopperId.startsWith('test_');
const KEY = /^[\x21-\x7e]{8,255}$/;
const STATEMENT_CODES = new Set(['payment', 'refund', 'platform_fee', 'platform_fee_refund']);

/** A sum of safe integers, exact (BigInt) and refused if it leaves the safe range. */
function exact(...xs: (number | bigint)[]): number {
  const s = xs.reduce<bigint>((a, b) => a + BigInt(b), 0n);
  if (s > BigInt(Number.MAX_SAFE_INTEGER) || s < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new DomainError('unprocessable', 'amount_too_large', 'a settlement total is outside the safe integer range');
  }
  return Number(s);
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new DomainError('invalid', 'idempotency_key_required', 'send an Idempotency-Key (8 to 255 printable characters)');
  }
  return key;
}

export function statementResource(s: Statement): Record<string, unknown> {
  return {
    id: s.id,
    object: 'settlement',
    merchant_id: s.merchantId,
    currency: s.currency,
    day: s.day,
    time_zone: s.timeZone,
    period_start: new Date(s.periodStart).toISOString(),
    period_end: new Date(s.periodEnd).toISOString(),
    gross: s.gross,
    coupon_discounts: s.discounts,
    refunds: s.refunds,
    platform_fees: s.fees,
    adjustments: s.adjustments,
    carried_in: s.carriedIn,
    net: s.net,
    transfer_count: s.transferCount,
    status: s.status,
    carried_into: s.carriedInto,
    closed_at: new Date(s.closedAt).toISOString(),
  };
}

export function createSettlementService(deps: SettlementDeps): SettlementService {
  const { db, clock, ids, ledger, events, config } = deps;
  const debtor = config.debtor && { name: checkHolderName(config.debtor.name), iban: checkIban(config.debtor.iban), bic: checkBic(config.debtor.bic) };
  const needDebtor = (): NonNullable<typeof debtor> => {
    if (!debtor) throw new DomainError('unavailable', 'payout_debtor_missing', "payout runs need the operator's bank account: set FACEPAY_PAYOUT_DEBTOR_IBAN");
    return debtor;
  };
  const ensured = new Set<string>();

  async function ensureAccount(id: string, currency: string, code: string, tx?: SqlExecutor): Promise<void> {
    if (ensured.has(id)) return;
    await ledger.createAccount({ id, currency, code }, tx);
    if (!tx) ensured.add(id);
  }

  async function closeOne(acc: { id: string; currency: string }, merchantId: string, tz: string, day: string, from: number, to: number): Promise<Statement | null> {
    return db.transaction(async (tx) => {
      const id = ids.next('stl');
      const now = clock.now().getTime();
      if (!(await repo.insertStatementShell(tx, { id, merchantId, currency: acc.currency, accountId: acc.id, day, timeZone: tz, periodStart: from, periodEnd: to, closedAt: now }))) {
        return null; // another closer made it
      }
      await repo.collectItems(tx, id, acc.id, from, to);
      const sums = await repo.sumsByCode(tx, id);
      const total = (code: string): number => sums.get(code)?.total ?? 0;
      let adjustments = 0;
      let count = 0;
      let itemsTotal = 0;
      for (const [code, v] of sums) {
        count += v.count;
        itemsTotal = exact(itemsTotal, v.total);
        if (!STATEMENT_CODES.has(code)) adjustments = exact(adjustments, v.total);
      }
      const discounts = await repo.discountsOf(tx, id);
      const carry = await repo.openCarry(tx, acc.id);
      const carriedIn = carry?.net ?? 0;
      const net = exact(itemsTotal, carriedIn);
      const s: Statement = {
        id,
        merchantId,
        currency: acc.currency,
        accountId: acc.id,
        day,
        timeZone: tz,
        periodStart: from,
        periodEnd: to,
        gross: exact(total('payment'), discounts),
        discounts,
        // 0 - x, not -x: a day without refunds or fees must read 0, never -0.
        refunds: 0 - total('refund'),
        fees: 0 - exact(total('platform_fee'), total('platform_fee_refund')),
        adjustments,
        carriedIn,
        net,
        transferCount: count,
        status: net > 0 ? 'closed' : 'carried',
        carriedInto: null,
        payoutItemId: null,
        closedAt: now,
      };
      await repo.finishStatement(tx, s);
      if (carry) await repo.markCarried(tx, carry.id, id);
      await events.record(tx, { merchantId, mode: 'live', type: 'settlement.closed', objectId: id, data: statementResource(s) });
      return s;
    });
  }

  async function closeAccount(acc: { id: string; currency: string }, now: number): Promise<Statement[]> {
    const merchantId = acc.id.slice('merchant:'.length, acc.id.length - acc.currency.length - 1);
    const tz = await deps.timeZoneOf(merchantId);
    const out: Statement[] = [];
    let from = (await repo.lastStatement(db, acc.id))?.periodEnd ?? null;
    for (;;) {
      // Days without a transfer get no statement: the next one starts where the last ended, so no gap can hide a transfer.
      const next = await repo.firstTransferAt(db, acc.id, from ?? 0);
      if (next === null) break;
      const w = wallClock(next, tz);
      const dayStart = startOfLocalDay(w.y, w.m, w.d, tz);
      const end = startOfLocalDay(w.y, w.m, w.d + 1, tz);
      if (end + config.closeGraceMs > now) break;
      const s = await closeOne(acc, merchantId, tz, isoDate(w.y, w.m, w.d), from ?? dayStart, end);
      if (s) out.push(s);
      from = end;
    }
    return out;
  }

  async function statementOf(merchantId: string, id: string): Promise<Statement> {
    const s = await repo.getStatement(db, id);
    if (!s || s.merchantId !== merchantId || s.status === 'closing') throw new DomainError('not_found', 'settlement_not_found', `no settlement ${id}`);
    return s;
  }

  async function withdrawalOf(x: SqlExecutor, id: string, forUpdate = false): Promise<Withdrawal> {
    const w = await repo.withdrawal(x, id, forUpdate);
    if (!w) throw new DomainError('not_found', 'withdrawal_not_found', `no withdrawal ${id}`);
    return w;
  }

  async function runOf(x: SqlExecutor, id: string, forUpdate = false): Promise<PayoutRun> {
    const r = await repo.run(x, id, forUpdate);
    if (!r) throw new DomainError('not_found', 'payout_run_not_found', `no payout run ${id}`);
    return r;
  }

  const service: SettlementService = {
    async setPayoutAccount(merchantId, input) {
      const a: PayoutAccount = {
        merchantId,
        iban: checkIban(input.iban),
        holderName: checkHolderName(input.holderName),
        bic: checkBic(input.bic),
        updatedAt: clock.now().getTime(),
      };
      await repo.upsertPayoutAccount(db, a);
      return a;
    },

    payoutAccount: (merchantId) => repo.payoutAccount(db, merchantId),

    async payable(merchantId, currency) {
      try {
        const a = await ledger.getAccount(merchantAccountId(merchantId, currency, 'live'));
        return exact(a.creditsPosted, -BigInt(a.debitsPosted));
      } catch (e) {
        if (e instanceof DomainError && e.code === 'account_not_found') return 0;
        throw e;
      }
    },

    async closureBlockers(tx, merchantId) {
      const balances = (await repo.livePayables(tx, merchantId)).filter((p) => p.balance !== 0n).map((p) => ({ currency: p.currency, amount: p.balance.toString() }));
      return { balances, openPayoutRuns: await repo.openRunsOfMerchant(tx, merchantId) };
    },

    async closeDays(now = clock.now().getTime()) {
      const out: Statement[] = [];
      for (const acc of await repo.merchantAccounts(db)) out.push(...(await closeAccount(acc, now)));
      return out;
    },

    async listStatements(merchantId, q = {}) {
      const limit = Math.min(Math.max(q.limit ?? 30, 1), 100);
      const rows = await repo.listStatements(db, merchantId, { ...q, limit: limit + 1 });
      const hasMore = rows.length > limit;
      const data = rows.slice(0, limit);
      return { data, hasMore, nextCursor: hasMore ? (data[data.length - 1]?.id ?? null) : null };
    },

    getStatement: statementOf,

    async lines(merchantId, id, q = {}) {
      await statementOf(merchantId, id);
      return repo.lines(db, id, Math.min(Math.max(q.limit ?? 100, 1), 1000), q.after);
    },

    async statementCsv(merchantId, id) {
      const s = await statementOf(merchantId, id);
      const out = ['transfer_id,code,amount,created_at'];
      let after: string | undefined;
      for (;;) {
        const page = await repo.lines(db, id, 5000, after);
        for (const l of page) out.push([l.transferId, l.code, l.amount, new Date(l.createdAt).toISOString()].map(csvCell).join(','));
        if (page.length < 5000) break;
        after = page[page.length - 1]!.transferId;
      }
      out.push('');
      out.push('figure,amount');
      for (const [k, v] of [['gross', s.gross], ['coupon_discounts', s.discounts], ['refunds', s.refunds], ['platform_fees', s.fees], ['adjustments', s.adjustments], ['carried_in', s.carriedIn], ['net', s.net]] as const) {
        out.push(`${k},${v}`);
      }
      return `${out.join('\n')}\n`;
    },

    async requestWithdrawal(shopperId, input, key) {
      checkShopperId(shopperId);
      checkKey(key);
      if (isTestShopper(shopperId)) throw new DomainError('forbidden', 'test_shopper_in_live_mode', 'test shoppers hold test money, which cannot be withdrawn');
      if (!Number.isSafeInteger(input.amount) || input.amount <= 0) throw new DomainError('invalid', 'amount_invalid', 'amount must be a positive whole number of minor units');
      const iban = checkIban(input.iban);
      const holderName = checkHolderName(input.holderName);
      const currency = input.currency;
      const requestRef = `${shopperId}:${key}`;
      const same = (w: Withdrawal): Withdrawal => {
        if (w.amount !== input.amount || w.currency !== currency || w.iban !== iban || w.holderName !== holderName) {
          throw new DomainError('conflict', 'idempotency_key_reused', 'this Idempotency-Key was used for another withdrawal');
        }
        return w;
      };
      const existing = await repo.withdrawalByRef(db, requestRef);
      if (existing) return same(existing);
      await ensureAccount(withdrawalPendingAccountId(currency), currency, 'withdrawal_pending');
      const w: Withdrawal = {
        id: ids.next('wd'),
        requestRef,
        shopperId,
        amount: input.amount,
        currency,
        iban,
        holderName,
        status: 'pending',
        payoutItemId: null,
        createdAt: clock.now().getTime(),
        decidedAt: null,
      };
      try {
        return await db.transaction(async (tx) => {
          if (!(await repo.insertWithdrawal(tx, w))) return same((await repo.withdrawalByRef(tx, requestRef))!);
          // The money leaves the wallet now, so it cannot also be spent while the operator decides.
          await ledger.createTransfers(
            [{ id: `${w.id}:hold`, debitAccountId: walletAccountId(shopperId, currency), creditAccountId: withdrawalPendingAccountId(currency), amount: w.amount, currency, code: 'withdrawal_hold' }],
            tx,
          );
          return w;
        });
      } catch (e) {
        if (e instanceof DomainError && (e.code === 'account_not_found' || e.code === 'insufficient_funds')) {
          throw new DomainError('unprocessable', 'insufficient_funds', 'the wallet holds less than the withdrawal');
        }
        throw e;
      }
    },

    async approveWithdrawal(id) {
      return db.transaction(async (tx) => {
        const w = await withdrawalOf(tx, id, true);
        if (w.status === 'approved') return w;
        if (w.status !== 'pending') throw new DomainError('conflict', `withdrawal_${w.status}`, `withdrawal ${id} is ${w.status}`);
        const at = clock.now().getTime();
        await repo.setWithdrawal(tx, id, 'approved', null, at);
        return { ...w, status: 'approved', decidedAt: at };
      });
    },

    async rejectWithdrawal(id) {
      return db.transaction(async (tx) => {
        const w = await withdrawalOf(tx, id, true);
        if (w.status === 'rejected') return w;
        if (w.status !== 'pending' && w.status !== 'approved') throw new DomainError('conflict', `withdrawal_${w.status}`, `withdrawal ${id} is ${w.status}`);
        const at = clock.now().getTime();
        await ledger.createTransfers(
          [{ id: `${w.id}:release`, debitAccountId: withdrawalPendingAccountId(w.currency), creditAccountId: walletAccountId(w.shopperId, w.currency), amount: w.amount, currency: w.currency, code: 'withdrawal_release' }],
          tx,
        );
        await repo.setWithdrawal(tx, id, 'rejected', null, at);
        return { ...w, status: 'rejected', decidedAt: at };
      });
    },

    getWithdrawal: (id) => withdrawalOf(db, id),

    listWithdrawals: (q = {}) => repo.listWithdrawals(db, { ...q, limit: Math.min(Math.max(q.limit ?? 100, 1), 1000) }),

    async createPayoutRun(key, currency = 'eur') {
      checkKey(key);
      needDebtor();
      // pain.001 for SEPA carries euros only.
      if (currency !== 'eur') throw new DomainError('invalid', 'payout_currency_unsupported', 'SEPA payout files are in EUR only');
      const known = await repo.runByRef(db, key);
      if (known) return service.resumePayoutRun(known.id);
      await ensureAccount(payoutClearingAccountId(currency), currency, 'payout_clearing');
      const run = await db.transaction(async (tx) => {
        // One claimer at a time: a statement or withdrawal goes into one run only.
        if (tx.dialect === 'postgres') await tx.execute('SELECT pg_advisory_xact_lock(7412)');
        const now = clock.now().getTime();
        const r: PayoutRun = { id: ids.next('po'), requestRef: key, currency, status: 'moving', itemCount: 0, total: 0, createdAt: now, updatedAt: now };
        if (!(await repo.insertRun(tx, r))) return (await repo.runByRef(tx, key))!;
        const items: PayoutItem[] = [];
        const byMerchant = new Map<string, Awaited<ReturnType<typeof repo.payableStatements>>>();
        for (const s of await repo.payableStatements(tx, currency)) {
          const list = byMerchant.get(s.merchantId) ?? [];
          list.push(s);
          byMerchant.set(s.merchantId, list);
        }
        for (const [merchantId, list] of byMerchant) {
          const first = list[0]!;
          const item: PayoutItem = {
            id: ids.next('poi'),
            runId: r.id,
            kind: 'merchant',
            partyId: merchantId,
            sourceAccount: first.accountId,
            amount: exact(...list.map((s) => s.net)),
            currency,
            iban: first.iban,
            bic: first.bic,
            holderName: first.holderName,
            status: 'claimed',
          };
          await repo.insertItem(tx, item);
          await repo.setStatementsPayout(tx, list.map((s) => s.id), item.id, 'in_payout');
          items.push(item);
        }
        for (const w of await repo.approvedWithdrawals(tx, currency)) {
          const item: PayoutItem = {
            id: ids.next('poi'),
            runId: r.id,
            kind: 'withdrawal',
            partyId: w.id,
            sourceAccount: withdrawalPendingAccountId(currency),
            amount: w.amount,
            currency,
            iban: w.iban,
            bic: null,
            holderName: w.holderName,
            status: 'claimed',
          };
          await repo.insertItem(tx, item);
          await repo.setWithdrawal(tx, w.id, 'in_payout', item.id, null);
          items.push(item);
        }
        if (items.length === 0) throw new DomainError('conflict', 'payout_nothing_to_pay', 'no closed statement or approved withdrawal waits for a payout');
        const total = exact(...items.map((i) => i.amount));
        await repo.updateRun(tx, r.id, { status: 'moving', itemCount: items.length, total, at: now });
        return { ...r, itemCount: items.length, total };
      });
      return service.resumePayoutRun(run.id);
    },

    async resumePayoutRun(id) {
      const run = await runOf(db, id);
      if (run.status !== 'moving') return run;
      const clearing = payoutClearingAccountId(run.currency);
      await ensureAccount(clearing, run.currency, 'payout_clearing');
      const items = await repo.items(db, id);
      for (const item of items) {
        if (item.status === 'moved') continue;
        // The transfer id is the item's: a run resumed after a crash moves each item once.
        await db.transaction(async (tx) => {
          // Locked and read again: the housekeeping worker and the CLI may resume the same run at once.
          if ((await repo.itemStatus(tx, item.id)) === 'moved') return;
          await ledger.createTransfers([{ id: `${item.id}:payout`, debitAccountId: item.sourceAccount, creditAccountId: clearing, amount: item.amount, currency: item.currency, code: 'payout' }], tx);
          await repo.setItemStatus(tx, item.id, 'moved');
        });
        item.status = 'moved';
        await deps.afterItemMoved?.(item);
      }
      const file = buildPain001({
        messageId: run.id,
        createdAt: run.createdAt,
        executionDate: new Date(run.createdAt).toISOString().slice(0, 10),
        debtor: needDebtor(),
        items,
      });
      const at = clock.now().getTime();
      await db.transaction(async (tx) => {
        const r = await runOf(tx, id, true);
        if (r.status === 'moving') await repo.updateRun(tx, id, { status: 'ready', file, at });
      });
      return runOf(db, id);
    },

    async resumeOpenRuns() {
      const open = await repo.runsWithStatus(db, 'moving');
      for (const r of open) await service.resumePayoutRun(r.id);
      return open.length;
    },

    async getPayoutRun(id) {
      const r = await runOf(db, id);
      return { ...r, items: await repo.items(db, id) };
    },

    listPayoutRuns: (limit = 50) => repo.listRuns(db, Math.min(Math.max(limit, 1), 500)),

    async payoutFile(id) {
      await runOf(db, id);
      const f = await repo.runFile(db, id);
      if (f === null) throw new DomainError('conflict', 'payout_run_not_ready', 'the payout file is written once every item has moved; resume the run');
      return f;
    },

    async markPayoutSent(id) {
      await db.transaction(async (tx) => {
        const r = await runOf(tx, id, true);
        if (r.status === 'sent') return;
        if (r.status !== 'ready') throw new DomainError('conflict', `payout_run_${r.status}`, `payout run ${id} is ${r.status}`);
        await ensureAccount(payoutSentAccountId(r.currency), r.currency, 'payout_sent', tx);
        const items = await repo.items(tx, id);
        const transfers: TransferInput[] = items.map((i) => ({ id: `${i.id}:sent`, debitAccountId: payoutClearingAccountId(r.currency), creditAccountId: payoutSentAccountId(r.currency), amount: i.amount, currency: r.currency, code: 'payout_sent' }));
        await ledger.createTransfers(transfers, tx);
        for (const i of items) {
          if (i.kind === 'merchant') await repo.setStatementsPayout(tx, (await repo.statementsOfItem(tx, i.id)).map((s) => s.id), i.id, 'paid');
          else await repo.setWithdrawal(tx, i.partyId, 'paid', i.id, null);
        }
        await repo.updateRun(tx, id, { status: 'sent', at: clock.now().getTime() });
      });
      return runOf(db, id);
    },

    async markPayoutReturned(id) {
      await db.transaction(async (tx) => {
        const r = await runOf(tx, id, true);
        if (r.status === 'returned') return;
        if (r.status !== 'ready') throw new DomainError('conflict', `payout_run_${r.status}`, `payout run ${id} is ${r.status}`);
        const items = await repo.items(tx, id);
        const transfers: TransferInput[] = [];
        for (const i of items) {
          if (i.kind === 'merchant') {
            // Back into the payable; the statements are payable again and go into the next run.
            transfers.push({ id: `${i.id}:return`, debitAccountId: payoutClearingAccountId(r.currency), creditAccountId: i.sourceAccount, amount: i.amount, currency: r.currency, code: 'payout_return' });
            await repo.setStatementsPayout(tx, (await repo.statementsOfItem(tx, i.id)).map((s) => s.id), null, 'closed');
          } else {
            const w = await withdrawalOf(tx, i.partyId);
            transfers.push({ id: `${i.id}:return`, debitAccountId: payoutClearingAccountId(r.currency), creditAccountId: walletAccountId(w.shopperId, w.currency), amount: i.amount, currency: r.currency, code: 'withdrawal_return' });
            await repo.setWithdrawal(tx, w.id, 'returned', i.id, null);
          }
        }
        await ledger.createTransfers(transfers, tx);
        await repo.updateRun(tx, id, { status: 'returned', at: clock.now().getTime() });
      });
      return runOf(db, id);
    },

    async audit() {
      return db.transaction(
        async (tx) => {
          const problems: string[] = [];
          let statements = 0;
          // Items claimed by a run that has not moved them yet: their money is still in the payable.
          const unmoved = new Set<string>();
          for (const r of await repo.runsWithStatus(tx, 'moving')) for (const i of await repo.items(tx, r.id)) if (i.status === 'claimed') unmoved.add(i.id);
          for (const acc of await repo.merchantAccounts(tx)) {
            let open = 0n;
            let after: string | undefined;
            for (;;) {
              const page = await repo.listStatements(tx, acc.id.slice('merchant:'.length, acc.id.length - acc.currency.length - 1), { limit: 500, ...(after ? { cursor: after } : {}) });
              for (const s of page.filter((p) => p.accountId === acc.id)) {
                statements++;
                const sums = await repo.sumsByCode(tx, s.id);
                let items = 0n;
                for (const v of sums.values()) items += BigInt(v.total);
                if (items + BigInt(s.carriedIn) !== BigInt(s.net)) problems.push(`statement ${s.id}: net ${s.net} is not its transfers ${items} plus carried ${s.carriedIn}`);
                if (BigInt(s.gross) - BigInt(s.discounts) - BigInt(s.refunds) - BigInt(s.fees) + BigInt(s.adjustments) !== items) {
                  problems.push(`statement ${s.id}: figures do not add up to its transfers`);
                }
                if (s.status === 'closed' || (s.status === 'carried' && s.carriedInto === null) || (s.status === 'in_payout' && s.payoutItemId !== null && unmoved.has(s.payoutItemId))) {
                  open += BigInt(s.net);
                }
              }
              if (page.length < 500) break;
              after = page[page.length - 1]!.id;
            }
            // What the payable holds = open statements + transfers no statement holds yet.
            const a = await ledger.getAccount(acc.id, tx);
            const [u] = await tx.query<{ total: unknown }>(
              `SELECT SUM(CASE WHEN t.credit_account_id = $1 THEN t.amount ELSE -t.amount END) AS total FROM ledger_transfers t
               WHERE (t.credit_account_id = $1 OR t.debit_account_id = $1) AND t.kind IN ('posted', 'post_pending') AND t.code NOT IN ('payout', 'payout_return')
                 AND NOT EXISTS (SELECT 1 FROM settlement_items i WHERE i.transfer_id = t.id)`,
              [acc.id],
            );
            const unsettled = BigInt(String(u?.total ?? 0));
            const balance = BigInt(a.creditsPosted) - BigInt(a.debitsPosted);
            if (balance !== open + unsettled) problems.push(`payable ${acc.id} holds ${balance}, open statements and unsettled transfers ${open + unsettled}`);
          }
          for (const status of ['moving', 'ready'] as const) {
            for (const r of await repo.runsWithStatus(tx, status)) {
              const moved = (await repo.items(tx, r.id)).filter((i) => i.status === 'moved').reduce((s, i) => s + i.amount, 0);
              if (status === 'ready' && moved !== r.total) problems.push(`payout run ${r.id} is ready with ${moved} of ${r.total} moved`);
            }
          }
          // The withdrawal-pending account holds exactly the withdrawals not yet decided, approved, or claimed but not moved.
          const held = new Map<string, bigint>();
          for (const w of await repo.listWithdrawals(tx, { limit: Number.MAX_SAFE_INTEGER })) {
            const waiting = w.status === 'pending' || w.status === 'approved' || (w.status === 'in_payout' && w.payoutItemId !== null && unmoved.has(w.payoutItemId));
            if (waiting) held.set(w.currency, (held.get(w.currency) ?? 0n) + BigInt(w.amount));
            else held.set(w.currency, held.get(w.currency) ?? 0n);
          }
          for (const [currency, want] of held) {
            const a = await ledger.getAccount(withdrawalPendingAccountId(currency), tx).catch(() => null);
            const has = a ? BigInt(a.creditsPosted) - BigInt(a.debitsPosted) : 0n;
            if (has !== want) problems.push(`withdrawal-pending ${currency} holds ${has}, the open withdrawals ${want}`);
          }
          return { ok: problems.length === 0, statements, problems };
        },
        { serializable: true },
      ).then(async (a) => {
        const fees = deps.fees ? (await deps.fees.audit()).problems : [];
        return { ...a, ok: a.ok && fees.length === 0, problems: [...a.problems, ...fees] };
      });
    },
  };
  return service;
}
