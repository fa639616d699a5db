import type { Migration } from '../storage/index.ts';

const tables = `
CREATE TABLE shoppers (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  name TEXT NOT NULL,
  phone TEXT,
  created_at BIGINT NOT NULL,
  face_pay_enabled INTEGER NOT NULL DEFAULT 0,
  always_ask_digits INTEGER NOT NULL DEFAULT 0,
  per_payment_limit BIGINT,
  face_enrolled_at BIGINT
);
CREATE TABLE shopper_sessions (
  token_hash TEXT PRIMARY KEY,
  shopper_id TEXT NOT NULL REFERENCES shoppers(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX shopper_sessions_shopper ON shopper_sessions (shopper_id);
CREATE TABLE shopper_consents (
  id TEXT PRIMARY KEY,
  shopper_id TEXT NOT NULL REFERENCES shoppers(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  text_version TEXT NOT NULL,
  accepted_at BIGINT NOT NULL,
  withdrawn_at BIGINT
);
CREATE INDEX shopper_consents_shopper ON shopper_consents (shopper_id, kind);
CREATE TABLE shopper_pay_codes (
  code_hash TEXT PRIMARY KEY,
  shopper_id TEXT NOT NULL REFERENCES shoppers(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT
);
CREATE TABLE shopper_events (
  id TEXT PRIMARY KEY,
  shopper_id TEXT NOT NULL,
  type TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX shopper_events_shopper ON shopper_events (shopper_id, at);
`;

// Every enrolment answer, by its challenge: a challenge is answered once (the primary key decides,
// atomically), and the answers of the last hour bound how often a shopper may make the engine work.
const answers = `
CREATE TABLE shopper_enrolment_answers (
  challenge_id TEXT PRIMARY KEY,
  shopper_id TEXT NOT NULL REFERENCES shoppers(id) ON DELETE CASCADE,
  at BIGINT NOT NULL
);
CREATE INDEX shopper_enrolment_answers_shopper ON shopper_enrolment_answers (shopper_id, at);
`;

// The face-pay PIN the terminal asks for when the risk engine says so, hashed like a password.
const pin = `ALTER TABLE shoppers ADD COLUMN face_pay_pin_hash TEXT;`;

// An account deleted by its shopper keeps its row (the money records point at its id, which no
// longer leads to a person): the time it was closed, and nothing personal.
const closed = `ALTER TABLE shoppers ADD COLUMN deleted_at BIGINT;`;

export const shopperMigrations: Migration[] = [
  { id: 'shoppers/0001_accounts', sqlite: tables, postgres: tables },
  { id: 'shoppers/0002_enrolment_answers', sqlite: answers, postgres: answers },
  { id: 'shoppers/0003_face_pay_pin', sqlite: pin, postgres: pin },
  { id: 'shoppers/0004_deleted', sqlite: closed, postgres: closed },
];
