/**
 * The reads behind the operator's merchant overview: set-based and read-only over other modules'
 * tables (payments, refunds, terminals, disputes, face-pay attempts and wrong factors), as the
 * settlement and reconciliation reads are. Sums come back as text so that no total is rounded
 * through a float on its way out of the database.
 */
import type { SqlExecutor } from '../storage/index.ts';

const int = (v: unknown): number => Number(v ?? 0);
const text = (v: unknown): string => (v === null || v === undefined ? '0' : String(v));

export interface VolumeRow {
  currency: string;
  count: number;
  amount: string;
  fees: string;
  count30: number;
  amount30: string;
  fees30: string;
}

export interface RiskRow {
  id: string;
  at: number;
  kind: 'step_up' | 'refused' | 'wrong_factor' | 'dispute';
  code: string;
  reasons: string[];
  terminalId: string | null;
}

export const overviewRepo = {
  /** Succeeded live payments by currency, all time and since `since`: count, list-price sum, platform fees charged. */
  async payments(x: SqlExecutor, merchantId: string, since: number): Promise<VolumeRow[]> {
    const rows = await x.query(
      `SELECT currency, COUNT(*) AS n, CAST(SUM(amount) AS TEXT) AS total, CAST(SUM(COALESCE(platform_fee, 0)) AS TEXT) AS fees,
         SUM(CASE WHEN created_at >= $2 THEN 1 ELSE 0 END) AS n30,
         CAST(SUM(CASE WHEN created_at >= $2 THEN amount ELSE 0 END) AS TEXT) AS total30,
         CAST(SUM(CASE WHEN created_at >= $2 THEN COALESCE(platform_fee, 0) ELSE 0 END) AS TEXT) AS fees30
       FROM payment_intents WHERE merchant_id = $1 AND mode = 'live' AND status = 'succeeded' GROUP BY currency ORDER BY currency`,
      [merchantId, since],
    );
    return rows.map(volume);
  },
  /** Live refunds by currency, all time and since `since`: count, sum, platform fees given back. */
  async refunds(x: SqlExecutor, merchantId: string, since: number): Promise<VolumeRow[]> {
    const rows = await x.query(
      `SELECT currency, COUNT(*) AS n, CAST(SUM(amount) AS TEXT) AS total, CAST(SUM(fee_refunded) AS TEXT) AS fees,
         SUM(CASE WHEN created_at >= $2 THEN 1 ELSE 0 END) AS n30,
         CAST(SUM(CASE WHEN created_at >= $2 THEN amount ELSE 0 END) AS TEXT) AS total30,
         CAST(SUM(CASE WHEN created_at >= $2 THEN fee_refunded ELSE 0 END) AS TEXT) AS fees30
       FROM refunds WHERE merchant_id = $1 AND mode = 'live' GROUP BY currency ORDER BY currency`,
      [merchantId, since],
    );
    return rows.map(volume);
  },
  async terminals(x: SqlExecutor, merchantId: string): Promise<{ active: number; pending: number; revoked: number; lastSeenAt: number | null }> {
    const [r] = await x.query(
      `SELECT SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END) AS active, SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending,
         SUM(CASE WHEN status = 'revoked' THEN 1 ELSE 0 END) AS revoked, MAX(last_seen_at) AS seen
       FROM device_terminals WHERE merchant_id = $1`,
      [merchantId],
    );
    return { active: int(r?.active), pending: int(r?.pending), revoked: int(r?.revoked), lastSeenAt: r?.seen === null || r?.seen === undefined ? null : Number(r.seen) };
  },
  /** Live disputes ("This wasn't me"): open now, and all. */
  async disputes(x: SqlExecutor, merchantId: string): Promise<{ open: number; total: number }> {
    const [r] = await x.query(
      `SELECT SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END) AS open, COUNT(*) AS total FROM disputes WHERE merchant_id = $1 AND mode = 'live'`,
      [merchantId],
    );
    return { open: int(r?.open), total: int(r?.total) };
  },
  /** Since `since`: face payments the risk engine sent to a second factor, attempts refused, wrong digits or PINs at its terminals, disputes opened. */
  async riskCounts(x: SqlExecutor, merchantId: string, since: number): Promise<{ stepUps: number; refusals: number; wrongFactors: number; disputes: number }> {
    const [a] = await x.query(
      `SELECT SUM(CASE WHEN risk_choice IN ('face_digits', 'face_pin', 'no_face') THEN 1 ELSE 0 END) AS step_ups,
         SUM(CASE WHEN state = 'refused' THEN 1 ELSE 0 END) AS refusals
       FROM face_pay_attempts WHERE merchant_id = $1 AND created_at >= $2`,
      [merchantId, since],
    );
    const [f] = await x.query(
      `SELECT COUNT(*) AS n FROM face_pay_failures f JOIN device_terminals t ON t.id = f.terminal_id WHERE t.merchant_id = $1 AND f.at >= $2`,
      [merchantId, since],
    );
    const [d] = await x.query(`SELECT COUNT(*) AS n FROM disputes WHERE merchant_id = $1 AND mode = 'live' AND created_at >= $2`, [merchantId, since]);
    return { stepUps: int(a?.step_ups), refusals: int(a?.refusals), wrongFactors: int(f?.n), disputes: int(d?.n) };
  },
  /** The newest risk events of each kind, at most `limit` of each, newest first. */
  async recentRisk(x: SqlExecutor, merchantId: string, limit: number): Promise<RiskRow[]> {
    const attempts = await x.query<{ id: string; at: unknown; state: string; outcome: string | null; risk_choice: string | null; risk_reasons: string | null; terminal_id: string }>(
      `SELECT id, updated_at AS at, state, outcome, risk_choice, risk_reasons, terminal_id FROM face_pay_attempts
       WHERE merchant_id = $1 AND (state = 'refused' OR risk_choice IN ('face_digits', 'face_pin', 'no_face')) ORDER BY updated_at DESC, id DESC LIMIT $2`,
      [merchantId, limit],
    );
    const failures = await x.query<{ id: string; at: unknown; factor: string; terminal_id: string }>(
      `SELECT f.id, f.at, f.factor, f.terminal_id FROM face_pay_failures f JOIN device_terminals t ON t.id = f.terminal_id
       WHERE t.merchant_id = $1 ORDER BY f.at DESC, f.id DESC LIMIT $2`,
      [merchantId, limit],
    );
    const disputes = await x.query<{ id: string; at: unknown; reason: string; status: string }>(
      `SELECT id, created_at AS at, reason, status FROM disputes WHERE merchant_id = $1 AND mode = 'live' ORDER BY created_at DESC, id DESC LIMIT $2`,
      [merchantId, limit],
    );
    return [
      ...attempts.map((r): RiskRow => ({
        id: r.id,
        at: Number(r.at),
        kind: r.state === 'refused' ? 'refused' : 'step_up',
        code: (r.state === 'refused' ? r.outcome : r.risk_choice) ?? r.state,
        reasons: r.risk_reasons ? (JSON.parse(r.risk_reasons) as string[]) : [],
        terminalId: r.terminal_id,
      })),
      ...failures.map((r): RiskRow => ({ id: r.id, at: Number(r.at), kind: 'wrong_factor', code: r.factor, reasons: [], terminalId: r.terminal_id })),
      ...disputes.map((r): RiskRow => ({ id: r.id, at: Number(r.at), kind: 'dispute', code: r.status, reasons: [r.reason], terminalId: null })),
    ];
  },
};

function volume(r: Record<string, unknown>): VolumeRow {
  return {
    currency: String(r.currency),
    count: int(r.n),
    amount: text(r.total),
    fees: text(r.fees),
    count30: int(r.n30),
    amount30: text(r.total30),
    fees30: text(r.fees30),
  };
}
