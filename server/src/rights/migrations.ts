import type { Migration } from '../storage/index.ts';

// An account deletion is a workflow of steps, each repeatable: `step` names the next one to run,
// so a process that dies part-way leaves a row that any process resumes (the housekeeping worker,
// or the shopper asking again). `memberships` is written before the memberships are ended, so the
// coupons of each can still be voided after a crash between the two.
const deletions = `
CREATE TABLE rights_deletions (
  id TEXT PRIMARY KEY,
  shopper_id TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  step TEXT NOT NULL,
  memberships TEXT,
  requested_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  finished_at BIGINT,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);
CREATE INDEX rights_deletions_status ON rights_deletions (status, updated_at);
`;

// Who used a right and when (exports, deletions, retention notices and deletions): ids and codes
// only, never a personal field, so the trail may outlive the account it is about.
const audit = `
CREATE TABLE rights_audit (
  id TEXT PRIMARY KEY,
  shopper_id TEXT NOT NULL,
  action TEXT NOT NULL,
  at BIGINT NOT NULL,
  detail TEXT
);
CREATE INDEX rights_audit_shopper ON rights_audit (shopper_id, at);
`;

// The retention rule's notices: one per last use of the face, so a shopper who pays by face after
// the notice starts a new period and is told again only when that one nears its end.
const retention = `
CREATE TABLE rights_retention (
  shopper_id TEXT PRIMARY KEY,
  last_use_at BIGINT NOT NULL,
  noticed_at BIGINT NOT NULL,
  deleted_at BIGINT
);
`;

export const rightsMigrations: Migration[] = [
  { id: 'rights/0001_deletions', sqlite: deletions, postgres: deletions },
  { id: 'rights/0002_audit', sqlite: audit, postgres: audit },
  { id: 'rights/0003_retention', sqlite: retention, postgres: retention },
];
