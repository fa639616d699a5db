/**
 * The operator console's API (admins of the platform operator, `Authorization: Bearer ops_...`):
 * merchants (list, create, suspend and reactivate, invite the owner by e-mail), the bank credits
 * left unmatched (returned to the payer by hand, or assigned by a shopper's RF reference), the
 * shoppers' withdrawals to approve or reject, and the list of payout runs. The owner's side of an
 * invitation (`/v1/staff/invitations/...`) needs no sign-in: the link's token is the proof.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Merchant } from '../../merchants/index.ts';
import type { MerchantOverview, OperatorRole, OperatorStaff, VolumeFigures } from '../../operator/index.ts';
import { DomainError } from '../../platform/index.ts';
import type { PayoutRun, Withdrawal } from '../../settlement/index.ts';
import type { Invitation } from '../../staff/index.ts';
import { listBody, listQuery, pageArgs } from '../schemas.ts';
import type { AppServices } from '../types.ts';

const TAG = ['Operator'];
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;
const iso = (at: number | null): string | null => (at === null ? null : new Date(at).toISOString());

const merchantBody = (m: Merchant) => ({
  id: m.id,
  object: 'merchant',
  name: m.name,
  status: m.status,
  created_at: iso(m.createdAt),
  closed_at: iso(m.closedAt),
  closed_by: m.closedBy,
});
const invitationBody = (i: Invitation) => ({
  id: i.id,
  object: 'staff_invitation',
  merchant_id: i.merchantId,
  email: i.email,
  role: i.role,
  status: i.status,
  invited_by: i.invitedBy,
  created_at: iso(i.createdAt),
  expires_at: iso(i.expiresAt),
  staff_id: i.staffId,
});
// The operator pays the money out, so it sees the whole IBAN (the shopper's own view masks it).
const withdrawalBody = (w: Withdrawal) => ({
  id: w.id,
  object: 'withdrawal',
  shopper_id: w.shopperId,
  amount: w.amount,
  currency: w.currency,
  iban: w.iban,
  holder_name: w.holderName,
  status: w.status,
  created_at: iso(w.createdAt),
  decided_at: iso(w.decidedAt),
});
const figuresBody = (f: VolumeFigures) => ({
  payments: { count: f.payments.count, amount: f.payments.amount },
  refunds: { count: f.refunds.count, amount: f.refunds.amount },
  fees: f.fees,
});
// Amounts are decimal strings of minor units, as in the reconciliation: exact past 2^53.
const overviewBody = (o: MerchantOverview) => ({
  object: 'merchant_overview',
  merchant: merchantBody(o.merchant),
  status: o.merchant.status,
  last_30_days_since: iso(o.since),
  volume: o.currencies.map((c) => ({ currency: c.currency, all_time: figuresBody(c.allTime), last_30_days: figuresBody(c.last30Days) })),
  terminals: { active: o.terminals.active, pending: o.terminals.pending, revoked: o.terminals.revoked, last_seen_at: iso(o.terminals.lastSeenAt) },
  disputes: { open: o.disputes.open, total: o.disputes.total },
  risk: {
    last_30_days: {
      step_ups: o.risk.last30Days.stepUps,
      refusals: o.risk.last30Days.refusals,
      wrong_factors: o.risk.last30Days.wrongFactors,
      disputes: o.risk.last30Days.disputes,
    },
    recent: o.risk.recent.map((e) => ({ id: e.id, kind: e.kind, code: e.code, reasons: e.reasons, terminal: e.terminalId, at: iso(e.at) })),
  },
});
const runBody = (r: PayoutRun) => ({ id: r.id, object: 'payout_run', currency: r.currency, status: r.status, item_count: r.itemCount, total: r.total, created_at: r.createdAt, updated_at: r.updatedAt });

export function registerOperatorConsoleRoutes(app: FastifyInstance, services: AppServices): void {
  const { operators, merchants, invitations } = services;
  if (!operators) return;

  function token(request: FastifyRequest): string {
    const m = /^Bearer\s+(ops_\S+)$/i.exec(request.headers.authorization ?? '');
    if (!m) throw new DomainError('unauthorized', 'operator_session_missing', 'send Authorization: Bearer ops_... (from POST /v1/operator/login)');
    return m[1]!;
  }
  const as = (request: FastifyRequest, roles: readonly OperatorRole[]): Promise<OperatorStaff> => operators.authenticate(token(request), roles);
  const admin = (request: FastifyRequest): Promise<OperatorStaff> => as(request, ['admin']);

  app.get('/v1/operator/me', {
    schema: { tags: TAG, summary: 'The operator staff member signed in (desk or admin), for the console to show the pages of the role' },
    handler: async (request) => {
      const s = await as(request, ['desk', 'admin']);
      return { id: s.id, object: 'operator_staff', email: s.email, name: s.name, role: s.role, credit_cap: s.creditCap, daily_cap: s.dailyCap };
    },
  });

  app.get('/v1/operator/merchants', {
    schema: {
      tags: TAG,
      summary: 'Every merchant, newest first (admin)',
      querystring: listQuery({ status: { type: 'string', enum: ['active', 'suspended', 'closed'] } }),
    },
    handler: async (request) => {
      await admin(request);
      const { limit, cursor } = pageArgs(request.query);
      const status = (request.query as { status?: string }).status;
      const page = await merchants.listMerchants({ ...(status ? { status } : {}), limit, ...(cursor ? { cursor } : {}) });
      return listBody(page, merchantBody);
    },
  });

  app.post('/v1/operator/merchants', {
    schema: {
      tags: TAG,
      summary: 'Create a merchant (admin); invite its owner next',
      body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 200 } } },
    },
    handler: async (request, reply) => {
      await admin(request);
      return reply.code(201).send(merchantBody(await merchants.createMerchant({ name: (request.body as { name: string }).name })));
    },
  });

  app.get('/v1/operator/merchants/:id', {
    schema: { tags: TAG, summary: 'One merchant with its owner invitations (admin)', params: idParams },
    handler: async (request) => {
      await admin(request);
      const m = await merchants.getMerchant((request.params as { id: string }).id);
      return { ...merchantBody(m), invitations: invitations ? (await invitations.list(m.id)).map(invitationBody) : [] };
    },
  });

  for (const [action, status, summary] of [
    ['suspension', 'suspended', "Suspend a merchant (admin): its API keys, console logins and terminals are refused at once; idempotent"],
    ['reactivation', 'active', 'Reactivate a suspended merchant (admin); idempotent; a closed one is refused (409 merchant_closed)'],
  ] as const) {
    app.post(`/v1/operator/merchants/:id/${action}`, {
      schema: { tags: TAG, summary, params: idParams },
      handler: async (request) => {
        await admin(request);
        return merchantBody(await merchants.setStatus((request.params as { id: string }).id, status));
      },
    });
  }

  const { merchantOverview } = services;
  if (merchantOverview) {
    app.get('/v1/operator/merchants/:id/overview', {
      schema: {
        tags: TAG,
        summary:
          "One merchant's figures (admin): live volume by currency (succeeded payments and refunds, last 30 days and all time; amounts as decimal strings of minor units), platform fees collected, terminals, disputes, and the risk events of its face payments (second factors asked, refusals, wrong digits or PINs, \"This wasn't me\" disputes)",
        params: idParams,
      },
      handler: async (request) => {
        await admin(request);
        return overviewBody(await merchantOverview.overview((request.params as { id: string }).id));
      },
    });
  }

  app.post('/v1/operator/merchants/:id/closure', {
    schema: {
      tags: TAG,
      summary:
        'Close a suspended merchant for good (admin): its keys, logins and terminals are refused with 403 merchant_closed from then on; refused while it is not suspended (409 merchant_not_suspended), a payout run holding its money is open (409 payout_open) or its settlement balance is not zero (409 merchant_balance_not_zero); closing again answers it as it is',
      params: idParams,
    },
    handler: async (request) => {
      const staff = await admin(request);
      return merchantBody(await merchants.closeMerchant((request.params as { id: string }).id, staff.id));
    },
  });

  if (invitations) {
    app.post('/v1/operator/merchants/:id/invitations', {
      schema: {
        tags: TAG,
        summary: "Invite the merchant's owner by e-mail (admin): a single-use link valid for 1 or 24 hours; a newer invitation to the same address voids the older",
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['email'],
          properties: { email: { type: 'string', minLength: 1, maxLength: 254 }, valid_hours: { type: 'integer', enum: [1, 24] } },
        },
      },
      handler: async (request, reply) => {
        const staff = await admin(request);
        const b = request.body as { email: string; valid_hours?: number };
        const inv = await invitations.invite({ merchantId: (request.params as { id: string }).id, email: b.email, hours: b.valid_hours ?? 24, invitedBy: staff.id });
        return reply.code(201).send(invitationBody(inv));
      },
    });

    app.post('/v1/operator/merchants/:id/invitations/:invitation/revocation', {
      schema: {
        tags: TAG,
        summary: 'Withdraw an open owner invitation (admin): its link stops working',
        params: { type: 'object', required: ['id', 'invitation'], properties: { id: { type: 'string', maxLength: 64 }, invitation: { type: 'string', maxLength: 64 } } },
      },
      handler: async (request) => {
        await admin(request);
        const p = request.params as { id: string; invitation: string };
        return invitationBody(await invitations.revoke(p.id, p.invitation));
      },
    });

    const tokenBody = { token: { type: 'string', minLength: 1, maxLength: 128 } } as const;
    app.post('/v1/staff/invitations/lookup', {
      schema: {
        tags: ['Staff'],
        summary: "The accept page's first step: the address and merchant of an open invitation (invitation_invalid when used, expired or replaced)",
        body: { type: 'object', additionalProperties: false, required: ['token'], properties: tokenBody },
      },
      handler: async (request) => {
        const i = await invitations.lookup((request.body as { token: string }).token);
        return { object: 'staff_invitation', email: i.email, merchant: { id: i.merchantId, name: i.merchantName }, expires_at: iso(i.expiresAt) };
      },
    });

    app.post('/v1/staff/invitations/accept', {
      schema: {
        tags: ['Staff'],
        summary: "Accept an invitation: choose a name and password; the link is spent and the console login made (then sign in with POST /v1/staff/login)",
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['token', 'name', 'password'],
          properties: { ...tokenBody, name: { type: 'string', minLength: 1, maxLength: 100 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
        },
      },
      handler: async (request, reply) => {
        const b = request.body as { token: string; name: string; password: string };
        const m = await invitations.accept(b.token, { name: b.name, password: b.password });
        return reply.code(201).send({ id: m.id, object: 'staff_member', merchant_id: m.merchantId, email: m.email, name: m.name, role: m.role });
      },
    });
  }

  const { fundingService } = services;
  if (fundingService) {
    app.post('/v1/operator/funding/unmatched/:entry_ref/return', {
      schema: {
        tags: TAG,
        summary: 'Resolve an unmatched bank credit by sending it back to the payer (admin; no wallet is credited; once per entry)',
        params: { type: 'object', required: ['entry_ref'], properties: { entry_ref: { type: 'string', maxLength: 200 } } },
        body: { type: 'object', additionalProperties: false, required: ['note'], properties: { note: { type: 'string', minLength: 1, maxLength: 500 } } },
      },
      handler: async (request) => {
        await admin(request);
        const r = await fundingService.returnUnmatched((request.params as { entry_ref: string }).entry_ref, (request.body as { note: string }).note);
        return { object: 'bank_entry', entry_ref: r.entryRef, status: 'returned', amount: r.amount, currency: r.currency, returned_at: iso(r.returnedAt), note: r.note };
      },
    });

    app.get('/v1/operator/funding/references/:reference', {
      schema: {
        tags: TAG,
        summary: "The shopper behind an RF payment reference (admin), to assign an unmatched credit whose payer mistyped it",
        params: { type: 'object', required: ['reference'], properties: { reference: { type: 'string', maxLength: 64 } } },
      },
      handler: async (request) => {
        await admin(request);
        const reference = (request.params as { reference: string }).reference;
        const shopperId = await fundingService.shopperOfReference(reference);
        if (shopperId === null) throw new DomainError('not_found', 'reference_not_found', `no shopper has the payment reference ${reference}`);
        const s = services.desk ? await services.desk.findShopperById(shopperId) : null;
        return { object: 'payment_reference', reference: reference.replace(/\s+/g, '').toUpperCase(), shopper_id: shopperId, name: s?.name ?? null };
      },
    });
  }

  const { settlement } = services;
  if (settlement) {
    app.get('/v1/operator/withdrawals', {
      schema: {
        tags: TAG,
        summary: "Shoppers' withdrawals, newest first (admin), optionally of one status",
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { status: { type: 'string', enum: ['pending', 'approved', 'rejected', 'in_payout', 'paid', 'returned'] }, limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$' } },
        },
      },
      handler: async (request) => {
        await admin(request);
        const q = request.query as { status?: string; limit?: string };
        return { object: 'list', data: (await settlement.listWithdrawals({ ...(q.status ? { status: q.status } : {}), ...(q.limit ? { limit: Number(q.limit) } : {}) })).map(withdrawalBody) };
      },
    });

    app.post('/v1/operator/withdrawals/:id/approval', {
      schema: { tags: TAG, summary: 'Approve a pending withdrawal (admin): the next payout run pays it', params: idParams },
      handler: async (request) => {
        await admin(request);
        return withdrawalBody(await settlement.approveWithdrawal((request.params as { id: string }).id));
      },
    });

    app.post('/v1/operator/withdrawals/:id/rejection', {
      schema: { tags: TAG, summary: "Reject a pending or approved withdrawal (admin): the money goes back to the shopper's wallet", params: idParams },
      handler: async (request) => {
        await admin(request);
        return withdrawalBody(await settlement.rejectWithdrawal((request.params as { id: string }).id));
      },
    });

    app.get('/v1/operator/payouts', {
      schema: {
        tags: TAG,
        summary: 'Payout runs, newest first (admin)',
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$' } } },
      },
      handler: async (request) => {
        await admin(request);
        const limit = (request.query as { limit?: string }).limit;
        return { object: 'list', data: (await settlement.listPayoutRuns(limit ? Number(limit) : 50)).map(runBody) };
      },
    });
  }
}
