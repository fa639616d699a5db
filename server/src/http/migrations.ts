import type { Migration } from '../storage/index.ts';

const keys = `CREATE TABLE idempotency_keys (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  state TEXT NOT NULL,
  locked_until BIGINT NOT NULL,
  status_code INTEGER,
  body TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
`;

export const httpMigrations: Migration[] = [{ id: 'http/0001_idempotency_keys', sqlite: keys, postgres: keys }];
