import type { Migration } from '../storage/index.ts';

// A top-up is an intent first: the wallet grows only when a rail confirms it, by the ledger
// transfer `funding:<intent id>`, whose id makes a second confirmation a no-op.
const tables = `
CREATE TABLE funding_intents (
  id TEXT PRIMARY KEY,
  request_ref TEXT NOT NULL UNIQUE,
  shopper_id TEXT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  rail TEXT,
  rail_ref TEXT,
  transfer_id TEXT,
  created_at BIGINT NOT NULL,
  confirmed_at BIGINT
);
CREATE INDEX funding_intents_shopper ON funding_intents (shopper_id, created_at);
CREATE UNIQUE INDEX funding_intents_rail_ref ON funding_intents (rail, rail_ref) WHERE rail_ref IS NOT NULL;
CREATE TABLE funding_references (
  shopper_id TEXT PRIMARY KEY,
  reference TEXT NOT NULL UNIQUE
);
`;

// One row per credit entry of an imported statement, keyed by the bank's own id of the entry
// (AcctSvcrRef, else statement id and entry number): importing a file again finds every row
// already there and credits nothing. An entry without a known reference waits as `unmatched`.
const statements = `
CREATE TABLE funding_bank_entries (
  entry_ref TEXT PRIMARY KEY,
  statement_id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  reference TEXT,
  status TEXT NOT NULL,
  intent_id TEXT,
  booked_on TEXT,
  imported_at BIGINT NOT NULL
);
CREATE INDEX funding_bank_entries_status ON funding_bank_entries (status);
`;

export const fundingMigrations: Migration[] = [
  { id: 'funding/0001_intents', sqlite: tables, postgres: tables },
  { id: 'funding/0002_bank_entries', sqlite: statements, postgres: statements },
];
