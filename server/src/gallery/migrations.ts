import type { Migration } from '../storage/index.ts';

// Binary columns are the only dialect difference: BLOB on SQLite, BYTEA on PostgreSQL.
const tables = (bin: string): string => `
CREATE TABLE gallery_keys (
  id TEXT PRIMARY KEY,
  purpose TEXT NOT NULL,
  wrapped ${bin} NOT NULL,
  master_key_id TEXT NOT NULL,
  active INTEGER NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE gallery_counters (
  name TEXT PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO gallery_counters (name, value) VALUES ('template_key', 0);
INSERT INTO gallery_counters (name, value) VALUES ('event_seq', 0);
CREATE TABLE gallery_shoppers (
  shopper_id TEXT PRIMARY KEY,
  partition_id TEXT NOT NULL,
  phone_suffix_mac TEXT,
  always_ask INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX gallery_shoppers_suffix ON gallery_shoppers (partition_id, phone_suffix_mac);
CREATE TABLE gallery_templates (
  template_key BIGINT PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  shopper_id TEXT NOT NULL REFERENCES gallery_shoppers(shopper_id) ON DELETE CASCADE,
  partition_id TEXT NOT NULL,
  model_name TEXT NOT NULL,
  model_version TEXT NOT NULL,
  dim INTEGER NOT NULL,
  key_id TEXT NOT NULL REFERENCES gallery_keys(id),
  ciphertext ${bin} NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX gallery_templates_shopper ON gallery_templates (shopper_id, model_name, model_version);
CREATE INDEX gallery_templates_model ON gallery_templates (model_name, model_version, partition_id, template_key);
CREATE TABLE gallery_events (
  seq BIGINT PRIMARY KEY,
  kind TEXT NOT NULL,
  template_key BIGINT NOT NULL,
  partition_id TEXT NOT NULL,
  at BIGINT NOT NULL
);
`;

export const galleryMigrations: Migration[] = [
  { id: 'gallery/0001_templates', sqlite: tables('BLOB'), postgres: tables('BYTEA') },
  // A shopper may be enrolled in several partitions (their templates carry the partition), so the
  // narrowed search finds shoppers by their digits alone and then keeps the templates in scope.
  {
    id: 'gallery/0002_suffix_any_partition',
    sqlite: 'CREATE INDEX gallery_shoppers_mac ON gallery_shoppers (phone_suffix_mac);',
    postgres: 'CREATE INDEX gallery_shoppers_mac ON gallery_shoppers (phone_suffix_mac);',
  },
];
