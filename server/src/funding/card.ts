import { createHmac, timingSafeEqual } from 'node:crypto';
import { DomainError, type Clock } from '../platform/index.ts';
import type { Db } from '../storage/index.ts';
import * as repo from './repo.ts';
import type { FundingService } from './service.ts';
import type { FundingIntent } from './types.ts';

/**
 * What a card acquirer tells us, once its webhook is verified. `captured` means the money is
 * the operator's: only then does the wallet grow. Amounts are minor units.
 */
export interface CardEvent {
  /** The acquirer's id of the event: each is applied once, a second delivery is refused. */
  id: string;
  type: 'payment.captured' | 'payment.failed';
  /** The funding intent the payment was started for (sent to the acquirer as its order reference). */
  intentId: string;
  /** The acquirer's id of the payment: the rail reference of the top-up. */
  paymentRef: string;
  amount: number;
  currency: string;
}

/**
 * The port an acquirer adapter implements. It never touches the ledger: it starts a payment at
 * the acquirer and reads the acquirer's webhook body into a CardEvent. Verifying the signature,
 * refusing replays and crediting are the rail's (createCardRail), the same for every acquirer.
 */
export interface CardAcquirer {
  /** The rail name in the ledger (`funding:<rail>:<currency>`), such as `card`. */
  readonly rail: string;
  /** Starts collecting a pending intent's amount; answers where the shopper pays (a hosted page). */
  startPayment(intent: FundingIntent): Promise<{ paymentRef: string; redirectUrl: string }>;
  /** The event in a verified body; throws a DomainError (`card_event_invalid`) for a body it cannot read. */
  parseEvent(rawBody: Buffer): CardEvent;
}

/** How webhooks are signed: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, with a secret shared with the acquirer. */
export function signCardWebhook(secret: string, rawBody: Buffer, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.`).update(rawBody).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * Checks a webhook's signature header over the raw body (as received, before any JSON parsing)
 * and that its timestamp is within `toleranceMs` of now: an old signed body replayed later is
 * refused even before its event id is looked up. Several `v1=` values may be sent while a secret rotates.
 */
export function verifyCardWebhook(secret: string, rawBody: Buffer, header: string | undefined, nowMs: number, toleranceMs: number): void {
  if (!header) throw new DomainError('unauthorized', 'webhook_signature_missing', 'the webhook carries no signature header');
  const parts = header.split(',').map((p) => p.trim().split('=', 2) as [string, string | undefined]);
  const t = parts.find(([k]) => k === 't')?.[1];
  const sigs = parts.filter(([k, v]) => k === 'v1' && v !== undefined && /^[0-9a-f]{64}$/.test(v)).map(([, v]) => Buffer.from(v!, 'hex'));
  if (t === undefined || !/^\d{1,12}$/.test(t) || sigs.length === 0) throw new DomainError('unauthorized', 'webhook_signature_invalid', 'the signature header is malformed');
  const expected = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();
  if (!sigs.some((s) => timingSafeEqual(s, expected))) throw new DomainError('unauthorized', 'webhook_signature_invalid', 'the webhook signature does not match');
  if (Math.abs(nowMs - Number(t) * 1000) > toleranceMs) {
    throw new DomainError('unauthorized', 'webhook_timestamp_out_of_tolerance', 'the webhook was signed too long ago (or in the future)');
  }
}

export interface CardRailDeps {
  db: Db;
  clock: Clock;
  funding: FundingService;
  acquirer: CardAcquirer;
  /** The shared secret the acquirer signs webhooks with. */
  secret: string;
  /** How far a webhook's timestamp may be from now; 5 minutes unless said. */
  toleranceMs?: number;
}

/** The card rail: a shopper's pending top-up is paid at the acquirer and credited when its signed `payment.captured` webhook arrives. */
export function createCardRail({ db, clock, funding, acquirer, secret, toleranceMs = 300_000 }: CardRailDeps) {
  return {
    /** Sends a pending top-up to the acquirer; the shopper pays on the page it answers. */
    async start(intentId: string): Promise<{ paymentRef: string; redirectUrl: string }> {
      const i = await funding.getIntent(intentId);
      if (i.status !== 'pending') throw new DomainError('conflict', 'funding_intent_not_pending', 'this top-up is not waiting for payment');
      return acquirer.startPayment(i);
    },

    /**
     * Handles one webhook delivery: verified, then applied once. A captured payment confirms its
     * intent (amount and currency must be the intent's); a failed one is recorded and changes nothing.
     */
    async handleWebhook(rawBody: Buffer, signatureHeader: string | undefined): Promise<{ event: CardEvent; intent: FundingIntent | null }> {
      verifyCardWebhook(secret, rawBody, signatureHeader, clock.now().getTime(), toleranceMs);
      let event: CardEvent;
      try {
        event = acquirer.parseEvent(rawBody);
      } catch (e) {
        // A signed body the adapter cannot read is the acquirer's mistake, answered as such, never a 500.
        if (e instanceof DomainError) throw e;
        throw new DomainError('invalid', 'card_event_invalid', 'the webhook body is not an event this adapter reads');
      }
      if (!/^[\x21-\x7e]{1,200}$/.test(event.id) || !/^[\x21-\x7e]{1,200}$/.test(event.paymentRef)) {
        throw new DomainError('invalid', 'card_event_invalid', 'the event id and payment reference are 1 to 200 printable characters');
      }
      return db.transaction(async (x) => {
        if (!(await repo.insertCardEvent(x, { eventId: event.id, rail: acquirer.rail, type: event.type, intentId: event.intentId, at: clock.now().getTime() }))) {
          throw new DomainError('conflict', 'webhook_replayed', `event ${event.id} was received before`);
        }
        if (event.type !== 'payment.captured') return { event, intent: null };
        const i = await repo.intentById(x, event.intentId, true);
        if (!i) throw new DomainError('not_found', 'funding_intent_not_found', `no funding intent ${event.intentId}`);
        if (i.amount !== event.amount || i.currency !== event.currency) {
          throw new DomainError('unprocessable', 'card_amount_mismatch', `the acquirer captured ${event.amount} ${event.currency} for a top-up of ${i.amount} ${i.currency}`);
        }
        // The top-up was paid another way meanwhile (at the desk, say): the card money is still the
        // operator's, so it becomes a top-up of its own rather than vanishing into a confirmed intent.
        if (i.status === 'confirmed' && (i.rail !== acquirer.rail || i.railRef !== event.paymentRef)) {
          return { event, intent: await funding.receiveIn(x, { rail: acquirer.rail, railRef: event.paymentRef, shopperId: i.shopperId, amount: event.amount, currency: event.currency }) };
        }
        return { event, intent: await funding.confirmIn(x, i.id, acquirer.rail, event.paymentRef) };
      });
    },
  };
}

export type CardRail = ReturnType<typeof createCardRail>;
