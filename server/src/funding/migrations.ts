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

// The service desk: one row per credit a desk user made against cash or a card, with the funding
// intent and ledger transfer it made; a reversal is a row of its own (one per credit) and an
// opposite ledger transfer, never an edit of the credit. `request_ref` is `<desk user>:<key>`.
const desk = `
CREATE TABLE funding_desk_credits (
  id TEXT PRIMARY KEY,
  request_ref TEXT NOT NULL UNIQUE,
  staff_id TEXT NOT NULL,
  shopper_id TEXT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  method TEXT NOT NULL CHECK (method IN ('cash', 'card')),
  intent_id TEXT NOT NULL,
  transfer_id TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX funding_desk_credits_staff ON funding_desk_credits (staff_id, created_at);
CREATE INDEX funding_desk_credits_created ON funding_desk_credits (created_at, id);
CREATE TABLE funding_desk_reversals (
  id TEXT PRIMARY KEY,
  credit_id TEXT NOT NULL UNIQUE,
  request_ref TEXT NOT NULL UNIQUE,
  staff_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  transfer_id TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
`;

// A card acquirer's webhook events, by the acquirer's event id: a replayed event is refused.
// The closing booked balance (CLBD) of each imported camt.053 statement, signed (a debit balance
// is negative): the reconciliation sets the latest against the float of the wallets.
const balances = `
CREATE TABLE funding_bank_balances (
  statement_id TEXT PRIMARY KEY,
  currency TEXT NOT NULL,
  closing_balance BIGINT NOT NULL,
  as_of TEXT NOT NULL,
  imported_at BIGINT NOT NULL
);
CREATE INDEX funding_bank_balances_currency ON funding_bank_balances (currency, as_of);
CREATE TABLE funding_card_events (
  event_id TEXT PRIMARY KEY,
  rail TEXT NOT NULL,
  type TEXT NOT NULL,
  intent_id TEXT,
  received_at BIGINT NOT NULL
);
`;

// An unmatched bank credit a person sent back to the payer: `returned`, with when and why.
const returns = `
ALTER TABLE funding_bank_entries ADD COLUMN returned_at BIGINT;
ALTER TABLE funding_bank_entries ADD COLUMN return_note TEXT;
`;
// Test money belongs to one merchant's test wallet (`wallet:test:<merchant>:<shopper>:<cur>`, the
// one its test payments spend): a test top-up names that merchant; a real one has none.
const testMerchant = `ALTER TABLE funding_intents ADD COLUMN merchant_id TEXT;`;

export const fundingMigrations: Migration[] = [
  { id: 'funding/0001_intents', sqlite: tables, postgres: tables },
  { id: 'funding/0002_bank_entries', sqlite: statements, postgres: statements },
  { id: 'funding/0003_desk_credits', sqlite: desk, postgres: desk },
  { id: 'funding/0004_desk_bank_balances', sqlite: balances, postgres: balances },
  { id: 'funding/0005_bank_entry_returns', sqlite: returns, postgres: returns },
  { id: 'funding/0006_test_merchant', sqlite: testMerchant, postgres: testMerchant },
];
