import type { Migration } from '../storage/index.ts';

const core = `CREATE TABLE payment_intents (
  id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL,
  store_id TEXT NOT NULL,
  terminal_id TEXT,
  amount BIGINT NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  order_reference TEXT,
  description TEXT,
  metadata TEXT NOT NULL,
  shopper_id TEXT,
  platform_fee BIGINT,
  amount_refunded BIGINT NOT NULL DEFAULT 0,
  failure_code TEXT,
  failure_message TEXT,
  idempotency_key TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  CHECK (amount_refunded >= 0 AND amount_refunded <= amount)
);
CREATE UNIQUE INDEX payment_intents_idempotency ON payment_intents (merchant_id, idempotency_key);
CREATE INDEX payment_intents_merchant ON payment_intents (merchant_id, id);
CREATE TABLE refunds (
  id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL,
  payment_intent_id TEXT NOT NULL REFERENCES payment_intents (id),
  amount BIGINT NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  fee_refunded BIGINT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  metadata TEXT NOT NULL,
  idempotency_key TEXT,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX refunds_idempotency ON refunds (merchant_id, idempotency_key);
CREATE INDEX refunds_merchant ON refunds (merchant_id, id);
CREATE INDEX refunds_intent ON refunds (payment_intent_id, id);
CREATE TABLE shopper_daily_spend (
  shopper_id TEXT NOT NULL,
  currency TEXT NOT NULL,
  day TEXT NOT NULL,
  amount BIGINT NOT NULL,
  PRIMARY KEY (shopper_id, currency, day)
);
`;

// The shopper's own list in the portal, and the terminal's look for an intent the till created for it.
const lookups = `CREATE INDEX payment_intents_shopper ON payment_intents (shopper_id, id);
CREATE INDEX payment_intents_terminal ON payment_intents (terminal_id, status, id);`;

// A coupon pays part of a payment: the shopper's wallet gives amount - discount, and refunds are
// capped at that (the service checks it; the row keeps amount_refunded <= amount as before).
const discounts = `ALTER TABLE payment_intents ADD COLUMN discount BIGINT NOT NULL DEFAULT 0 CHECK (discount >= 0);
ALTER TABLE payment_intents ADD COLUMN coupon_id TEXT;`;

// Test and live apart: every row made before this was made as live money and stays live. The
// idempotency keys are per mode, so that a test key's key never finds a live intent. Refunds made
// by a cashier (a staff member with a refund limit) are marked, to add up against the limit.
const modes = `ALTER TABLE payment_intents ADD COLUMN mode TEXT NOT NULL DEFAULT 'live' CHECK (mode IN ('test', 'live'));
ALTER TABLE refunds ADD COLUMN mode TEXT NOT NULL DEFAULT 'live' CHECK (mode IN ('test', 'live'));
ALTER TABLE refunds ADD COLUMN staff_limited INTEGER NOT NULL DEFAULT 0;
DROP INDEX payment_intents_idempotency;
CREATE UNIQUE INDEX payment_intents_idempotency ON payment_intents (merchant_id, mode, idempotency_key);
DROP INDEX refunds_idempotency;
CREATE UNIQUE INDEX refunds_idempotency ON refunds (merchant_id, mode, idempotency_key);
DROP INDEX payment_intents_merchant;
CREATE INDEX payment_intents_merchant ON payment_intents (merchant_id, mode, id);
DROP INDEX refunds_merchant;
CREATE INDEX refunds_merchant ON refunds (merchant_id, mode, id);`;

// How the shopper was identified for each payment (face, face and digits, face and PIN, pay code),
// recorded by the checkout when the payment succeeds. Older payments are filled in from their
// face-pay attempts by the checkout's migration (`checkoutMigrations`), which runs after both modules'.
const method = `ALTER TABLE payment_intents ADD COLUMN payment_method TEXT;`;

export const paymentMigrations: Migration[] = [
  { id: 'payments/0001_intents_refunds', sqlite: core, postgres: core },
  { id: 'payments/0002_shopper_terminal_lookups', sqlite: lookups, postgres: lookups },
  { id: 'payments/0003_discounts', sqlite: discounts, postgres: discounts },
  { id: 'payments/0004_modes', sqlite: modes, postgres: modes },
  { id: 'payments/0005_payment_method', sqlite: method, postgres: method },
];
