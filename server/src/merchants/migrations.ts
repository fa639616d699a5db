import type { Migration } from '../storage/index.ts';

const core = `CREATE TABLE merchants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE stores (
  id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL REFERENCES merchants (id),
  name TEXT NOT NULL,
  metadata TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX stores_merchant ON stores (merchant_id, id);
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL REFERENCES merchants (id),
  name TEXT NOT NULL,
  mode TEXT NOT NULL,
  scopes TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  last4 TEXT NOT NULL,
  revoked_at BIGINT,
  created_at BIGINT NOT NULL
);
CREATE INDEX api_keys_merchant ON api_keys (merchant_id, id);
CREATE TABLE webhook_endpoints (
  id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL REFERENCES merchants (id),
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  events TEXT NOT NULL,
  disabled INTEGER NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_merchant ON webhook_endpoints (merchant_id, id);
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL,
  type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  data TEXT NOT NULL,
  dispatched INTEGER NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX events_merchant ON events (merchant_id, id);
CREATE INDEX events_object ON events (object_id, id);
CREATE INDEX events_undispatched ON events (id) WHERE dispatched = 0;
CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id),
  event_id TEXT NOT NULL REFERENCES events (id),
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at BIGINT,
  last_status_code INTEGER,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_merchant ON webhook_deliveries (merchant_id, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE TABLE webhook_attempts (
  id TEXT PRIMARY KEY,
  delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
  attempted_at BIGINT NOT NULL,
  status_code INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
`;

// Events carry the mode of what they are about; every event before this was live.
const eventModes = `ALTER TABLE events ADD COLUMN mode TEXT NOT NULL DEFAULT 'live' CHECK (mode IN ('test', 'live'));
DROP INDEX events_merchant;
CREATE INDEX events_merchant ON events (merchant_id, mode, id);`;

// Endpoints carry a mode too: test events go to test endpoints only, live to live. Every endpoint
// before this was made without one and is taken as live (it no longer receives test events).
const endpointModes = `ALTER TABLE webhook_endpoints ADD COLUMN mode TEXT NOT NULL DEFAULT 'live' CHECK (mode IN ('test', 'live'));
CREATE INDEX webhook_endpoints_mode ON webhook_endpoints (merchant_id, mode, id);`;

// The operator suspends a merchant (its keys, logins and terminals stop working) and reactivates it;
// every merchant before this was active.
const status = `ALTER TABLE merchants ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended'));
ALTER TABLE merchants ADD COLUMN status_changed_at BIGINT;`;

// The operator closes a suspended merchant for good: status 'closed', with who closed it and when.
// SQLite cannot change a column's CHECK, so the table is rebuilt; stores, keys and endpoints refer
// to it, and with foreign keys deferred to the commit the rows put back satisfy them again.
const closedSqlite = `PRAGMA defer_foreign_keys = ON;
CREATE TABLE merchants_before_closure AS SELECT id, name, created_at, status, status_changed_at FROM merchants;
DROP TABLE merchants;
CREATE TABLE merchants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
  status_changed_at BIGINT,
  closed_at BIGINT,
  closed_by TEXT
);
INSERT INTO merchants (id, name, created_at, status, status_changed_at) SELECT id, name, created_at, status, status_changed_at FROM merchants_before_closure;
DROP TABLE merchants_before_closure;`;
const closedPostgres = `ALTER TABLE merchants DROP CONSTRAINT merchants_status_check;
ALTER TABLE merchants ADD CONSTRAINT merchants_status_check CHECK (status IN ('active', 'suspended', 'closed'));
ALTER TABLE merchants ADD COLUMN closed_at BIGINT;
ALTER TABLE merchants ADD COLUMN closed_by TEXT;`;

export const merchantMigrations: Migration[] = [
  { id: 'merchants/0001_core', sqlite: core, postgres: core },
  { id: 'merchants/0002_event_modes', sqlite: eventModes, postgres: eventModes },
  { id: 'merchants/0003_endpoint_modes', sqlite: endpointModes, postgres: endpointModes },
  { id: 'merchants/0004_status', sqlite: status, postgres: status },
  { id: 'merchants/0005_closed', sqlite: closedSqlite, postgres: closedPostgres },
];
