/**
 * One merchant as the operator's admins see it: its status, live volume by currency (succeeded
 * payments and refunds, the last 30 days and all time), platform fees collected, its terminals,
 * open disputes and the risk events of its face payments. Amounts are exact decimal strings of
 * minor units (BigInt arithmetic), so no total is ever rounded.
 */
import type { Merchant } from '../merchants/index.ts';
import type { Clock } from '../platform/index.ts';
import type { SqlExecutor } from '../storage/index.ts';
import { overviewRepo as repo, type RiskRow, type VolumeRow } from './overview-repo.ts';

export interface VolumeFigures {
  payments: { count: number; amount: string };
  refunds: { count: number; amount: string };
  /** Platform fees charged on the payments less those given back with refunds. */
  fees: string;
}

export interface MerchantOverview {
  merchant: Merchant;
  since: number;
  currencies: { currency: string; allTime: VolumeFigures; last30Days: VolumeFigures }[];
  terminals: { active: number; pending: number; revoked: number; lastSeenAt: number | null };
  disputes: { open: number; total: number };
  risk: {
    last30Days: { stepUps: number; refusals: number; wrongFactors: number; disputes: number };
    /** The newest events of every kind together, newest first. */
    recent: RiskRow[];
  };
}

export interface OverviewDeps {
  db: SqlExecutor;
  clock: Clock;
  /** The merchant, or its `merchant_not_found`. */
  merchant(id: string): Promise<Merchant>;
}

const DAY_MS = 24 * 3600_000;
const RECENT = 20;

const minus = (a: string, b: string): string => (BigInt(a) - BigInt(b)).toString();

export function createMerchantOverview({ db, clock, merchant }: OverviewDeps) {
  return {
    async overview(merchantId: string): Promise<MerchantOverview> {
      const m = await merchant(merchantId);
      const since = clock.now().getTime() - 30 * DAY_MS;
      const [payments, refunds, terminals, disputes, riskCounts, recent] = await Promise.all([
        repo.payments(db, m.id, since),
        repo.refunds(db, m.id, since),
        repo.terminals(db, m.id),
        repo.disputes(db, m.id),
        repo.riskCounts(db, m.id, since),
        repo.recentRisk(db, m.id, RECENT),
      ]);
      const none: VolumeRow = { currency: '', count: 0, amount: '0', fees: '0', count30: 0, amount30: '0', fees30: '0' };
      const currencies = [...new Set([...payments, ...refunds].map((r) => r.currency))].sort().map((currency) => {
        const p = payments.find((r) => r.currency === currency) ?? none;
        const r = refunds.find((x) => x.currency === currency) ?? none;
        return {
          currency,
          allTime: { payments: { count: p.count, amount: p.amount }, refunds: { count: r.count, amount: r.amount }, fees: minus(p.fees, r.fees) },
          last30Days: { payments: { count: p.count30, amount: p.amount30 }, refunds: { count: r.count30, amount: r.amount30 }, fees: minus(p.fees30, r.fees30) },
        };
      });
      return {
        merchant: m,
        since,
        currencies,
        terminals,
        disputes,
        risk: { last30Days: riskCounts, recent: recent.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1)).slice(0, RECENT) },
      };
    },
  };
}

export type MerchantOverviewService = ReturnType<typeof createMerchantOverview>;
