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

export const resetMigrations: Migration[] = [{ id: 'resets/0001_password_resets', sqlite: table('INTEGER'), postgres: table('BIGINT') }];
