import type { Migration } from '../storage/index.ts';

// Both dialects take the same text: only portable types are used (TEXT, BIGINT epoch ms).
const tables = `
CREATE TABLE device_terminals (
  id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL,
  store_id TEXT NOT NULL,
  label TEXT NOT NULL,
  status TEXT NOT NULL,
  algorithm TEXT,
  public_key_spki TEXT,
  key_thumbprint TEXT UNIQUE,
  created_at BIGINT NOT NULL,
  activated_at BIGINT,
  revoked_at BIGINT,
  last_seen_at BIGINT
);
CREATE INDEX device_terminals_store ON device_terminals (merchant_id, store_id, created_at);
CREATE TABLE device_activation_codes (
  code_hash TEXT PRIMARY KEY,
  terminal_id TEXT NOT NULL REFERENCES device_terminals(id),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT
);
CREATE INDEX device_activation_codes_terminal ON device_activation_codes (terminal_id);
CREATE TABLE device_nonces (
  terminal_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (terminal_id, nonce)
);
CREATE INDEX device_nonces_expiry ON device_nonces (expires_at);
`;

/**
 * Codes were stored as a plain SHA-256 before 0002; they are now looked up by an HMAC, so an old row
 * can never match again. Rather than leave them pending and unreachable, every unused one is expired
 * (its time to live set to end at its creation): the merchant asks for a new code
 * (`POST /v1/terminals/{id}/activation_code`) for a terminal that was still waiting.
 */
const expireUnsaltedCodes = 'UPDATE device_activation_codes SET expires_at = created_at WHERE used_at IS NULL;';

export const deviceMigrations: Migration[] = [
  { id: 'devices/0001_terminals', sqlite: tables, postgres: tables },
  { id: 'devices/0002_hmac_activation_codes', sqlite: expireUnsaltedCodes, postgres: expireUnsaltedCodes },
];
