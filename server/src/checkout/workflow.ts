/**
 * Checkout as a durable workflow: what a face payment or a pay-code payment needs of payments,
 * members and marketing (facepay's `Checkout` port), with its steps and its follow-ups kept in
 * `checkout_steps` so that a crash at any point is finished or undone by the next process.
 *
 * The steps of a payment: join the programme (if asked), claim the checkout (a row per intent with
 * a fence token and a lease), reserve the coupon, confirm the payment. Inside the payment's own
 * transaction the fence is checked and the follow-ups (the CRM entry, the inbox receipt) are
 * enqueued, so a payment never commits without them and never commits for a checkout that the
 * recovery pass has taken over. A final no enqueues the coupon's release in the same transaction
 * that marks the checkout failed. Every step is idempotent: the coupon's redemption on the intent,
 * the payment on its idempotency key, each job on its (flow, step) key, the receipt on the payment.
 *
 * The recovery pass (`recover`, at start and from the housekeeping worker) takes every checkout
 * still under way whose lease has run out: if its payment succeeded, the follow-ups are enqueued
 * and run; if not, the checkout is compensated (its coupon goes back to the shopper). It cannot
 * finish an unpaid one: the pay code's use and the risk engine's bound belong to the request.
 */
import type { Checkout } from '../facepay/index.ts';
import { bestCoupon, type MarketingService } from '../marketing/index.ts';
import type { MembersService } from '../members/index.ts';
import type { MerchantService } from '../merchants/index.ts';
import type { Mode, PaymentIntent, PaymentService, RefundListener } from '../payments/index.ts';
import { DomainError, isDomainError, type Clock, type IdGenerator } from '../platform/index.ts';
import type { ShopperService } from '../shoppers/index.ts';
import type { Db, SqlExecutor } from '../storage/index.ts';
import { CheckoutRepo, type FlowStatus } from './repo.ts';

/** Where the workflow reports what it cannot hand to a caller (the app's logger, bound late). */
export interface FollowUpLog {
  error(obj: Record<string, unknown>, msg: string): void;
}

/**
 * The step boundaries, in order, at which a test may stop the process (see `CheckoutDeps.at`):
 * after joining, after the claim, after the coupon's reservation, inside the payment's
 * transaction (a throw there rolls the payment back), after the commit, and after each job ran
 * but before it was marked done.
 */
export type CheckoutPoint = 'joined' | 'claimed' | 'coupon_reserved' | 'paying' | 'paid' | `${JobStep}_ran`;

export type JobStep = 'crm_payment' | 'inbox_receipt' | 'welcome' | 'coupon_release' | 'crm_refund';

export interface CheckoutOptions {
  /** Tries of a follow-up before it is given up, loudly. */
  maxTries?: number;
  /** The wait before the second try; it doubles with each further try. */
  delayMs?: number;
  /** How long a checkout or a running job is its runner's before the recovery pass may take it over. */
  leaseMs?: number;
}

export interface CheckoutDeps {
  db: Db;
  payments: PaymentService;
  members: MembersService;
  marketing: MarketingService;
  shoppers: ShopperService;
  merchants: Pick<MerchantService, 'getMerchant'>;
  clock: Clock;
  ids: IdGenerator;
  log: FollowUpLog;
  options?: CheckoutOptions;
  /** Tests only: called at each step boundary; a throw there stands in for the process dying. */
  at?: (point: CheckoutPoint, key: string) => void | Promise<void>;
}

export interface CheckoutWorkflow {
  /** The port facepay pays through. */
  checkout: Checkout;
  /** After each refund: the member's history and, on a full refund, the coupon comes back. */
  onRefund: RefundListener;
  /** An intent was cancelled: the coupon reserved for it goes back to the shopper. */
  onCancel(pi: PaymentIntent): Promise<void>;
  /** Finishes or compensates checkouts whose runner stopped; answers how many it took over. */
  recover(): Promise<number>;
  /** Runs the follow-ups that are due; answers how many it ran. */
  retryDue(): Promise<number>;
  /** Follow-ups not yet done and checkouts still under way. */
  pending(): Promise<number>;
}

/** What a checkout's steps need in another process, kept as the row's input. */
interface FlowInput {
  merchantId: string;
  storeId: string;
  terminalId: string | null;
  shopperId: string;
  paymentKey: string;
  couponId: string | null;
}

interface JobInputs {
  crm_payment: { merchantId: string; intentId: string; shopperId: string };
  inbox_receipt: { merchantId: string; intentId: string; shopperId: string };
  welcome: { merchantId: string; memberId: string };
  coupon_release: { merchantId: string; intentId: string; mode: Mode };
  crm_refund: { merchantId: string; intentId: string; refundId: string; amount: number; fullyRefunded: boolean; at: number };
}

/** Whether an error is the kind a retry may cure (the caller retries), not an answer about this payment. */
const transient = (e: unknown): boolean => !isDomainError(e) || e.kind === 'unavailable' || e.kind === 'busy';

const BATCH = 100;

export function createCheckout(deps: CheckoutDeps): CheckoutWorkflow {
  const { db, payments, members, marketing, shoppers, merchants, clock, ids, log } = deps;
  const repo = new CheckoutRepo(db);
  const maxTries = deps.options?.maxTries ?? 5;
  const delayMs = deps.options?.delayMs ?? 5_000;
  const leaseMs = deps.options?.leaseMs ?? 30_000;
  const at = async (point: CheckoutPoint, key: string): Promise<void> => {
    await deps.at?.(point, key);
  };
  const now = (): number => clock.now().getTime();

  const handlers: { [S in JobStep]: (input: JobInputs[S]) => Promise<unknown> } = {
    async crm_payment({ merchantId, intentId, shopperId }) {
      const pi = await payments.getIntent(merchantId, intentId);
      const { memberId } = await members.recordPayment({
        merchantId,
        shopperId,
        paymentId: pi.id,
        storeId: pi.storeId,
        amount: pi.amount - pi.discount,
        currency: pi.currency.toUpperCase(),
        at: pi.updatedAt,
      });
      if (memberId !== null) await marketing.onPayment(merchantId, memberId, { paymentId: pi.id, at: pi.updatedAt });
    },
    async inbox_receipt({ merchantId, intentId, shopperId }) {
      const pi = await payments.getIntent(merchantId, intentId);
      const merchant = await merchants.getMerchant(merchantId);
      const paid = pi.amount - pi.discount;
      await marketing.addReceipt({ shopperId, merchantId, merchantName: merchant.name, paymentId: pi.id, amount: paid, currency: pi.currency.toUpperCase(), discount: pi.discount, at: pi.updatedAt });
    },
    welcome: ({ merchantId, memberId }) => marketing.onJoined(merchantId, memberId),
    async coupon_release({ merchantId, intentId, mode }) {
      // Never for a payment that went through: its coupon stays used (a full refund gives it back).
      const pi = await payments.getIntent(merchantId, intentId, { mode }).catch((e: unknown) => (isDomainError(e) && e.code === 'payment_intent_not_found' ? undefined : Promise.reject(e)));
      if (pi?.status === 'succeeded') return;
      await marketing.releaseRedemption(merchantId, intentId);
    },
    async crm_refund({ merchantId, intentId, refundId, amount, fullyRefunded, at: when }) {
      await members
        .recordRefund({ merchantId, paymentId: intentId, refundId, amount, at: when })
        // Payments made outside the terminal (the API's test helpers) were never in the CRM.
        .catch((e: unknown) => (isDomainError(e) && e.code === 'payment_not_found' ? undefined : Promise.reject(e)));
      await marketing.onRefund({ merchantId, paymentId: intentId, fullyRefunded, at: when });
    },
  };

  /**
   * Runs one job if it is due and nobody else runs it. A failure is logged and the job is due
   * again after a backoff, until the last try, when it is given up loudly.
   */
  async function runJob(flowId: string, step: JobStep): Promise<boolean> {
    const token = ids.next('job');
    const t = now();
    const row = await repo.claimJob(flowId, step, token, t + leaseMs, t);
    if (!row) return false;
    let failure: unknown;
    let failed = false;
    try {
      await (handlers[step] as (input: unknown) => Promise<unknown>)(JSON.parse(row.input));
    } catch (e) {
      failed = true;
      failure = e;
    }
    await at(`${step}_ran`, flowId);
    const done = now();
    if (!failed) {
      await repo.finishJob(flowId, step, token, 'done', done, null, done);
    } else if (row.tries >= maxTries) {
      await repo.finishJob(flowId, step, token, 'given_up', done, String(failure), done);
      log.error({ err: failure, step, key: flowId, tries: row.tries }, `${step} for ${flowId} failed ${row.tries} times; given up`);
    } else {
      await repo.finishJob(flowId, step, token, 'pending', done + delayMs * 2 ** (row.tries - 1), String(failure), done);
      log.error({ err: failure, step, key: flowId, tries: row.tries }, `${step} for ${flowId} failed; it will be retried`);
    }
    return true;
  }

  async function enqueueAndRun<S extends JobStep>(flowId: string, step: S, input: JobInputs[S], opts: { rearm?: boolean } = {}): Promise<void> {
    await repo.enqueue(flowId, step, JSON.stringify(input), now(), opts.rearm ?? false);
    await runJob(flowId, step);
  }

  /** The follow-ups of a paid checkout, enqueued once (in the payment's transaction, or after it). */
  async function enqueuePaid(r: CheckoutRepo, intentId: string, input: FlowInput): Promise<void> {
    const job = { merchantId: input.merchantId, intentId, shopperId: input.shopperId };
    await r.enqueue(intentId, 'crm_payment', JSON.stringify(job), now(), false);
    await r.enqueue(intentId, 'inbox_receipt', JSON.stringify(job), now(), false);
  }

  /**
   * The money has moved: the checkout is marked succeeded (if `token` still holds it) and its
   * follow-ups run. `enqueued` when the payment's own transaction did both already.
   */
  async function afterPayment(intentId: string, input: FlowInput, token: string | null, enqueued = false): Promise<void> {
    if (!enqueued)
      await repo.transaction(async (r) => {
        if (token !== null) await r.setFlowStatus(intentId, token, 'succeeded', now());
        await enqueuePaid(r, intentId, input);
      });
    await runJob(intentId, 'crm_payment');
    await runJob(intentId, 'inbox_receipt');
  }

  /**
   * The checkout ends without a payment (`failed`: a final no; `compensated`: the recovery pass
   * undid it): marked so and, if it asked for a coupon, the coupon's release enqueued in the same
   * transaction, then run. Nothing when another runner has taken the checkout over.
   */
  async function endUnpaid(intentId: string, input: FlowInput, token: string, status: Extract<FlowStatus, 'failed' | 'compensated'>): Promise<void> {
    const release = await repo.transaction(async (r) => {
      if (!(await r.setFlowStatus(intentId, token, status, now()))) return false;
      if (input.couponId === null) return false;
      const job: JobInputs['coupon_release'] = { merchantId: input.merchantId, intentId, mode: 'live' };
      await r.enqueue(intentId, 'coupon_release', JSON.stringify(job), now(), true);
      return true;
    });
    if (release) await runJob(intentId, 'coupon_release');
  }

  /** Inside the payment's transaction: still ours (else the payment rolls back), then marked paid with its follow-ups. */
  async function paidInside(tx: SqlExecutor, intentId: string, input: FlowInput, token: string): Promise<void> {
    const r = CheckoutRepo.on(tx);
    const row = await r.flow(intentId, true);
    if (row?.token !== token || (row.status !== 'started' && row.status !== 'coupon_reserved'))
      throw new DomainError('busy', 'checkout_in_progress', 'This payment is being completed elsewhere; try again shortly.');
    await r.setFlowStatus(intentId, token, 'succeeded', now());
    await enqueuePaid(r, intentId, input);
  }

  /** Takes the intent's checkout for this request: a new one, or one that ended unpaid or whose runner stopped. */
  async function claim(intentId: string, input: FlowInput, token: string): Promise<'claimed' | 'succeeded'> {
    const t = now();
    if (await repo.insertFlow(intentId, JSON.stringify(input), token, t + leaseMs, t)) return 'claimed';
    const row = await repo.flow(intentId);
    if (row?.status === 'succeeded') return 'succeeded';
    if (await repo.restartFlow(intentId, JSON.stringify(input), token, t + leaseMs, t)) return 'claimed';
    throw new DomainError('busy', 'checkout_in_progress', 'This payment is being completed; try again shortly.');
  }

  const failedAnswer = (e: DomainError) => ({ status: 'failed' as const, code: e.code, message: e.message });

  const checkout: Checkout = {
    async intent(intentId, terminal) {
      const pi = await payments.getIntent(terminal.merchantId, intentId);
      if (pi.terminalId !== null && pi.terminalId !== terminal.terminalId)
        throw new DomainError('not_found', 'payment_intent_not_found', `no payment intent ${intentId}`);
      return { id: pi.id, amount: pi.amount, currency: pi.currency, status: pi.status };
    },

    async offers(terminal, shopperId, basket) {
      const memberId = await members.memberIdFor(terminal.merchantId, shopperId);
      if (memberId === null) {
        const offer = await members.joinOffer(terminal.merchantId, shopperId);
        return { discount: 0, offers: [], ...(offer ? { membership: { programme: offer.programmeName, fields: offer.fields } } : {}) };
      }
      const cart = { amount: basket.amount, currency: basket.currency.toUpperCase(), storeId: terminal.storeId };
      const t = now();
      const o = await marketing.offersFor(terminal.merchantId, memberId, cart, t);
      // A payment is never free: a coupon worth the whole amount is shown but not applied.
      const usable = o.coupons.filter((h) => h.applicable && h.discount < basket.amount).map((h) => h.coupon);
      const best = bestCoupon(cart, usable, t);
      return {
        discount: best?.discount ?? 0,
        ...(best ? { coupon: { id: best.coupon.id, title: best.coupon.title } } : {}),
        offers: [
          // The applied coupon has its own line on the screen; the others are what the shopper also holds.
          ...o.coupons.filter((h) => h.coupon.id !== best?.coupon.id).map((h) => ({ id: h.coupon.id, title: h.coupon.title })),
          ...o.upcoming.map((u) => ({ id: u.campaignId, title: `With this payment: ${u.title}` })),
        ],
      };
    },

    async pay(intentId, terminal, shopperId, opts) {
      const { merchantId } = terminal;
      if (opts.join && opts.join.length > 0) {
        const offer = await members.joinOffer(merchantId, shopperId);
        if (offer) {
          const s = await shoppers.get(shopperId);
          const values: Record<string, string | null> = { name: s.name, phone: s.phone, email: s.email };
          const fields = Object.fromEntries(opts.join.filter((f) => (offer.fields as string[]).includes(f) && values[f]).map((f) => [f, values[f]!]));
          const joined = await members.join({ merchantId, shopperId, fields, consentVersion: offer.consentVersion, terminalId: terminal.terminalId });
          await enqueueAndRun(joined.memberId, 'welcome', { merchantId, memberId: joined.memberId });
        }
      }
      await at('joined', intentId);
      const intent = await payments.getIntent(merchantId, intentId);
      // A retry of a payment that already failed answers the same failure (its coupon was given back).
      if (intent.status === 'failed') return { status: 'failed', code: intent.failureCode ?? 'payment_failed', message: intent.failureMessage ?? 'The payment failed.' };
      const input: FlowInput = { merchantId, storeId: terminal.storeId, terminalId: terminal.terminalId, shopperId, paymentKey: opts.paymentId, couponId: opts.couponId ?? null };
      const confirmOpts = { idempotencyKey: opts.paymentId, merchantId, mode: 'live' as const, method: opts.method };

      const token = ids.next('chk');
      if ((await claim(intentId, input, token)) === 'succeeded') {
        // Paid already (a retry after a lost answer): payments answers for its own key and shopper.
        try {
          await payments.confirmWithShopper(intentId, shopperId, confirmOpts);
        } catch (e) {
          if (transient(e)) throw e;
          return failedAnswer(e as DomainError);
        }
        await afterPayment(intentId, input, null);
        return { status: 'succeeded' };
      }
      await at('claimed', intentId);

      let discount = 0;
      let couponId: string | undefined;
      if (opts.couponId !== undefined) {
        try {
          const memberId = await members.memberIdFor(merchantId, shopperId);
          if (memberId === null) throw new DomainError('not_found', 'member_not_found', 'The coupon belongs to a membership that has ended.');
          const r = await marketing.redeem({
            merchantId,
            memberId,
            couponId: opts.couponId,
            paymentId: intent.id,
            basket: { amount: intent.amount, currency: intent.currency.toUpperCase(), storeId: terminal.storeId },
          });
          if (r.discount >= intent.amount) throw new DomainError('unprocessable', 'coupon_not_applicable', 'The coupon would pay the whole amount.');
          discount = r.discount;
          couponId = opts.couponId;
        } catch (e) {
          if (transient(e)) throw e;
          // The shopper was shown the discounted amount: without the coupon they must be asked again.
          await endUnpaid(intentId, input, token, 'failed');
          return failedAnswer(e as DomainError);
        }
        await repo.setFlowStatus(intentId, token, 'coupon_reserved', now());
        await at('coupon_reserved', intentId);
      }

      // Whether this request's payment committed with the fence checked and the follow-ups enqueued
      // (not so when payments answered an earlier success without running the transaction).
      let enqueued = false;
      try {
        await payments.confirmWithShopper(intentId, shopperId, {
          ...confirmOpts,
          // The fence first: a checkout the recovery pass has taken over (and whose coupon it may be releasing) is never paid.
          inPayment: async (tx) => {
            enqueued = false;
            await paidInside(tx, intentId, input, token);
            await at('paying', intentId);
            await opts.inPayment?.(tx);
            enqueued = true;
          },
          ...(opts.maxAmount !== undefined ? { maxAmount: opts.maxAmount } : {}),
          ...(couponId !== undefined ? { discount, couponId } : {}),
        });
      } catch (e) {
        if (transient(e)) throw e;
        // A final no: the coupon goes back to the shopper. A retry of a failed payment id stays failed.
        await endUnpaid(intentId, input, token, 'failed');
        return failedAnswer(e as DomainError);
      }
      await at('paid', intentId);
      // The money has moved: what follows never turns a paid payment into a failed answer. Each
      // follow-up is a job in the database, retried by the housekeeping worker if it fails here.
      await afterPayment(intentId, input, token, enqueued);
      return { status: 'succeeded' };
    },
  };

  return {
    checkout,

    async onRefund(pi, r) {
      await enqueueAndRun(r.id, 'crm_refund', {
        merchantId: pi.merchantId,
        intentId: pi.id,
        refundId: r.id,
        amount: r.amount,
        fullyRefunded: pi.amountRefunded >= pi.amount - pi.discount,
        at: r.createdAt,
      });
    },

    async onCancel(pi) {
      // Armed again on each cancel: a release that found nothing to release earlier is no reason to skip this one.
      await enqueueAndRun(pi.id, 'coupon_release', { merchantId: pi.merchantId, intentId: pi.id, mode: pi.mode }, { rearm: true });
    },

    async recover() {
      let taken = 0;
      const t = now();
      for (const row of await repo.interrupted(t, BATCH)) {
        const token = ids.next('chk');
        if (!(await repo.takeOver(row.flow_id, row.token, token, t + leaseMs, t))) continue;
        taken++;
        const input = JSON.parse(row.input) as FlowInput;
        try {
          const pi = await payments.getIntent(input.merchantId, row.flow_id).catch((e: unknown) =>
            isDomainError(e) && e.code === 'payment_intent_not_found' ? undefined : Promise.reject(e),
          );
          // Read after the take-over: a payment still in flight either committed before it (and is
          // seen here) or meets the new fence and rolls back.
          if (pi?.status === 'succeeded') await afterPayment(row.flow_id, { ...input, shopperId: pi.shopperId ?? input.shopperId }, token);
          else await endUnpaid(row.flow_id, input, token, 'compensated');
        } catch (e) {
          // Left as it is: its lease runs out again and the next pass tries once more.
          log.error({ err: e, step: 'checkout', key: row.flow_id }, `recovering checkout ${row.flow_id} failed; it will be retried`);
        }
      }
      return taken;
    },

    async retryDue() {
      let ran = 0;
      for (const j of await repo.dueJobs(now(), BATCH)) if (await runJob(j.flow_id, j.step as JobStep)) ran++;
      return ran;
    },

    pending: () => repo.pending(),
  };
}
