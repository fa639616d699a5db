import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../../platform/index.ts';
import { statementResource, type Withdrawal } from '../../settlement/index.ts';
import { requireAuth } from '../auth.ts';
import type { AppServices } from '../types.ts';
import { currentShopper } from './shoppers.ts';

const TAG = ['Settlements'];
const DAY = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;

function withdrawalResource(w: Withdrawal): Record<string, unknown> {
  return {
    id: w.id,
    object: 'withdrawal',
    amount: w.amount,
    currency: w.currency,
    // The IBAN is shown masked: the shopper knows it, a leaked response need not tell it.
    iban_last4: w.iban.slice(-4),
    holder_name: w.holderName,
    status: w.status,
    created_at: new Date(w.createdAt).toISOString(),
    decided_at: w.decidedAt === null ? null : new Date(w.decidedAt).toISOString(),
  };
}

/**
 * Merchants read their settlement statements (live money only: a test key sees none) and set the
 * account their payouts go to; shoppers ask for their balance back. Payout runs and withdrawal
 * decisions are the operator's, through `facepay settle` or the operator API (operator.ts, operator-console.ts).
 */
export function registerSettlementRoutes(app: FastifyInstance, services: AppServices): void {
  const { settlement } = services;
  if (settlement === undefined) return;
  const live = (request: FastifyRequest): string => {
    const auth = requireAuth(request);
    return auth.mode === 'live' ? auth.merchantId : '';
  };

  app.get('/v1/settlements', {
    config: { auth: 'payments:read' },
    schema: {
      tags: TAG,
      summary: "Daily settlement statements, newest first (the merchant's local days)",
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { from: DAY, to: DAY, limit: { type: 'string', pattern: '^(100|[1-9][0-9]?)$', description: 'Page size, 1 to 100 (default 30).' }, starting_after: { type: 'string', maxLength: 64 } },
      },
    },
    handler: async (request) => {
      const merchantId = live(request);
      const q = request.query as { from?: string; to?: string; limit?: string; starting_after?: string };
      if (merchantId === '') return { object: 'list', data: [], has_more: false, next_cursor: null };
      const page = await settlement.listStatements(merchantId, {
        ...(q.from ? { from: q.from } : {}),
        ...(q.to ? { to: q.to } : {}),
        ...(q.limit ? { limit: Number(q.limit) } : {}),
        ...(q.starting_after ? { cursor: q.starting_after } : {}),
      });
      return { object: 'list', data: page.data.map(statementResource), has_more: page.hasMore, next_cursor: page.nextCursor };
    },
  });

  app.get('/v1/settlements/export.csv', {
    config: { auth: 'payments:read' },
    schema: { tags: TAG, summary: 'The last 100 statements as CSV, one line each, newest first' },
    handler: async (request, reply) => {
      const merchantId = live(request);
      const rows = merchantId === '' ? [] : (await settlement.listStatements(merchantId, { limit: 100 })).data;
      const cols = ['id', 'day', 'currency', 'gross', 'coupon_discounts', 'refunds', 'platform_fees', 'adjustments', 'carried_in', 'net', 'transfer_count', 'status'] as const;
      const lines = [cols.join(','), ...rows.map((st) => cols.map((c) => String(statementResource(st)[c])).join(','))];
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="settlements.csv"')
        .send(`${lines.join('\n')}\n`);
    },
  });

  app.get('/v1/settlements/balance', {
    config: { auth: 'payments:read' },
    schema: { tags: TAG, summary: 'What the platform owes the merchant now, per currency (negative after refunds beyond it)' },
    handler: async (request) => {
      const merchantId = live(request);
      const currency = services.walletCurrency;
      return { object: 'settlement_balance', currency, payable: merchantId === '' ? 0 : await settlement.payable(merchantId, currency) };
    },
  });

  app.get('/v1/settlements/payout_account', {
    config: { auth: 'payments:read' },
    schema: { tags: TAG, summary: 'The bank account payouts go to' },
    handler: async (request) => {
      const a = await settlement.payoutAccount(requireAuth(request).merchantId);
      return { object: 'payout_account', iban: a?.iban ?? null, bic: a?.bic ?? null, holder_name: a?.holderName ?? null };
    },
  });

  app.post('/v1/settlements/payout_account', {
    config: { auth: 'payments:write' },
    schema: {
      tags: TAG,
      summary: 'Set the bank account (IBAN, checked by its check digits) and holder name payouts go to',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['iban', 'holder_name'],
        properties: { iban: { type: 'string', maxLength: 64 }, holder_name: { type: 'string', maxLength: 70 }, bic: { type: 'string', maxLength: 11 } },
      },
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      // Where live money goes is set with live credentials only, and in the console by the owner.
      if (auth.mode !== 'live') throw new DomainError('forbidden', 'live_key_required', 'the payout account is set with a live key');
      if (auth.staff && auth.staff.role !== 'owner') throw new DomainError('forbidden', 'owner_required', 'only the owner sets the payout account');
      const b = request.body as { iban: string; holder_name: string; bic?: string };
      const a = await settlement.setPayoutAccount(auth.merchantId, { iban: b.iban, holderName: b.holder_name, bic: b.bic });
      return { object: 'payout_account', iban: a.iban, bic: a.bic, holder_name: a.holderName };
    },
  });

  app.get('/v1/settlements/:id', {
    config: { auth: 'payments:read' },
    schema: {
      tags: TAG,
      summary: 'One statement with its transfers (up to 1,000; the CSV has them all)',
      params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
    },
    handler: async (request) => {
      const merchantId = live(request);
      const { id } = request.params as { id: string };
      const s = await settlement.getStatement(merchantId, id);
      const lines = await settlement.lines(merchantId, id, { limit: 1000 });
      return { ...statementResource(s), transfers: lines.map((l) => ({ id: l.transferId, code: l.code, amount: l.amount, created_at: new Date(l.createdAt).toISOString() })) };
    },
  });

  app.get('/v1/settlements/:id/csv', {
    config: { auth: 'payments:read' },
    schema: { tags: TAG, summary: 'One statement as CSV: every transfer, then the figures', params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] } },
    handler: async (request, reply) => {
      const merchantId = live(request);
      const { id } = request.params as { id: string };
      const s = await settlement.getStatement(merchantId, id);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="settlement-${s.day}-${s.currency}.csv"`)
        .send(await settlement.statementCsv(merchantId, id));
    },
  });

  app.post('/v1/shopper/withdrawals', {
    schema: {
      tags: ['Shopper'],
      summary: 'Ask for wallet money back to a bank account (held at once; the operator approves)',
      description: 'Send an Idempotency-Key: a retry with the same key holds the money once.',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['amount', 'iban', 'holder_name'],
        properties: { amount: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER }, iban: { type: 'string', maxLength: 64 }, holder_name: { type: 'string', maxLength: 70 } },
      },
    },
    handler: async (request, reply) => {
      const s = await currentShopper(services.shoppers, request);
      const key = request.headers['idempotency-key'];
      if (typeof key !== 'string') throw new DomainError('invalid', 'idempotency_key_required', 'Send an Idempotency-Key header (8 to 255 characters) with every withdrawal.');
      const b = request.body as { amount: number; iban: string; holder_name: string };
      const w = await settlement.requestWithdrawal(s.id, { amount: b.amount, currency: services.walletCurrency, iban: b.iban, holderName: b.holder_name }, key);
      return reply.code(201).send(withdrawalResource(w));
    },
  });

  app.get('/v1/shopper/withdrawals', {
    schema: { tags: ['Shopper'], summary: "The signed-in shopper's withdrawals, newest first" },
    handler: async (request) => {
      const s = await currentShopper(services.shoppers, request);
      return { object: 'list', data: (await settlement.listWithdrawals({ shopperId: s.id, limit: 100 })).map(withdrawalResource) };
    },
  });
}
