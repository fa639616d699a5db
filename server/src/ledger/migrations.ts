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

// On PostgreSQL the balance changes of a batch are one call instead of one statement per account:
// the shared accounts (a merchant's, the fee account) are the rows every payment waits for, and
// each round trip made while holding them is a round trip every other payment waits too. The
// function updates in the order it is given, so the service's fixed lock order stands, and answers
// the 1-based position of the first account refused (0 when all were applied).
//
// The transfers' foreign keys go on PostgreSQL: each one took a KEY SHARE lock on the shared
// accounts, and concurrent share locks on rows that are updated on every payment cost a multixact
// each (a third of the throughput in bench:ledger). They add no safety there: a transfer is only
// written in the transaction that also updates both its accounts, which fails if one is missing.
const applyDeltas = `ALTER TABLE ledger_transfers DROP CONSTRAINT ledger_transfers_debit_account_id_fkey;
ALTER TABLE ledger_transfers DROP CONSTRAINT ledger_transfers_credit_account_id_fkey;
CREATE FUNCTION ledger_apply_deltas(ids TEXT[], currencies TEXT[], dpend BIGINT[], dpost BIGINT[], cpend BIGINT[], cpost BIGINT[])
RETURNS INTEGER LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1 .. array_length(ids, 1) LOOP
    UPDATE ledger_accounts SET
      debits_pending = debits_pending + dpend[i], debits_posted = debits_posted + dpost[i],
      credits_pending = credits_pending + cpend[i], credits_posted = credits_posted + cpost[i]
    WHERE id = ids[i] AND currency = currencies[i]
      AND ((flags & 1) = 0 OR debits_posted + dpost[i] + debits_pending + dpend[i] <= credits_posted + cpost[i])
      AND ((flags & 2) = 0 OR credits_posted + cpost[i] + credits_pending + cpend[i] <= debits_posted + dpost[i]);
    IF NOT FOUND THEN
      RETURN i;
    END IF;
  END LOOP;
  RETURN 0;
END $$;`;

// The same function with the bound: no account total past 2^53 - 1, so that every stored balance
// stays exact as a JavaScript number (the service tells this refusal apart and answers 422).
const bounded = `CREATE OR REPLACE FUNCTION ledger_apply_deltas(ids TEXT[], currencies TEXT[], dpend BIGINT[], dpost BIGINT[], cpend BIGINT[], cpost BIGINT[])
RETURNS INTEGER LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1 .. array_length(ids, 1) LOOP
    UPDATE ledger_accounts SET
      debits_pending = debits_pending + dpend[i], debits_posted = debits_posted + dpost[i],
      credits_pending = credits_pending + cpend[i], credits_posted = credits_posted + cpost[i]
    WHERE id = ids[i] AND currency = currencies[i]
      AND ((flags & 1) = 0 OR debits_posted + dpost[i] + debits_pending + dpend[i] <= credits_posted + cpost[i])
      AND ((flags & 2) = 0 OR credits_posted + cpost[i] + credits_pending + cpend[i] <= debits_posted + dpost[i])
      AND debits_posted + dpost[i] + debits_pending + dpend[i] <= 9007199254740991
      AND credits_posted + cpost[i] + credits_pending + cpend[i] <= 9007199254740991;
    IF NOT FOUND THEN
      RETURN i;
    END IF;
  END LOOP;
  RETURN 0;
END $$;`;

export const ledgerMigrations: Migration[] = [
  { id: 'ledger/0001_accounts_transfers', sqlite: accounts, postgres: accounts },
  { id: 'ledger/0002_apply_deltas', sqlite: '', postgres: applyDeltas },
  { id: 'ledger/0003_bounded_totals', sqlite: '', postgres: bounded },
];
