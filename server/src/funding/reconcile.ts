import type { ExactTotals, Ledger } from '../ledger/index.ts';
import type { Db } from '../storage/index.ts';
import * as repo from './repo.ts';

/** Money as decimal strings of minor units: exact past 2^53, and JSON keeps them as they are. */
type Minor = string;

export interface ReconciliationLine {
  currency: string;
  /** What the operator owes shoppers: the posted balance of every live wallet (test wallets left out). */
  float: Minor;
  /** Held for payments in flight (pending debits of live wallets): still part of the float until they post. */
  floatHeld: Minor;
  wallets: number;
  /** The latest imported camt.053 closing booked balance, or null when no statement gave one. */
  bank: { balance: Minor; asOf: string; statementId: string } | null;
  /** bank - float; null without a bank balance. Money the bank holds for merchants and fees, or cash still at the desk, explains it. */
  difference: Minor | null;
  /** Credits at the bank with no known reference: money in the bank that no wallet holds yet. */
  unmatched: { count: number; total: Minor };
  /** What came in through each rail (its funding account's net debit): bank_transfer, service_desk, card, top_up (seeded). */
  fundedByRail: Record<string, Minor>;
  /** What live merchants' accounts hold: owed to merchants until paid out. */
  merchantPayable: Minor;
  /** The live platform fee account's balance. */
  platformFees: Minor;
  /** Fee income per merchant and UTC month (`YYYY-MM`): fees charged less fees refunded (`platform_fee` less `platform_fee_refund` transfers). */
  feeIncome: { merchantId: string; month: string; fees: Minor }[];
  /** Other movements out of the fee account (a fee collection, if one is ever recorded), net. */
  feesMovedOut: Minor;
}

export interface ReconciliationReport {
  generatedAt: number;
  currencies: ReconciliationLine[];
  notes: string[];
}

const net = (s: { creditsPosted: bigint; debitsPosted: bigint }): bigint => s.creditsPosted - s.debitsPosted;
const month = (at: number): string => new Date(at).toISOString().slice(0, 7);

/**
 * The operator's reconciliation, read from the ledger by its account naming: wallets are
 * `wallet:<shopper>:<cur>` (test money in `wallet:test:...` and test shoppers' `wallet:test_...`
 * is left out), funding accounts `funding:<rail>:<cur>`, live merchants `merchant:<id>:<cur>`
 * (test ones `merchant:<id>:test:<cur>`), the fee account `platform:fees:<cur>`.
 */
export function createReconciliation({ db, ledger, now }: { db: Db; ledger: Ledger; now: () => number }) {
  async function feeIncome(currency: string): Promise<{ rows: ReconciliationLine['feeIncome']; movedOut: bigint }> {
    const account = `platform:fees:${currency}`;
    const byKey = new Map<string, bigint>();
    let movedOut = 0n;
    let before: string | undefined;
    for (;;) {
      const page = await ledger.listTransfers(account, { limit: 1000, ...(before ? { before } : {}) });
      for (const t of page) {
        if (t.kind === 'pending') continue;
        const counter = t.debitAccountId === account ? t.creditAccountId : t.debitAccountId;
        const m = /^merchant:(.+):[a-z]{3}$/.exec(counter);
        const signed = t.creditAccountId === account ? BigInt(t.amount) : -BigInt(t.amount);
        if ((t.code === 'platform_fee' || t.code === 'platform_fee_refund') && m) {
          const key = `${m[1]}\u0000${month(t.createdAt)}`;
          byKey.set(key, (byKey.get(key) ?? 0n) + signed);
        } else {
          movedOut -= signed;
        }
      }
      if (page.length < 1000) break;
      before = page[page.length - 1]!.id;
    }
    const rows = [...byKey].map(([k, v]) => {
      const [merchantId, mo] = k.split('\u0000') as [string, string];
      return { merchantId, month: mo, fees: String(v) };
    });
    rows.sort((a, b) => a.month.localeCompare(b.month) || a.merchantId.localeCompare(b.merchantId));
    return { rows, movedOut };
  }

  return {
    async report(): Promise<ReconciliationReport> {
      const notes: string[] = [];
      const wallets = await ledger.sumAccounts('wallet:', ['wallet:test:', 'wallet:test_']);
      const funding = (await ledger.accountTotals('funding:')).filter((a) => !a.id.startsWith('funding:test:'));
      const merchants = (await ledger.accountTotals('merchant:')).filter((a) => !a.id.includes(':test:'));
      const fees = (await ledger.accountTotals('platform:fees:')).filter((a) => !a.id.startsWith('platform:fees:test:'));
      const bank = await repo.latestBankBalances(db);
      const unmatched = await repo.unmatchedTotals(db);
      const currencies = new Set<string>([...wallets.map((w) => w.currency), ...fees.map((f) => f.currency), ...bank.map((b) => b.currency)]);
      const sum = (xs: ExactTotals[], currency: string): bigint => xs.filter((x) => x.currency === currency).reduce((s, x) => s + net(x), 0n);
      const lines: ReconciliationLine[] = [];
      for (const currency of [...currencies].sort()) {
        const w = wallets.find((x) => x.currency === currency);
        const float = w ? net(w) : 0n;
        const b = bank.find((x) => x.currency === currency);
        const u = unmatched.find((x) => x.currency === currency);
        const fundedByRail: Record<string, Minor> = {};
        for (const a of funding.filter((x) => x.currency === currency)) {
          const rail = a.id.slice('funding:'.length, -(currency.length + 1));
          fundedByRail[rail] = String(-net(a));
        }
        const fi = await feeIncome(currency);
        lines.push({
          currency,
          float: String(float),
          floatHeld: String(w?.debitsPending ?? 0n),
          wallets: w?.accounts ?? 0,
          bank: b ? { balance: String(b.closing_balance), asOf: b.as_of, statementId: b.statement_id } : null,
          difference: b ? String(BigInt(String(b.closing_balance)) - float) : null,
          unmatched: { count: Number(u?.n ?? 0), total: String(u?.total ?? 0) },
          fundedByRail,
          merchantPayable: String(sum(merchants, currency)),
          platformFees: String(sum(fees, currency)),
          feeIncome: fi.rows,
          feesMovedOut: String(fi.movedOut),
        });
      }
      if (bank.length === 0) notes.push('No camt.053 statement with a closing balance (CLBD) has been imported: the bank side is empty.');
      if (lines.every((l) => l.feeIncome.length === 0)) notes.push('No platform fee transfers are recorded in the ledger: fee income is 0.');
      if (lines.some((l) => l.fundedByRail.top_up !== undefined)) {
        notes.push('Wallets were funded through the top_up source (demo seed, tests or the legacy direct top-up): that money came through no bank or desk.');
      }
      return { generatedAt: now(), currencies: lines, notes };
    },
  };
}

export type Reconciliation = ReturnType<typeof createReconciliation>;
