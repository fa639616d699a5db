/**
 * Checkout: what a face payment or a pay-code payment needs of payments, members and marketing,
 * in the facepay module's words (its `Checkout` port), as a durable workflow (checkout/workflow.ts),
 * and the steps that follow a payment or a refund once the money has moved (the CRM entry,
 * coupons, the inbox receipt) as jobs in the database. It sits beside the composition root because
 * it is the one place that knows all four modules at once; none of them learns about the others
 * through it. This file is its one public entry.
 */
import { checkoutStepMigrations } from './checkout/migrations.ts';
import { snakeKeys } from './http/index.ts';
import type { NewEvent } from './merchants/index.ts';
import type { Migration } from './storage/index.ts';

export { createCheckout } from './checkout/workflow.ts';
export type { CheckoutDeps, CheckoutOptions, CheckoutPoint, CheckoutWorkflow, FollowUpLog, JobStep } from './checkout/workflow.ts';

// Payments made before payments recorded their method get it from their paid face-pay attempt: a
// pay code, or the face (whether the digits helped then was not kept, so "face" is all that is
// known to be true). Payments with no attempt (the API's test helpers) keep none. It touches both
// modules' tables, so it lives here, after both modules' migrations.
const backfillMethod = `UPDATE payment_intents SET payment_method = (
  SELECT MIN(a.method) FROM face_pay_attempts a WHERE a.intent_id = payment_intents.id AND a.state = 'paid'
) WHERE status = 'succeeded' AND payment_method IS NULL;`;

export const checkoutMigrations: Migration[] = [{ id: 'checkout/0001_payment_method_backfill', sqlite: backfillMethod, postgres: backfillMethod }, ...checkoutStepMigrations];

/** Member and marketing events as the webhook outbox keeps them: the API's object, in snake_case. */
export function crmEvent(e: { type: string; merchantId: string; objectId: string; data: object }): NewEvent {
  const object = e.type.slice(0, e.type.indexOf('.'));
  // The object's own id is `id`, as in every API object: `memberId` of a member event, `couponId` of a coupon's.
  const { [`${object}Id`]: _self, ...rest } = e.data as Record<string, unknown>;
  return { merchantId: e.merchantId, type: e.type, objectId: e.objectId, data: { object, id: e.objectId, ...(snakeKeys(rest) as Record<string, unknown>) } };
}
