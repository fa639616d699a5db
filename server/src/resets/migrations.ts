import type { Migration } from '../storage/index.ts';

// Only a SHA-256 of each reset token is kept: a copy of the table resets nobody's password.
const table = (bigint: string) => `
CREATE TABLE password_resets (
  token_hash TEXT PRIMARY KEY,
  account_kind TEXT NOT NULL CHECK (account_kind IN ('staff', 'shopper')),
  account_id TEXT NOT NULL,
  created_at ${bigint} NOT NULL,
  expires_at ${bigint} NOT NULL,
  used_at ${bigint}
);
CREATE INDEX password_resets_account ON password_resets (account_kind, account_id);
`;

// The operator's own staff reset their passwords too. SQLite cannot change a CHECK in place, so
// its table is rebuilt (nothing refers to it); PostgreSQL swaps the constraint.
const operatorSqlite = `CREATE TABLE password_resets_new (
  token_hash TEXT PRIMARY KEY,
  account_kind TEXT NOT NULL CHECK (account_kind IN ('staff', 'shopper', 'operator')),
  account_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
INSERT INTO password_resets_new SELECT token_hash, account_kind, account_id, created_at, expires_at, used_at FROM password_resets;
DROP TABLE password_resets;
ALTER TABLE password_resets_new RENAME TO password_resets;
CREATE INDEX password_resets_account ON password_resets (account_kind, account_id);`;
const operatorPostgres = `ALTER TABLE password_resets DROP CONSTRAINT password_resets_account_kind_check;
ALTER TABLE password_resets ADD CONSTRAINT password_resets_account_kind_check CHECK (account_kind IN ('staff', 'shopper', 'operator'));`;

export const resetMigrations: Migration[] = [
  { id: 'resets/0001_password_resets', sqlite: table('INTEGER'), postgres: table('BIGINT') },
  { id: 'resets/0002_operator_staff', sqlite: operatorSqlite, postgres: operatorPostgres },
];
