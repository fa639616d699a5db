/** Where a merchant's payouts go: a SEPA account, checked by its IBAN checksum when entered. */
export interface PayoutAccount {
  merchantId: string;
  iban: string;
  bic: string | null;
  holderName: string;
  updatedAt: number;
}

/**
 * `closed`: positive net, waiting for a payout run; `carried`: net not above zero, carried into the
 * merchant's next statement; `in_payout`: held by an open run; `paid`: that run was sent.
 * (`closing` exists only inside the closing transaction.)
 */
export type StatementStatus = 'closing' | 'closed' | 'carried' | 'in_payout' | 'paid';

/**
 * One merchant's day in one currency, in the merchant's time zone. Every figure is in minor units:
 * gross = list price of the day's payments, discounts = coupon discounts the merchant bore (so the
 * payment transfers sum to gross - discounts), refunds, fees = platform fees less fees given back
 * with refunds, adjustments = any other movement of the payable (corrections), carriedIn = an
 * earlier statement's net that was not above zero. net = gross - discounts - refunds - fees +
 * adjustments + carriedIn, and net - carriedIn is exactly the sum of the statement's transfers.
 */
export interface Statement {
  id: string;
  merchantId: string;
  currency: string;
  accountId: string;
  day: string;
  timeZone: string;
  periodStart: number;
  periodEnd: number;
  gross: number;
  discounts: number;
  refunds: number;
  fees: number;
  adjustments: number;
  carriedIn: number;
  net: number;
  transferCount: number;
  status: StatementStatus;
  carriedInto: string | null;
  payoutItemId: string | null;
  closedAt: number;
}

/** One transfer of a statement, signed from the payable's side (+ money in). */
export interface StatementLine {
  transferId: string;
  code: string;
  amount: number;
  createdAt: number;
}

export type WithdrawalStatus = 'pending' | 'approved' | 'rejected' | 'in_payout' | 'paid' | 'returned';

export interface Withdrawal {
  id: string;
  requestRef: string;
  shopperId: string;
  amount: number;
  currency: string;
  iban: string;
  holderName: string;
  status: WithdrawalStatus;
  payoutItemId: string | null;
  createdAt: number;
  decidedAt: number | null;
}

export type PayoutRunStatus = 'moving' | 'ready' | 'sent' | 'returned';

export interface PayoutRun {
  id: string;
  requestRef: string;
  currency: string;
  status: PayoutRunStatus;
  itemCount: number;
  total: number;
  createdAt: number;
  updatedAt: number;
}

/** One credit transfer of a run: a merchant (all its claimed statements together) or one withdrawal. */
export interface PayoutItem {
  id: string;
  runId: string;
  kind: 'merchant' | 'withdrawal';
  partyId: string;
  sourceAccount: string;
  amount: number;
  currency: string;
  iban: string;
  bic: string | null;
  holderName: string;
  status: 'claimed' | 'moved';
}

export interface SettlementConfig {
  /** The operator's own account the payouts are paid from (the debtor of the pain.001 file); null refuses payout runs. */
  debtor: { name: string; iban: string; bic: string | null } | null;
  /** A day closes only this long after it ended, so a payment committing at midnight is not missed. */
  closeGraceMs: number;
}
