import type { Migration } from '../storage/index.ts';

// Rewards and audiences are small JSON documents kept as TEXT so both dialects read them alike;
// a coupon copies its campaign's reward so that editing a campaign never changes coupons held.
const tables = `
CREATE TABLE campaigns (
  id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  trigger_kind TEXT NOT NULL,
  audience TEXT NOT NULL,
  reward TEXT NOT NULL,
  currency TEXT NOT NULL,
  valid_from BIGINT NOT NULL,
  valid_to BIGINT NOT NULL,
  coupon_days INTEGER,
  max_discount BIGINT,
  max_coupons INTEGER,
  per_member_limit INTEGER NOT NULL,
  holdout_percent INTEGER NOT NULL,
  message_title TEXT,
  message_body TEXT,
  issued_count INTEGER NOT NULL DEFAULT 0,
  discount_used BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
CREATE INDEX campaigns_merchant ON campaigns (merchant_id, status);
CREATE TABLE campaign_exposures (
  campaign_id TEXT NOT NULL REFERENCES campaigns(id),
  member_id TEXT NOT NULL,
  grp TEXT NOT NULL,
  at BIGINT NOT NULL,
  PRIMARY KEY (campaign_id, member_id)
);
CREATE TABLE coupons (
  id TEXT PRIMARY KEY,
  campaign_id TEXT NOT NULL REFERENCES campaigns(id),
  merchant_id TEXT NOT NULL,
  member_id TEXT NOT NULL,
  reward TEXT NOT NULL,
  currency TEXT NOT NULL,
  valid_from BIGINT NOT NULL,
  valid_to BIGINT NOT NULL,
  status TEXT NOT NULL,
  issued_at BIGINT NOT NULL,
  source_payment_id TEXT,
  redeemed_payment_id TEXT,
  redeemed_at BIGINT
);
CREATE INDEX coupons_member ON coupons (merchant_id, member_id, status);
CREATE INDEX coupons_campaign ON coupons (campaign_id, member_id);
CREATE UNIQUE INDEX coupons_source ON coupons (campaign_id, source_payment_id);
CREATE TABLE redemptions (
  payment_id TEXT PRIMARY KEY,
  coupon_id TEXT NOT NULL REFERENCES coupons(id),
  campaign_id TEXT NOT NULL,
  merchant_id TEXT NOT NULL,
  member_id TEXT NOT NULL,
  discount BIGINT NOT NULL,
  basket_amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  at BIGINT NOT NULL,
  reversed_at BIGINT
);
CREATE INDEX redemptions_campaign ON redemptions (campaign_id);
CREATE TABLE inbox_items (
  id TEXT PRIMARY KEY,
  shopper_id TEXT NOT NULL,
  merchant_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  coupon_id TEXT,
  payment_id TEXT UNIQUE,
  amount BIGINT,
  currency TEXT,
  created_at BIGINT NOT NULL,
  read_at BIGINT
);
CREATE INDEX inbox_items_shopper ON inbox_items (shopper_id, created_at);
CREATE TABLE merchant_mutes (
  shopper_id TEXT NOT NULL,
  merchant_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  PRIMARY KEY (shopper_id, merchant_id)
);
CREATE TABLE marketing_messages (
  id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL,
  audience TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  sent_at BIGINT NOT NULL,
  recipients INTEGER NOT NULL,
  muted INTEGER NOT NULL
);
`;

// A receipt keeps what its coupon took off, so the inbox needs no payment looked up per item.
const receiptDiscounts = 'ALTER TABLE inbox_items ADD COLUMN discount BIGINT NOT NULL DEFAULT 0;';

export const marketingMigrations: Migration[] = [
  { id: 'marketing/0001_campaigns', sqlite: tables, postgres: tables },
  { id: 'marketing/0002_receipt_discounts', sqlite: receiptDiscounts, postgres: receiptDiscounts },
];
