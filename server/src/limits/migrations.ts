import type { Migration } from '../storage/index.ts';

// The platform limits an operator admin has set, one row per key (a key without a row is at the
// server's configured default), and every change with who made it and the value before and after.
const tables = `
CREATE TABLE platform_limits (
  limit_key TEXT PRIMARY KEY,
  value BIGINT NOT NULL CHECK (value > 0),
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL
);
CREATE TABLE platform_limit_changes (
  id TEXT PRIMARY KEY,
  limit_key TEXT NOT NULL,
  old_value BIGINT NOT NULL,
  new_value BIGINT NOT NULL CHECK (new_value > 0),
  changed_by TEXT NOT NULL,
  changed_at BIGINT NOT NULL
);
CREATE INDEX platform_limit_changes_at ON platform_limit_changes (changed_at);
`;

export const limitMigrations: Migration[] = [{ id: 'limits/0001_platform_limits', sqlite: tables, postgres: tables }];
