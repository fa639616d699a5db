/**
 * Disputes: a shopper says "This wasn't me" about one of her payments. Opening one freezes her
 * face pay (for a face payment), tells the merchant (`dispute.created`, signed like every webhook)
 * and lets the merchant refund from it through the payments module; the operator lists them all.
 */
export { createDisputesService } from './service.ts';
export type { DisputesService, DisputesDeps, DisputePorts, DisputedPayment } from './service.ts';
export { DisputeRepo } from './repo.ts';
export { disputeMigrations } from './migrations.ts';
export { disputeResource, operatorResource, DISPUTE_STATUSES } from './types.ts';
export type { Dispute, DisputeEvent, DisputeStatus, PaymentMethod } from './types.ts';
