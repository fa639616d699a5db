import type { Mode } from '../payments/index.ts';
import { DomainError, isDomainError, type Clock, type IdGenerator } from '../platform/index.ts';
import type { SqlExecutor } from '../storage/index.ts';
import type { DisputeRepo } from './repo.ts';
import { disputeResource, type Dispute, type DisputeStatus, type PaymentMethod } from './types.ts';

/** A payment as disputes need it (from the payments module). */
export interface DisputedPayment {
  id: string;
  merchantId: string;
  mode: Mode;
  shopperId: string | null;
  status: string;
  /** What the shopper paid (amount less any coupon). */
  received: number;
  refunded: number;
  currency: string;
}

/** What the disputes module needs of the rest of the platform; the composition root provides it. */
export interface DisputePorts {
  /** One of the shopper's own payments; another's is `not_found`. */
  paymentOfShopper(shopperId: string, paymentIntentId: string): Promise<DisputedPayment>;
  /** A merchant's payment in a mode; another merchant's or mode's is `not_found`. */
  paymentOfMerchant(merchantId: string, paymentIntentId: string, mode: Mode): Promise<DisputedPayment>;
  /** How the payment was made at the terminal. */
  paymentMethod(paymentIntentId: string): Promise<PaymentMethod>;
  /**
   * Refunds through the payments module (its ledger rules, limits and idempotency). `amount`
   * undefined is what is left. Answers the refund's id and amount.
   */
  refund(
    merchantId: string,
    input: { paymentIntentId: string; amount: number | undefined; reason: string; metadata: Record<string, string> },
    opts: { idempotencyKey: string; mode: Mode; staffRefundLimit: number | null | undefined },
  ): Promise<{ id: string; amount: number }>;
  /** Switches the shopper's face pay off at once, as the lockout does; true when it was on. */
  freezeFacePay(shopperId: string): Promise<boolean>;
  /** A notice in the shopper's inbox, as from the merchant of the payment. */
  notify(input: { shopperId: string; merchantId: string; title: string; body: string; at: number }): Promise<void>;
  /** Writes a webhook event inside the caller's transaction (the outbox). */
  recordEvent(tx: SqlExecutor, e: { merchantId: string; mode: Mode; type: string; objectId: string; data: Record<string, unknown> }): Promise<unknown>;
  /** The merchant's name, for the shopper's notices. */
  merchantName(merchantId: string): Promise<string>;
}

export interface DisputesDeps {
  repo: DisputeRepo;
  ports: DisputePorts;
  clock: Clock;
  ids: IdGenerator;
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

const DEFAULT_REASON = 'not_made_by_shopper';
const REFUND_REASON = 'dispute: the shopper did not make this payment';

const notFound = (id: string): DomainError => new DomainError('not_found', 'dispute_not_found', `no dispute ${id}`);

/** An amount in the currency's own minor units (2 for EUR, 0 for JPY), as the receipts show it. */
function money(amount: number, currency: string): string {
  const format = new Intl.NumberFormat('en-GB', { style: 'currency', currency: currency.toUpperCase() });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amount / 10 ** digits);
}

function checkLimit(limit: number | undefined, fallback: number): number {
  const l = limit ?? fallback;
  if (!Number.isSafeInteger(l) || l < 1 || l > 100) throw new DomainError('invalid', 'limit_invalid', 'limit is 1 to 100');
  return l;
}

function checkStatus(s: string | undefined): DisputeStatus | undefined {
  if (s === undefined) return undefined;
  if (s !== 'open' && s !== 'refunded' && s !== 'closed') throw new DomainError('invalid', 'status_invalid', 'status is open, refunded or closed');
  return s;
}

function page(rows: Dispute[], limit: number): Page<Dispute> {
  const hasMore = rows.length > limit;
  const data = rows.slice(0, limit);
  return { data, hasMore, nextCursor: hasMore ? (data[data.length - 1]?.id ?? null) : null };
}

export function createDisputesService(deps: DisputesDeps) {
  const { repo, ports, clock, ids } = deps;

  /**
   * Opens the dispute, or answers the one already open (a double tap, a retry). The insert, its
   * history and the `dispute.created` webhook commit together.
   */
  async function open(p: DisputedPayment, shopperId: string, reason: string, frozen: boolean, method: PaymentMethod): Promise<{ dispute: Dispute; created: boolean }> {
    const now = clock.now().getTime();
    const id = ids.next('dp');
    const created = await repo.transaction(async (r, tx) => {
      const inserted = await r.insertOpen({
        id,
        paymentIntentId: p.id,
        merchantId: p.merchantId,
        shopperId,
        mode: p.mode,
        status: 'open',
        reason,
        method,
        amount: p.received,
        currency: p.currency,
        refundId: null,
        createdAt: now,
        updatedAt: now,
      });
      if (!inserted) return false;
      await r.insertEvent(ids.next('dpe'), id, { type: 'opened', at: now, detail: null });
      if (frozen) await r.insertEvent(ids.next('dpe'), id, { type: 'face_pay_frozen', at: now, detail: null });
      const d = (await r.get(id))!;
      await ports.recordEvent(tx, { merchantId: p.merchantId, mode: p.mode, type: 'dispute.created', objectId: id, data: disputeResource(d) });
      return true;
    });
    const d = created ? await repo.get(id) : await repo.openFor(p.id);
    // Settled between our insert attempt and this read: what the shopper sees is the latest.
    const latest = d ?? (await repo.forPayments([p.id]))[0];
    if (latest === undefined) throw new Error(`dispute of ${p.id} vanished`);
    return { dispute: latest, created };
  }

  function checkDisputable(p: DisputedPayment): void {
    if (p.status !== 'succeeded') throw new DomainError('conflict', 'payment_not_disputable', 'Only a payment that went through can be disputed.', { status: p.status });
  }

  const service = {
    /**
     * "This wasn't me": the shopper disputes one of her own payments. A face payment freezes her
     * face pay first, before anything else can fail, so that whoever paid with her face cannot
     * pay again. Idempotent: while the payment has a dispute open (or refunded) the same one is
     * answered, with `created: false`.
     */
    async openByShopper(shopperId: string, paymentIntentId: string, opts: { reason?: string } = {}): Promise<{ dispute: Dispute; created: boolean }> {
      const reason = opts.reason ?? DEFAULT_REASON;
      if (reason.length < 1 || reason.length > 500) throw new DomainError('invalid', 'reason_invalid', 'reason is 1 to 500 characters');
      const p = await ports.paymentOfShopper(shopperId, paymentIntentId);
      const earlier = (await repo.forPayments([p.id])).find((d) => d.status !== 'closed');
      if (!earlier) checkDisputable(p);
      const method = earlier?.method ?? (await ports.paymentMethod(p.id));
      // Frozen again on a repeat too: the first request may have failed after its dispute committed.
      const wasOn = method === 'face' ? await ports.freezeFacePay(shopperId) : false;
      let result: { dispute: Dispute; created: boolean };
      if (earlier) result = { dispute: earlier, created: false };
      else result = await open(p, shopperId, reason, method === 'face', method);
      if (!result.created && wasOn) {
        // She switched face pay on again and tapped once more: it is off again, and she is told why.
        await ports.notify({ shopperId, merchantId: p.merchantId, title: 'Face pay is frozen', body: 'Face pay is off again because you reported a payment as not yours. Switch it on in Face pay once you are sure.', at: clock.now().getTime() });
      }
      if (result.created) {
        const name = await ports.merchantName(p.merchantId).catch(() => 'the shop');
        const paid = `${money(p.received, p.currency)} at ${name || 'the shop'}`;
        await ports.notify(
          method === 'face'
            ? {
                shopperId,
                merchantId: p.merchantId,
                title: 'Face pay is frozen',
                body:
                  `You told us you did not make the payment of ${paid}, so face pay is off and nobody can pay with your face. ` +
                  'The shop has been told and can refund it. To unfreeze face pay, switch it on again in Face pay once you are sure; ' +
                  'if your face may have been copied, delete it and enrol again first.',
                at: clock.now().getTime(),
              }
            : {
                shopperId,
                merchantId: p.merchantId,
                title: 'We told the shop',
                body:
                  `You told us you did not make the payment of ${paid}. It was paid with a pay code, so face pay stays as it is; ` +
                  'change your password, since pay codes come from your account. The shop has been told and can refund it.',
                at: clock.now().getTime(),
              },
        );
      }
      return result;
    },

    /**
     * A test dispute on a test payment, as its test shopper would open it (the API's test helpers:
     * a merchant checks its `dispute.created` handling). Nothing is frozen: test shoppers have no account.
     */
    async openForTest(merchantId: string, paymentIntentId: string): Promise<{ dispute: Dispute; created: boolean }> {
      const p = await ports.paymentOfMerchant(merchantId, paymentIntentId, 'test');
      if (p.mode !== 'test' || p.shopperId === null) throw new DomainError('forbidden', 'test_mode_only', 'test disputes are opened on test payments only');
      const earlier = (await repo.forPayments([p.id])).find((d) => d.status !== 'closed');
      if (earlier) return { dispute: earlier, created: false };
      checkDisputable(p);
      return open(p, p.shopperId, DEFAULT_REASON, false, 'other');
    },

    async get(merchantId: string, id: string, opts: { mode: Mode }): Promise<Dispute> {
      const d = await repo.get(id);
      if (!d || d.merchantId !== merchantId || d.mode !== opts.mode) throw notFound(id);
      return d;
    },

    async list(
      merchantId: string,
      q: { mode: Mode; status?: string | undefined; paymentIntentId?: string | undefined; limit?: number | undefined; cursor?: string | undefined },
    ): Promise<Page<Dispute>> {
      const limit = checkLimit(q.limit, 10);
      return page(await repo.listForMerchant(merchantId, q.mode, { status: checkStatus(q.status), paymentIntentId: q.paymentIntentId }, q.cursor, limit + 1), limit);
    },

    /**
     * Refunds the disputed payment through the payments module and marks the dispute refunded.
     * The refund's idempotency key is the dispute's own, so a retry after a crash between the
     * two steps finds the same refund instead of moving money twice. Refunding a refunded
     * dispute answers it as it is.
     */
    async refund(merchantId: string, id: string, opts: { mode: Mode; amount?: number | undefined; staffRefundLimit?: number | null | undefined }): Promise<Dispute> {
      const d = await service.get(merchantId, id, { mode: opts.mode });
      if (d.status === 'refunded') return d;
      if (d.status === 'closed') throw new DomainError('conflict', 'dispute_closed', 'This dispute was closed without a refund; refund the payment itself instead.');
      let refundId: string | null;
      try {
        refundId = (
          await ports.refund(
            merchantId,
            { paymentIntentId: d.paymentIntentId, amount: opts.amount, reason: REFUND_REASON, metadata: { dispute: d.id } },
            { idempotencyKey: `dispute:${d.id}`, mode: d.mode, staffRefundLimit: opts.staffRefundLimit },
          )
        ).id;
      } catch (e) {
        // Already refunded in full by a plain refund: the money is back, which is what the dispute asked.
        if (!(isDomainError(e) && e.code === 'payment_intent_fully_refunded')) throw e;
        refundId = null;
      }
      await settle(d, 'refunded', refundId, refundId);
      return (await repo.get(id))!;
    },

    /** The merchant closes the dispute without a refund (it was the shopper after all, say); the shopper is told. */
    async close(merchantId: string, id: string, opts: { mode: Mode; note?: string | undefined }): Promise<Dispute> {
      const note = opts.note ?? null;
      if (note !== null && (note.length < 1 || note.length > 500)) throw new DomainError('invalid', 'note_invalid', 'note is 1 to 500 characters');
      const d = await service.get(merchantId, id, { mode: opts.mode });
      if (d.status === 'closed') return d;
      if (d.status === 'refunded') throw new DomainError('conflict', 'dispute_refunded', 'This dispute was refunded already.');
      if (await settle(d, 'closed', null, note)) {
        const name = await ports.merchantName(merchantId).catch(() => 'The shop');
        if (d.mode === 'live') {
          await ports.notify({
            shopperId: d.shopperId,
            merchantId,
            title: 'Your dispute was closed',
            body: `${name || 'The shop'} closed your dispute of ${money(d.amount, d.currency)} without a refund${note ? `: "${note}"` : ''}. Contact the shop if you still did not make it.`,
            at: clock.now().getTime(),
          });
        }
      }
      return (await repo.get(id))!;
    },

    /** The shopper's own disputes, newest first. */
    listForShopper(shopperId: string): Promise<Dispute[]> {
      return repo.listForShopper(shopperId, 100);
    },

    /** For each of the shopper's payments given: how it was paid and its latest dispute (the portal's receipts). */
    async paymentFacts(shopperId: string, paymentIntentIds: readonly string[]): Promise<Map<string, { method: PaymentMethod; dispute: Dispute | null }>> {
      const unique = [...new Set(paymentIntentIds)];
      const disputes = (await repo.forPayments(unique)).filter((d) => d.shopperId === shopperId);
      const out = new Map<string, { method: PaymentMethod; dispute: Dispute | null }>();
      for (const id of unique) {
        const dispute = disputes.find((d) => d.paymentIntentId === id) ?? null;
        out.set(id, { method: dispute?.method ?? (await ports.paymentMethod(id)), dispute });
      }
      return out;
    },

    /** Every dispute of every merchant (the operator's admin command), newest first. */
    async listAll(q: { status?: string | undefined; limit?: number | undefined; cursor?: string | undefined } = {}): Promise<Page<Dispute>> {
      const limit = checkLimit(q.limit, 100);
      return page(await repo.listAll(checkStatus(q.status), q.cursor, limit + 1), limit);
    },
  };

  /** Moves an open dispute to its end state with its history and the `dispute.updated` webhook, in one transaction. */
  async function settle(d: Dispute, status: 'refunded' | 'closed', refundId: string | null, detail: string | null): Promise<boolean> {
    const now = clock.now().getTime();
    return repo.transaction(async (r, tx) => {
      if (!(await r.settle(d.id, status, refundId, now))) return false;
      await r.insertEvent(ids.next('dpe'), d.id, { type: status, at: now, detail });
      await ports.recordEvent(tx, { merchantId: d.merchantId, mode: d.mode, type: 'dispute.updated', objectId: d.id, data: disputeResource((await r.get(d.id))!) });
      return true;
    });
  }

  return service;
}

export type DisputesService = ReturnType<typeof createDisputesService>;
