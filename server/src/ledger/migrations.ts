import type { Migration } from '../storage/index.ts';

// Flag bits: 1 = debits must not exceed credits (a wallet: never negative), 2 = the reverse.
// The CHECK constraints repeat the service's guard so that no code path can break the rule.
const accounts = `CREATE TABLE ledger_accounts (
  id TEXT PRIMARY KEY,
  currency TEXT NOT NULL,
  code TEXT NOT NULL,
  flags INTEGER NOT NULL,
  debits_pending BIGINT NOT NULL DEFAULT 0,
  debits_posted BIGINT NOT NULL DEFAULT 0,
  credits_pending BIGINT NOT NULL DEFAULT 0,
  credits_posted BIGINT NOT NULL DEFAULT 0,
  metadata TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  CHECK ((flags & 1) = 0 OR debits_posted + debits_pending <= credits_posted),
  CHECK ((flags & 2) = 0 OR credits_posted + credits_pending <= debits_posted),
  CHECK (debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 AND credits_posted >= 0)
);
CREATE TABLE ledger_transfers (
  id TEXT PRIMARY KEY,
  debit_account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
  credit_account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
  amount BIGINT NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  code TEXT NOT NULL,
  kind TEXT NOT NULL,
  pending_id TEXT,
  timeout_at BIGINT,
  metadata TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ledger_transfers_resolution ON ledger_transfers (pending_id) WHERE pending_id IS NOT NULL;
CREATE INDEX ledger_transfers_debit ON ledger_transfers (debit_account_id, id);
CREATE INDEX ledger_transfers_credit ON ledger_transfers (credit_account_id, id);
CREATE INDEX ledger_transfers_timeouts ON ledger_transfers (timeout_at) WHERE kind = 'pending';
`;

export const ledgerMigrations: Migration[] = [{ id: 'ledger/0001_accounts_transfers', sqlite: accounts, postgres: accounts }];
