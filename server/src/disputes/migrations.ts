import type { Migration } from '../storage/index.ts';

// One row per dispute and its history (numbered per dispute: several steps share a millisecond). The partial unique index is what keeps a payment to one
// open dispute however many taps arrive at once: the second insert does nothing, in both dialects.
const tables = `
CREATE TABLE disputes (
  id TEXT PRIMARY KEY,
  payment_intent_id TEXT NOT NULL,
  merchant_id TEXT NOT NULL,
  shopper_id TEXT NOT NULL,
  mode TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  method TEXT NOT NULL,
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  refund_id TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX disputes_one_open ON disputes (payment_intent_id) WHERE status = 'open';
CREATE INDEX disputes_payment ON disputes (payment_intent_id, id);
CREATE INDEX disputes_merchant ON disputes (merchant_id, mode, id);
CREATE INDEX disputes_shopper ON disputes (shopper_id, id);
CREATE TABLE dispute_events (
  id TEXT PRIMARY KEY,
  dispute_id TEXT NOT NULL REFERENCES disputes(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  at BIGINT NOT NULL,
  detail TEXT
);
CREATE UNIQUE INDEX dispute_events_order ON dispute_events (dispute_id, seq);
`;

export const disputeMigrations: Migration[] = [{ id: 'disputes/0001_disputes', sqlite: tables, postgres: tables }];
