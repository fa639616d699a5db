import type { Migration } from '../storage/index.ts';

// The outbox: a message is written in the transaction of the change that causes it, and sent by
// the worker afterwards, so a rolled-back change sends nothing and a crash loses nothing.
const outbox = (bigint: string) => `
CREATE TABLE mail_outbox (
  id TEXT PRIMARY KEY,
  to_address TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at ${bigint} NOT NULL,
  last_error TEXT,
  created_at ${bigint} NOT NULL,
  sent_at ${bigint}
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status = 'pending';
`;

export const mailMigrations: Migration[] = [{ id: 'mail/0001_outbox', sqlite: outbox('INTEGER'), postgres: outbox('BIGINT') }];
