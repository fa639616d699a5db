/**
 * The operator's money routes beside the desk and funding ones (admin only): each merchant's
 * platform fee rate with its history, the platform limits (read by every operator, set by
 * admins), shoppers' withdrawals to approve or reject, and the payout runs. Registered by the operator routes, whose sign-in and Idempotency-Key checks they share.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { OperatorRole, OperatorStaff } from '../../operator/index.ts';
import type { LimitChange, PlatformLimit } from '../../limits/index.ts';
import type { FeeRate, PayoutItem, PayoutRun } from '../../settlement/index.ts';
import type { AppServices } from '../types.ts';

const TAG = ['Operator'];
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

const rateBody = (r: FeeRate) => ({
  id: r.id,
  object: 'fee_rate',
  merchant_id: r.merchantId,
  bps: r.bps,
  effective_from: r.effectiveFrom,
  effective_at: r.effectiveAt,
  time_zone: r.timeZone,
  set_by: r.setBy,
  reason: r.reason,
  created: r.createdAt,
});

// Limits are minor units of whatever currency a payment or top-up is in; the console shows them in the wallets' currency.
const limitsBody = (list: PlatformLimit[], currency: string) => ({
  object: 'platform_limits',
  currency,
  data: list.map((l) => ({ object: 'platform_limit', key: l.key, value: l.value, default: l.defaultValue, source: l.source, updated_at: l.updatedAt, updated_by: l.updatedBy })),
});

const changeBody = (c: LimitChange, names: Map<string, string>) => ({
  id: c.id,
  object: 'platform_limit_change',
  key: c.key,
  old_value: c.oldValue,
  new_value: c.newValue,
  changed_by: c.changedBy,
  changed_by_name: names.get(c.changedBy) ?? null,
  changed_at: c.changedAt,
});

export const payoutRunBody = (r: PayoutRun) => ({ id: r.id, object: 'payout_run', currency: r.currency, status: r.status, item_count: r.itemCount, total: r.total, created_at: r.createdAt, updated_at: r.updatedAt });

const itemBody = (i: PayoutItem) => ({ id: i.id, object: 'payout_item', kind: i.kind, party_id: i.partyId, amount: i.amount, currency: i.currency, iban: i.iban, bic: i.bic, holder_name: i.holderName, status: i.status });

export function registerOperatorMoneyRoutes(
  app: FastifyInstance,
  services: AppServices,
  as: (request: FastifyRequest, roles: readonly OperatorRole[]) => Promise<OperatorStaff>,
  key: (request: FastifyRequest) => string,
): void {
  const id = (request: FastifyRequest): string => (request.params as { id: string }).id;
  const { feeRates, settlement, platformLimits } = services;

  if (platformLimits) {
    app.get('/v1/operator/limits', {
      schema: { tags: TAG, summary: 'The platform limits in effect (minor units), each with its configured default and who last set it (any operator staff)' },
      handler: async (request) => {
        await as(request, ['desk', 'admin']);
        return limitsBody(await platformLimits.list(), services.walletCurrency);
      },
    });

    app.put('/v1/operator/limits', {
      schema: {
        tags: TAG,
        summary:
          'Set platform limits (admin): a body of the keys to change (shopper_payment_limit, shopper_daily_limit, top_up_cap, top_up_daily_cap), each a whole number of minor units; answers every limit. Other server processes apply a change within 5 s.',
        // The values are checked by the limits service, which answers limit_invalid and limit_unknown.
        body: { type: 'object', maxProperties: 16 },
      },
      handler: async (request) => {
        const staff = await as(request, ['admin']);
        return limitsBody(await platformLimits.set(staff.id, (request.body ?? {}) as Record<string, unknown>), services.walletCurrency);
      },
    });

    app.get('/v1/operator/limits/audit', {
      schema: {
        tags: TAG,
        summary: 'Who changed which platform limit from what to what, and when, newest first (admin)',
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 500 } } },
      },
      handler: async (request) => {
        await as(request, ['admin']);
        const q = request.query as { limit?: number };
        const names = new Map((await (services.operators?.list() ?? [])).map((o) => [o.id, o.name]));
        return { object: 'list', data: (await platformLimits.changes(q.limit ?? 50)).map((c) => changeBody(c, names)) };
      },
    });
  }

  if (feeRates) {
    app.get('/v1/operator/merchants/:id/fee_rates', {
      schema: { tags: TAG, summary: "A merchant's platform fee rate now (its own or the default), the rates to come, and every change with who made it (admin)", params: idParams },
      handler: async (request) => {
        await as(request, ['admin']);
        const r = await feeRates.of(id(request));
        return {
          object: 'fee_schedule',
          merchant_id: id(request),
          bps: r.bps,
          source: r.source,
          default_bps: feeRates.defaultBps,
          current: r.current && rateBody(r.current),
          scheduled: r.scheduled.map(rateBody),
          history: r.history.map(rateBody),
        };
      },
    });

    app.post('/v1/operator/merchants/:id/fee_rates', {
      schema: {
        tags: TAG,
        summary: "Set a merchant's platform fee rate from a local day that has not begun (admin; Idempotency-Key; never edits a rate already charged)",
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['bps', 'effective_from', 'reason'],
          properties: { bps: { type: 'integer', minimum: 0, maximum: 10_000 }, effective_from: { type: 'string', maxLength: 10 }, reason: { type: 'string', maxLength: 500 } },
        },
      },
      handler: async (request, reply) => {
        const staff = await as(request, ['admin']);
        const b = request.body as { bps: number; effective_from: string; reason: string };
        const r = await feeRates.set(staff.id, id(request), { bps: b.bps, effectiveFrom: b.effective_from, reason: b.reason }, key(request));
        return reply.code(201).send(rateBody(r));
      },
    });
  }

  if (!settlement) return;

  // Withdrawals and the list of payout runs are served with the operator console's routes
  // (operator-console.ts); one run with its items is here, beside the money it moves.
  app.get('/v1/operator/payouts/:id', {
    schema: { tags: TAG, summary: 'One payout run with its credit transfers (admin)', params: idParams },
    handler: async (request) => {
      await as(request, ['admin']);
      const r = await settlement.getPayoutRun(id(request));
      return { ...payoutRunBody(r), items: r.items.map(itemBody) };
    },
  });
}
