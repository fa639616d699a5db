import type { Migration } from '../storage/index.ts';

// A checkout is a workflow with its state in the database, so that a crash at any point leaves
// something the next process can finish or undo. One table holds both kinds of row, keyed by
// (flow_id, step):
// - the checkout itself (step 'checkout', flow_id the payment intent): status started, then
//   coupon_reserved, then succeeded, failed or compensated; `token` is the fence of whoever runs it
//   and `due_at` the end of that one's lease, after which the recovery pass may take it over;
// - the follow-ups (crm_payment, inbox_receipt, welcome, coupon_release, crm_refund): durable
//   jobs, status pending until done or given up, `due_at` the time of the next try.
// `input` is the JSON a step needs to run again in another process.
const steps = `
CREATE TABLE checkout_steps (
  flow_id TEXT NOT NULL,
  step TEXT NOT NULL,
  status TEXT NOT NULL,
  input TEXT NOT NULL,
  token TEXT,
  due_at BIGINT NOT NULL,
  tries INTEGER NOT NULL,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (flow_id, step)
);
CREATE INDEX checkout_steps_due ON checkout_steps (status, due_at);
`;

export const checkoutStepMigrations: Migration[] = [{ id: 'checkout/0002_steps', sqlite: steps, postgres: steps }];
