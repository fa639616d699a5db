import type { Migration } from '../storage/index.ts';

// An attempt holds who was recognised for one intent at one terminal, never the frames or the probe.
const sql = `
CREATE TABLE face_pay_attempts (
  id TEXT PRIMARY KEY,
  intent_id TEXT NOT NULL,
  merchant_id TEXT NOT NULL,
  store_id TEXT NOT NULL,
  terminal_id TEXT NOT NULL,
  method TEXT NOT NULL,
  challenge_id TEXT,
  challenge_kind TEXT,
  challenge_issued_at BIGINT,
  challenge_expires_at BIGINT,
  expires_at BIGINT NOT NULL,
  state TEXT NOT NULL,
  outcome TEXT,
  shopper_id TEXT,
  digits_tries_left INTEGER NOT NULL,
  coupon_id TEXT,
  payment_id TEXT UNIQUE,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX face_pay_attempts_intent ON face_pay_attempts (intent_id);
`;

// A challenge is answered once: the first capture stamps it, atomically, before any frame is analysed.
const used = `ALTER TABLE face_pay_attempts ADD COLUMN challenge_used_at BIGINT;`;

// One row per wrong second factor (phone digits, later the PIN) charged to a shopper: the
// lockout counts them across attempts and terminals, so new attempts do not bring new tries.
const failures = `
CREATE TABLE face_pay_failures (
  id TEXT PRIMARY KEY,
  shopper_id TEXT NOT NULL,
  attempt_id TEXT NOT NULL,
  terminal_id TEXT NOT NULL,
  factor TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX face_pay_failures_shopper ON face_pay_failures (shopper_id, at);
`;

// The risk engine's choice and its reasons (codes only) for each attempt, the most the attempt may
// charge once its factors passed, the PIN's tries, and each merchant's tightened rules.
const risk = `
ALTER TABLE face_pay_attempts ADD COLUMN risk_choice TEXT;
ALTER TABLE face_pay_attempts ADD COLUMN risk_reasons TEXT;
ALTER TABLE face_pay_attempts ADD COLUMN max_amount BIGINT;
ALTER TABLE face_pay_attempts ADD COLUMN pin_tries_left INTEGER NOT NULL DEFAULT 0;
CREATE INDEX face_pay_failures_terminal ON face_pay_failures (terminal_id, at);
CREATE INDEX face_pay_attempts_terminal ON face_pay_attempts (terminal_id, updated_at);
CREATE INDEX face_pay_attempts_shopper ON face_pay_attempts (shopper_id, merchant_id);
CREATE TABLE face_pay_risk_settings (
  merchant_id TEXT PRIMARY KEY,
  settings TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
`;
// The second factor that settled a match (the phone's last digits, later the PIN), so that the
// payment records how the shopper was identified.
const secondFactor = `ALTER TABLE face_pay_attempts ADD COLUMN second_factor TEXT;`;

// The shoppers an ambiguous decision said the face could be (a JSON array of shopper ids), so that
// wrong digits sent later on the attempt are charged to each of them.
const candidates = `ALTER TABLE face_pay_attempts ADD COLUMN candidates TEXT;`;

// When a shopper's wrong factors were cleared (an unlock with the password): kept for the record,
// no longer counted.
const cleared = `ALTER TABLE face_pay_failures ADD COLUMN cleared_at BIGINT;`;

export const facePayMigrations: Migration[] = [
  { id: 'facepay/0001_attempts', sqlite: sql, postgres: sql },
  { id: 'facepay/0002_challenge_used', sqlite: used, postgres: used },
  { id: 'facepay/0003_failures', sqlite: failures, postgres: failures },
  { id: 'facepay/0004_risk', sqlite: risk, postgres: risk },
  { id: 'facepay/0005_second_factor', sqlite: secondFactor, postgres: secondFactor },
  { id: 'facepay/0006_candidates', sqlite: candidates, postgres: candidates },
  { id: 'facepay/0007_failures_cleared', sqlite: cleared, postgres: cleared },
];
