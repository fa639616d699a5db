/**
 * The operator's API: its own staff (not a merchant's) sign in with e-mail and password and send
 * `Authorization: Bearer ops_...`. Desk users credit wallets against cash or a card and reverse
 * credits; admins also import bank statements and read the reconciliation. Every POST that moves
 * money takes an Idempotency-Key, which the funding services keep per desk user.
 */
import type { FastifyRequest } from 'fastify';
import type { DeskCredit } from '../../funding/index.ts';
import type { OperatorRole, OperatorStaff } from '../../operator/index.ts';
import { DomainError } from '../../platform/index.ts';
import { createLoginThrottle } from '../login-throttle.ts';
import { amountSchema, currencySchema, snakeKeys } from '../schemas.ts';
import type { AppServices } from '../types.ts';
import type { FastifyInstance } from 'fastify';
import type { PayoutRun } from '../../settlement/index.ts';
import { registerOperatorMoneyRoutes } from './operator-money.ts';

const TAG = ['Operator'];

const creditBody = (c: DeskCredit) => ({
  id: c.id,
  object: 'desk_credit',
  staff_id: c.staffId,
  shopper_id: c.shopperId,
  amount: c.amount,
  currency: c.currency,
  method: c.method,
  funding_intent: c.intentId,
  transfer: c.transferId,
  created: c.createdAt,
  reversal: c.reversal && { id: c.reversal.id, staff_id: c.reversal.staffId, reason: c.reversal.reason, transfer: c.reversal.transferId, created: c.reversal.at },
});

const staffBody = (s: OperatorStaff) => ({ id: s.id, object: 'operator_staff', email: s.email, name: s.name, role: s.role, credit_cap: s.creditCap, daily_cap: s.dailyCap });

export function registerOperatorRoutes(app: FastifyInstance, services: AppServices): void {
  const { operators, desk, fundingService, reconciliation } = services;
  if (!operators || !desk || !fundingService || !reconciliation) return;
  const throttle = createLoginThrottle(services.clock);

  function token(request: FastifyRequest): string {
    const m = /^Bearer\s+(ops_\S+)$/i.exec(request.headers.authorization ?? '');
    if (!m) throw new DomainError('unauthorized', 'operator_session_missing', 'send Authorization: Bearer ops_... (from POST /v1/operator/login)');
    return m[1]!;
  }
  const as = (request: FastifyRequest, roles: readonly OperatorRole[]): Promise<OperatorStaff> => operators.authenticate(token(request), roles);
  function key(request: FastifyRequest): string {
    const k = request.headers['idempotency-key'];
    if (typeof k !== 'string' || !/^[\x21-\x7e]{8,255}$/.test(k)) {
      throw new DomainError('invalid', 'idempotency_key_required', 'Send an Idempotency-Key header (8 to 255 characters) with every desk request.');
    }
    return k;
  }

  app.post('/v1/operator/login', {
    schema: {
      tags: TAG,
      summary: 'Sign in as operator staff (desk or admin); answers a bearer token',
      body: { type: 'object', additionalProperties: false, required: ['email', 'password'], properties: { email: { type: 'string', maxLength: 254 }, password: { type: 'string', maxLength: 1024 } } },
    },
    handler: async (request) => {
      const b = request.body as { email: string; password: string };
      const { staff, sessionToken } = await throttle.guard(b.email, request.ip, () => operators.logIn(b.email, b.password));
      return { token: sessionToken, staff: staffBody(staff) };
    },
  });

  app.post('/v1/operator/logout', {
    schema: { tags: TAG, summary: 'Sign out (the token stops working)' },
    handler: async (request) => {
      await operators.logOut(token(request));
      return { signed_out: true };
    },
  });

  app.get('/v1/operator/desk/shoppers', {
    schema: {
      tags: TAG,
      summary: 'Find a shopper at the desk by RF payment reference, e-mail or phone',
      querystring: { type: 'object', additionalProperties: false, properties: { reference: { type: 'string', maxLength: 40 }, email: { type: 'string', maxLength: 254 }, phone: { type: 'string', maxLength: 30 } } },
    },
    handler: async (request) => {
      await as(request, ['desk', 'admin']);
      const found = await desk.findShopper(request.query as { reference?: string; email?: string; phone?: string }, services.walletCurrency);
      return { object: 'list', data: found.map((s) => ({ id: s.id, object: 'shopper', name: s.name, email: s.email, payment_reference: s.reference, wallet: { balance: s.balance, currency: s.currency }, pending_top_ups: s.pendingTopUps.map((i) => ({ id: i.id, object: 'funding_intent', amount: i.amount, currency: i.currency, created: i.createdAt })) })) };
    },
  });

  app.post('/v1/operator/desk/credits', {
    schema: {
      tags: TAG,
      summary: 'Credit a wallet against cash or a card taken at the desk (desk role; capped per desk user)',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['shopper_id', 'amount', 'currency', 'method'],
        properties: {
          shopper_id: { type: 'string', maxLength: 64 },
          amount: amountSchema,
          currency: currencySchema,
          method: { type: 'string', enum: ['cash', 'card'] },
          // The pending top-up this pays; without it the oldest pending one of the amount is settled.
          intent_id: { type: 'string', maxLength: 64 },
        },
      },
    },
    handler: async (request, reply) => {
      const staff = await as(request, ['desk']);
      const b = request.body as { shopper_id: string; amount: number; currency: string; method: string; intent_id?: string };
      const currency = b.currency.toLowerCase();
      if (currency !== services.walletCurrency) throw new DomainError('invalid', 'currency_unsupported', `Wallets are in ${services.walletCurrency}.`);
      const c = await desk.credit(staff, { shopperId: b.shopper_id, amount: b.amount, currency, method: b.method, intentId: b.intent_id }, key(request));
      return reply.code(201).send(creditBody(c));
    },
  });

  app.get('/v1/operator/desk/credits', {
    schema: {
      tags: TAG,
      summary: 'The desk audit: credits newest first, with who made them and any reversal',
      querystring: {
        type: 'object',
        additionalProperties: false,
        // Query strings are never coerced (app.ts): numbers are digits checked by pattern, then parsed.
        properties: {
          staff_id: { type: 'string', maxLength: 64 },
          shopper_id: { type: 'string', maxLength: 64 },
          from: { type: 'string', pattern: '^[0-9]{1,15}$' },
          to: { type: 'string', pattern: '^[0-9]{1,15}$' },
          limit: { type: 'string', pattern: '^([1-9][0-9]?|[1-4][0-9]{2}|500)$' },
        },
      },
    },
    handler: async (request) => {
      await as(request, ['desk', 'admin']);
      const q = request.query as { staff_id?: string; shopper_id?: string; from?: string; to?: string; limit?: string };
      const list = await desk.list({
        ...(q.staff_id ? { staffId: q.staff_id } : {}),
        ...(q.shopper_id ? { shopperId: q.shopper_id } : {}),
        ...(q.from !== undefined ? { from: Number(q.from) } : {}),
        ...(q.to !== undefined ? { to: Number(q.to) } : {}),
        ...(q.limit !== undefined ? { limit: Number(q.limit) } : {}),
      });
      return { object: 'list', data: list.map(creditBody) };
    },
  });

  app.get('/v1/operator/desk/credits/:id', {
    schema: { tags: TAG, summary: 'One desk credit', params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } },
    handler: async (request) => {
      await as(request, ['desk', 'admin']);
      return creditBody(await desk.get((request.params as { id: string }).id));
    },
  });

  app.post('/v1/operator/desk/credits/:id/reversal', {
    schema: {
      tags: TAG,
      summary: 'Reverse a desk credit by an opposite transfer (once; never an edit)',
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } },
      body: { type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: { type: 'string', maxLength: 500 } } },
    },
    handler: async (request) => {
      const staff = await as(request, ['desk', 'admin']);
      return creditBody(await desk.reverse(staff, (request.params as { id: string }).id, (request.body as { reason: string }).reason, key(request)));
    },
  });

  app.post('/v1/operator/funding/statements', {
    schema: {
      tags: TAG,
      summary: 'Import a camt.053 or camt.054 bank statement (admin); importing it again credits nothing more',
      body: { type: 'object', additionalProperties: false, required: ['xml'], properties: { xml: { type: 'string', minLength: 1 } } },
    },
    handler: async (request) => {
      await as(request, ['admin']);
      const r = await fundingService.importStatement((request.body as { xml: string }).xml);
      return { object: 'statement_import', ...r };
    },
  });

  app.get('/v1/operator/funding/unmatched', {
    schema: { tags: TAG, summary: 'Bank credits with no known reference, waiting for a person (admin)' },
    handler: async (request) => {
      await as(request, ['admin']);
      const rows = await fundingService.unmatched();
      return { object: 'list', data: rows.map((r) => ({ entry_ref: r.entryRef, statement_id: r.statementId, amount: r.amount, currency: r.currency, reference: r.reference })) };
    },
  });

  app.post('/v1/operator/funding/unmatched/:entry_ref/assignment', {
    schema: {
      tags: TAG,
      summary: 'Resolve an unmatched bank credit by hand: it tops up the shopper named (admin; once per entry)',
      params: { type: 'object', required: ['entry_ref'], properties: { entry_ref: { type: 'string', maxLength: 200 } } },
      body: { type: 'object', additionalProperties: false, required: ['shopper_id'], properties: { shopper_id: { type: 'string', maxLength: 64 } } },
    },
    handler: async (request) => {
      await as(request, ['admin']);
      const shopperId = (request.body as { shopper_id: string }).shopper_id;
      // The shopper must exist; the desk's directory is the one place that knows shoppers here.
      if ((await desk.findShopperById(shopperId)) === null) throw new DomainError('not_found', 'shopper_not_found', `no shopper ${shopperId}`);
      const i = await fundingService.assignUnmatched((request.params as { entry_ref: string }).entry_ref, shopperId);
      return { id: i.id, object: 'funding_intent', shopper_id: i.shopperId, amount: i.amount, currency: i.currency, status: i.status, rail: i.rail, rail_ref: i.railRef };
    },
  });

  app.get('/v1/operator/funding/reconciliation', {
    schema: { tags: TAG, summary: 'The float (all live wallets) against the bank balance, fees and payables (admin); amounts are decimal strings of minor units' },
    handler: async (request) => {
      await as(request, ['admin']);
      return { object: 'reconciliation', ...(snakeKeys(await reconciliation.report()) as object) };
    },
  });

  registerOperatorMoneyRoutes(app, services, as, key);

  // Payout runs for the operator's admins: the same service the `facepay settle` commands call.
  const settlement = services.settlement;
  if (settlement === undefined) return;
  const runBody = (r: PayoutRun) => ({ id: r.id, object: 'payout_run', currency: r.currency, status: r.status, item_count: r.itemCount, total: r.total, created_at: r.createdAt, updated_at: r.updatedAt });
  const runId = (request: FastifyRequest): string => (request.params as { id: string }).id;
  const runParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

  app.post('/v1/operator/payouts', {
    schema: {
      tags: TAG,
      summary: "A payout run (admin): every merchant's closed positive net and every approved withdrawal, once; retried with the same Idempotency-Key it answers the same run",
      body: { type: 'object', additionalProperties: false, properties: { currency: { type: 'string', minLength: 3, maxLength: 3 } } },
    },
    handler: async (request, reply) => {
      await as(request, ['admin']);
      const currency = ((request.body ?? {}) as { currency?: string }).currency ?? 'eur';
      reply.code(201);
      return runBody(await settlement.createPayoutRun(key(request), currency.toLowerCase()));
    },
  });

  app.get('/v1/operator/payouts/:id/file', {
    schema: { tags: TAG, summary: "The run's ISO 20022 pain.001.001.09 credit-transfer file, for the bank (admin)", params: runParams },
    handler: async (request, reply) => {
      await as(request, ['admin']);
      const xml = await settlement.payoutFile(runId(request));
      return reply.type('application/xml; charset=utf-8').header('content-disposition', `attachment; filename="${runId(request)}.xml"`).send(xml);
    },
  });

  app.post('/v1/operator/payouts/:id/sent', {
    schema: { tags: TAG, summary: 'The bank took the file (admin): the money moves on; idempotent', params: runParams },
    handler: async (request) => {
      await as(request, ['admin']);
      return runBody(await settlement.markPayoutSent(runId(request)));
    },
  });

  app.post('/v1/operator/payouts/:id/returned', {
    schema: { tags: TAG, summary: 'The bank returned the run (admin): the money comes back and the next run pays it; idempotent', params: runParams },
    handler: async (request) => {
      await as(request, ['admin']);
      return runBody(await settlement.markPayoutReturned(runId(request)));
    },
  });
}
