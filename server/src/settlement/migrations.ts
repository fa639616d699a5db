import type { Migration } from '../storage/index.ts';

// A statement covers one merchant's live payable account (`merchant:<id>:<currency>`) over one
// local day, [period_start, period_end). Each transfer of that account (payouts excepted) lands in
// exactly one statement: settlement_items is keyed by the transfer id, so closing a day again, or
// two closers at once, cannot count a transfer twice. Amounts are signed minor units: + into the payable.
const statements = `
CREATE TABLE settlement_payout_accounts (
  merchant_id TEXT PRIMARY KEY,
  iban TEXT NOT NULL,
  bic TEXT,
  holder_name TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE settlement_statements (
  id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL,
  currency TEXT NOT NULL,
  account_id TEXT NOT NULL,
  day TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  period_start BIGINT NOT NULL,
  period_end BIGINT NOT NULL,
  gross BIGINT NOT NULL,
  discounts BIGINT NOT NULL,
  refunds BIGINT NOT NULL,
  fees BIGINT NOT NULL,
  adjustments BIGINT NOT NULL,
  carried_in BIGINT NOT NULL,
  net BIGINT NOT NULL,
  transfer_count INTEGER NOT NULL,
  status TEXT NOT NULL,
  carried_into TEXT,
  payout_item_id TEXT,
  closed_at BIGINT NOT NULL,
  UNIQUE (account_id, day)
);
CREATE INDEX settlement_statements_merchant ON settlement_statements (merchant_id, period_end);
CREATE INDEX settlement_statements_status ON settlement_statements (status, currency);
CREATE TABLE settlement_items (
  transfer_id TEXT PRIMARY KEY,
  statement_id TEXT NOT NULL,
  code TEXT NOT NULL,
  amount BIGINT NOT NULL
);
CREATE INDEX settlement_items_statement ON settlement_items (statement_id, transfer_id);
CREATE INDEX ledger_transfers_credit_time ON ledger_transfers (credit_account_id, created_at);
CREATE INDEX ledger_transfers_debit_time ON ledger_transfers (debit_account_id, created_at);
`;

// A withdrawal holds the shopper's money in the withdrawal-pending account from the moment it is
// asked for; request_ref (shopper id + Idempotency-Key) makes a retried request hold it once.
// A payout run is a workflow with a status column: `moving` (items claimed, money being moved to
// payout clearing item by item), `ready` (file written), then `sent` or `returned`. Claiming is one
// transaction, so an item is in at most one open run; every later step is idempotent, so a run
// that stopped half way is resumed by running it again.
const payouts = `
CREATE TABLE settlement_withdrawals (
  id TEXT PRIMARY KEY,
  request_ref TEXT NOT NULL UNIQUE,
  shopper_id TEXT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  iban TEXT NOT NULL,
  holder_name TEXT NOT NULL,
  status TEXT NOT NULL,
  payout_item_id TEXT,
  created_at BIGINT NOT NULL,
  decided_at BIGINT
);
CREATE INDEX settlement_withdrawals_shopper ON settlement_withdrawals (shopper_id, created_at);
CREATE INDEX settlement_withdrawals_status ON settlement_withdrawals (status, currency);
CREATE TABLE settlement_payout_runs (
  id TEXT PRIMARY KEY,
  request_ref TEXT NOT NULL UNIQUE,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  item_count INTEGER NOT NULL,
  total BIGINT NOT NULL,
  file TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE settlement_payout_items (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  party_id TEXT NOT NULL,
  source_account TEXT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  iban TEXT NOT NULL,
  bic TEXT,
  holder_name TEXT NOT NULL,
  status TEXT NOT NULL
);
CREATE INDEX settlement_payout_items_run ON settlement_payout_items (run_id, id);
`;

// A merchant's platform fee rates, set by the operator: rows are only ever added (the history is
// the audit trail), and the one in effect at a moment is the latest to start by then, of those the
// last set. request_ref (staff id + Idempotency-Key) makes a retried request add one row.
const feeRates = `
CREATE TABLE settlement_fee_rates (
  id TEXT PRIMARY KEY,
  request_ref TEXT NOT NULL UNIQUE,
  merchant_id TEXT NOT NULL,
  bps INTEGER NOT NULL CHECK (bps >= 0 AND bps <= 10000),
  effective_from TEXT NOT NULL,
  effective_at BIGINT NOT NULL,
  time_zone TEXT NOT NULL,
  set_by TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX settlement_fee_rates_merchant ON settlement_fee_rates (merchant_id, effective_at);
`;

export const settlementMigrations: Migration[] = [
  { id: 'settlement/0001_settle_statements', sqlite: statements, postgres: statements },
  { id: 'settlement/0002_settle_payouts', sqlite: payouts, postgres: payouts },
  { id: 'settlement/0003_fee_rates', sqlite: feeRates, postgres: feeRates },
];
