import type { Migration } from '../storage/index.ts';

// The same text serves both dialects: only portable types, and a partial unique index (which
// SQLite and PostgreSQL both support) so that a shopper holds at most one live membership per
// merchant while left memberships stay as history.
const tables = `
CREATE TABLE member_programmes (
  merchant_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  benefits TEXT NOT NULL,
  fields TEXT NOT NULL,
  currency TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE members (
  id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL,
  shopper_id TEXT NOT NULL,
  joined_at BIGINT NOT NULL,
  left_at BIGINT,
  terminal_id TEXT,
  shared_fields TEXT NOT NULL,
  name TEXT,
  phone TEXT,
  birthday TEXT,
  gender TEXT,
  email TEXT,
  visits INTEGER NOT NULL DEFAULT 0,
  spend BIGINT NOT NULL DEFAULT 0,
  first_visit_at BIGINT,
  last_visit_at BIGINT
);
CREATE UNIQUE INDEX members_live ON members (merchant_id, shopper_id) WHERE left_at IS NULL;
CREATE INDEX members_merchant ON members (merchant_id, joined_at);
CREATE INDEX members_shopper ON members (shopper_id);
CREATE TABLE member_consents (
  id TEXT PRIMARY KEY,
  member_id TEXT NOT NULL REFERENCES members(id),
  merchant_id TEXT NOT NULL,
  shopper_id TEXT NOT NULL,
  fields TEXT NOT NULL,
  text_version TEXT NOT NULL,
  terminal_id TEXT,
  accepted_at BIGINT NOT NULL,
  withdrawn_at BIGINT
);
CREATE INDEX member_consents_member ON member_consents (member_id);
CREATE TABLE member_tags (
  member_id TEXT NOT NULL REFERENCES members(id),
  merchant_id TEXT NOT NULL,
  tag TEXT NOT NULL,
  PRIMARY KEY (member_id, tag)
);
CREATE INDEX member_tags_merchant ON member_tags (merchant_id, tag);
CREATE TABLE member_purchases (
  payment_id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL,
  member_id TEXT NOT NULL REFERENCES members(id),
  store_id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  refunded BIGINT NOT NULL DEFAULT 0,
  currency TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX member_purchases_member ON member_purchases (member_id, at);
CREATE INDEX member_purchases_merchant ON member_purchases (merchant_id, at);
CREATE TABLE member_refunds (
  refund_id TEXT PRIMARY KEY,
  payment_id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  at BIGINT NOT NULL
);
CREATE TABLE nonmember_payments (
  payment_id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL,
  day TEXT NOT NULL,
  amount BIGINT NOT NULL,
  refunded BIGINT NOT NULL DEFAULT 0,
  currency TEXT NOT NULL
);
CREATE INDEX nonmember_payments_day ON nonmember_payments (merchant_id, day);
`;

export const memberMigrations: Migration[] = [{ id: 'members/0001_membership', sqlite: tables, postgres: tables }];
