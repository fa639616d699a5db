import type { Migration } from '../storage/index.ts';

// The operator's own people, apart from any merchant's staff: service desk clerks who credit
// wallets against cash or a card, and admins who import bank statements and read the
// reconciliation. A desk user's caps are null when the server's FACEPAY_DESK_* caps apply.
// Sessions are kept as SHA-256 hashes of their tokens, as the merchant staff's are.
const tables = `
CREATE TABLE operator_staff (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('desk', 'admin')),
  credit_cap BIGINT CHECK (credit_cap IS NULL OR credit_cap > 0),
  daily_cap BIGINT CHECK (daily_cap IS NULL OR daily_cap > 0),
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE operator_sessions (
  token_hash TEXT PRIMARY KEY,
  staff_id TEXT NOT NULL REFERENCES operator_staff (id),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX operator_sessions_staff ON operator_sessions (staff_id);
`;

export const operatorMigrations: Migration[] = [{ id: 'operator/0001_desk_staff', sqlite: tables, postgres: tables }];
