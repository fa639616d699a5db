import type { Migration } from '../storage/index.ts';

// E-mails are unique across merchants: a sign-in names a person, and the person names the shop.
// Sessions are kept as SHA-256 hashes of their tokens, so a copy of the table signs nobody in.
const tables = `
CREATE TABLE staff_members (
  id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'cashier')),
  refund_limit BIGINT CHECK (refund_limit IS NULL OR refund_limit >= 0),
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX staff_members_merchant ON staff_members (merchant_id, id);
CREATE TABLE staff_sessions (
  token_hash TEXT PRIMARY KEY,
  staff_id TEXT NOT NULL REFERENCES staff_members (id),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);
`;

// An invitation to become a merchant's owner, sent by the operator: a single-use link mailed to
// the address, of which only a SHA-256 is kept. Accepting it makes the staff login; a newer
// invitation of the same merchant and address voids the older ones.
const invitations = `
CREATE TABLE staff_invitations (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  merchant_id TEXT NOT NULL,
  email TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'cashier')),
  invited_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  accepted_at BIGINT,
  voided_at BIGINT,
  staff_id TEXT
);
CREATE INDEX staff_invitations_merchant ON staff_invitations (merchant_id, created_at);
`;

export const staffMigrations: Migration[] = [
  { id: 'staff/0001_members_sessions', sqlite: tables, postgres: tables },
  { id: 'staff/0002_invitations', sqlite: invitations, postgres: invitations },
];
