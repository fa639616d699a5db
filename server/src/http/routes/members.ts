/**
 * The merchant's membership programme and CRM under /v1 (API key or console session). A merchant
 * sees its own member ids and the fields a member shares now, never a shopper id; face payments by
 * non-members appear only as daily totals.
 */
import type { FastifyInstance } from 'fastify';
import type { Coupon } from '../../marketing/index.ts';
import type { MemberFilter, MemberProfile, MemberSummary, Programme, Segment } from '../../members/index.ts';
import { MEMBER_FIELDS, SEGMENTS } from '../../members/index.ts';
import { hasScope, type MerchantAuth } from '../../merchants/index.ts';
import { DomainError } from '../../platform/index.ts';
import { requireAuth } from '../auth.ts';
import { snakeKeys } from '../schemas.ts';
import type { AppServices } from '../types.ts';

const TAG = ['Members'];
const DAY = 24 * 3600 * 1000;

const memberParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64, description: 'Your member id (mem_...).' } },
} as const;

const dateOrMs = { type: 'string', pattern: '^([0-9]{1,15}|[0-9]{4}-[0-9]{2}-[0-9]{2})$', description: 'Epoch milliseconds or a UTC date YYYY-MM-DD.' } as const;
const minorUnits = { type: 'string', pattern: '^[0-9]{1,15}$', description: 'Minor units.' } as const;

/** The filters of the list and the CSV export; query strings stay strings and are parsed here. */
const filterProperties = {
  segment: { type: 'string', maxLength: 20, description: `One of ${SEGMENTS.join(', ')}.` },
  tag: { type: 'string', minLength: 1, maxLength: 32 },
  q: { type: 'string', maxLength: 100, description: 'Text in the shared name or e-mail, or 3+ digits of the phone.' },
  status: { type: 'string', maxLength: 10, description: 'active (default), left or all.' },
  last_visit_from: { ...dateOrMs, description: 'Last visit at or after (epoch ms or YYYY-MM-DD, UTC).' },
  last_visit_to: { ...dateOrMs, description: 'Last visit before (epoch ms or YYYY-MM-DD, UTC).' },
  spend_min: minorUnits,
  spend_max: minorUnits,
} as const;

type FilterQuery = { [K in keyof typeof filterProperties]?: string };

/** Midnight UTC of a YYYY-MM-DD date, or NaN for a date that does not exist (2026-02-31). */
function utcDate(v: string): number {
  const t = Date.parse(`${v}T00:00:00Z`);
  return Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== v ? NaN : t;
}

function instant(v: string): number {
  return /^[0-9]+$/.test(v) ? Number(v) : utcDate(v);
}

function toFilter(q: FilterQuery): MemberFilter {
  const f: MemberFilter = {};
  if (q.segment !== undefined) f.segment = q.segment as Segment;
  if (q.tag !== undefined) f.tag = q.tag;
  if (q.q !== undefined) f.q = q.q;
  if (q.status !== undefined) f.status = q.status as MemberFilter['status'];
  for (const [k, key] of [['last_visit_from', 'lastVisitFrom'], ['last_visit_to', 'lastVisitTo']] as const) {
    const v = q[k];
    if (v === undefined) continue;
    const t = instant(v);
    if (!Number.isSafeInteger(t)) throw new DomainError('invalid', 'filter_invalid', `${k} is not a valid date.`);
    f[key] = t;
  }
  if (q.spend_min !== undefined) f.spendMin = Number(q.spend_min);
  if (q.spend_max !== undefined) f.spendMax = Number(q.spend_max);
  return f;
}

export function programmeResource(p: Programme, consentVersion: string): Record<string, unknown> {
  return {
    object: 'membership_programme',
    name: p.name,
    benefits: p.benefits,
    fields: p.fields,
    currency: p.currency,
    time_zone: p.timeZone,
    consent_version: consentVersion,
    created: p.createdAt,
    updated: p.updatedAt,
  };
}

/**
 * Whether the caller may see the personal fields members share: members:read does; members:lookup
 * alone (a cashier) sees members by member id, visits and spend, and an empty `fields`.
 */
function seesPersonalFields(auth: MerchantAuth): boolean {
  return hasScope(auth.scopes, 'members:read');
}

export function memberResource(m: MemberSummary, personal = true): Record<string, unknown> {
  return {
    id: m.memberId,
    object: 'member',
    status: m.status,
    joined_at: m.joinedAt,
    left_at: m.leftAt,
    fields: personal ? m.fields : {},
    tags: m.tags,
    visits: m.visits,
    spend: m.spend,
    average_ticket: m.averageTicket,
    first_visit_at: m.firstVisitAt,
    last_visit_at: m.lastVisitAt,
    rfm: m.rfm,
    segment: m.segment,
  };
}

function profileResource(m: MemberProfile, personal: boolean): Record<string, unknown> {
  return {
    ...memberResource(m, personal),
    weekdays: m.weekdays,
    hours: m.hours,
    usual_days: m.usualDays,
    usual_hours: m.usualHours,
    stores: m.stores.map((s) => ({ store: s.storeId, visits: s.visits, spend: s.spend })),
    recent_purchases: m.recentPurchases.map((p) => ({
      payment_intent: p.paymentId,
      store: p.storeId,
      amount: p.amount,
      refunded: p.refunded,
      currency: p.currency,
      created: p.at,
    })),
  };
}

export function couponResource(c: Coupon): Record<string, unknown> {
  return {
    id: c.id,
    object: 'coupon',
    campaign: c.campaignId,
    member: c.memberId,
    title: c.title,
    reward: snakeKeys(c.reward),
    currency: c.currency,
    status: c.status,
    valid_from: c.validFrom,
    valid_to: c.validTo,
    issued_at: c.issuedAt,
  };
}

export function registerMemberRoutes(app: FastifyInstance, { members, marketing, clock }: AppServices): void {
  app.put('/v1/membership/programme', {
    config: { auth: 'members:write' },
    schema: {
      tags: TAG,
      summary: 'Create or change the membership programme',
      description:
        'The fields listed are what the terminal asks a shopper who joins; each stays optional for the shopper. ' +
        'Amounts of the CRM and coupons are in the programme currency.',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'fields', 'currency'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 80 },
          benefits: { type: 'string', maxLength: 2000 },
          fields: { type: 'array', maxItems: MEMBER_FIELDS.length, items: { type: 'string', maxLength: 20 }, description: `Among ${MEMBER_FIELDS.join(', ')}.` },
          currency: { type: 'string', pattern: '^[a-zA-Z]{3}$' },
          time_zone: { type: 'string', minLength: 1, maxLength: 64, description: 'IANA time zone of your shops (default UTC).' },
        },
      },
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      const b = request.body as { name: string; benefits?: string; fields: string[]; currency: string; time_zone?: string };
      const p = await members.setProgramme(auth.merchantId, {
        name: b.name,
        benefits: b.benefits ?? '',
        fields: b.fields,
        currency: b.currency.toUpperCase(),
        timeZone: b.time_zone ?? 'UTC',
      });
      return programmeResource(p, members.consent.version);
    },
  });

  app.get('/v1/membership/programme', {
    config: { auth: 'members:lookup' },
    schema: { tags: TAG, summary: 'The membership programme' },
    handler: async (request) => programmeResource(await members.programme(requireAuth(request).merchantId), members.consent.version),
  });

  app.get('/v1/members', {
    config: { auth: 'members:lookup' },
    schema: {
      tags: TAG,
      summary: 'Members, newest first, with search and filters',
      description:
        'With members:lookup only (a cashier), each member comes without `fields` (an empty object) and `q` (a search of the ' +
        'personal fields) is refused 403 `member_search_personal`: open a member by their member id instead.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ...filterProperties,
          limit: { type: 'string', pattern: '^(200|1[0-9]{2}|[1-9][0-9]?)$', description: 'Page size, 1 to 200 (default 50).' },
          cursor: { type: 'string', maxLength: 200, description: 'The next_cursor of the previous page.' },
        },
      },
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      const q = request.query as FilterQuery & { limit?: string; cursor?: string };
      const personal = seesPersonalFields(auth);
      if (!personal && q.q !== undefined)
        throw new DomainError('forbidden', 'member_search_personal', 'Searching members by name, e-mail or phone needs the members:read scope; open a member by their member id.');
      const page = await members.listMembers(auth.merchantId, toFilter(q), {
        ...(q.limit !== undefined ? { limit: Number(q.limit) } : {}),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
      });
      return { object: 'list', data: page.items.map((m) => memberResource(m, personal)), has_more: page.nextCursor !== null, next_cursor: page.nextCursor, total: page.total };
    },
  });

  app.get('/v1/members/export.csv', {
    config: { auth: 'members:export' },
    schema: {
      tags: TAG,
      summary: 'The filtered members as CSV (shared fields only)',
      description: 'Needs the members:export scope. Cells that a spreadsheet would read as a formula are quoted safe.',
      querystring: { type: 'object', additionalProperties: false, properties: filterProperties },
    },
    handler: async (request, reply) => {
      const auth = requireAuth(request);
      const csv = await members.exportCsv(auth.merchantId, toFilter(request.query as FilterQuery));
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="members-${new Date(clock.now().getTime()).toISOString().slice(0, 10)}.csv"`)
        .send(csv);
    },
  });

  app.get('/v1/members/overview', {
    config: { auth: 'members:lookup' },
    schema: { tags: TAG, summary: 'Live members per segment, and how many left' },
    handler: async (request) => {
      const o = await members.overview(requireAuth(request).merchantId);
      return { object: 'members_overview', members: o.members, left: o.left, segments: o.segments };
    },
  });

  app.get('/v1/members/:id', {
    config: { auth: 'members:lookup' },
    schema: {
      tags: TAG,
      summary: 'A member: shared fields, visits, spend, habits, stores, RFM and segment',
      description: 'With members:lookup only (a cashier), `fields` is an empty object.',
      params: memberParams,
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      return profileResource(await members.getMember(auth.merchantId, (request.params as { id: string }).id), seesPersonalFields(auth));
    },
  });

  app.post('/v1/members/:id/tags', {
    config: { auth: 'members:write' },
    schema: {
      tags: TAG,
      summary: 'Tag a member',
      params: memberParams,
      body: { type: 'object', additionalProperties: false, required: ['tag'], properties: { tag: { type: 'string', minLength: 1, maxLength: 32 } } },
    },
    handler: async (request) => {
      const id = (request.params as { id: string }).id;
      const tags = await members.addTag(requireAuth(request).merchantId, id, (request.body as { tag: string }).tag);
      return { object: 'member_tags', member: id, tags };
    },
  });

  app.delete('/v1/members/:id/tags/:tag', {
    config: { auth: 'members:write' },
    schema: {
      tags: TAG,
      summary: "Remove a member's tag",
      params: { type: 'object', required: ['id', 'tag'], properties: { ...memberParams.properties, tag: { type: 'string', minLength: 1, maxLength: 32 } } },
    },
    handler: async (request) => {
      const { id, tag } = request.params as { id: string; tag: string };
      const tags = await members.removeTag(requireAuth(request).merchantId, id, tag);
      return { object: 'member_tags', member: id, tags };
    },
  });

  app.get('/v1/members/:id/coupons', {
    config: { auth: 'members:lookup' },
    schema: { tags: TAG, summary: "A member's coupons, every status", params: memberParams },
    handler: async (request) => {
      const auth = requireAuth(request);
      const id = (request.params as { id: string }).id;
      // Another merchant's member id must look missing, not empty.
      await members.getMember(auth.merchantId, id);
      const coupons = await marketing.couponsOf(auth.merchantId, id);
      return { object: 'list', data: coupons.map(couponResource), has_more: false, next_cursor: null };
    },
  });

  app.get('/v1/stats/non_members', {
    config: { auth: 'members:lookup' },
    schema: {
      tags: TAG,
      summary: 'Face payments by non-members per local day: count and net amount only',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          from: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'First day (default 30 days ago).' },
          to: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'Last day, included (default today).' },
        },
      },
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      const q = request.query as { from?: string; to?: string };
      const now = clock.now().getTime();
      const to = q.to ?? new Date(now).toISOString().slice(0, 10);
      const from = q.from ?? new Date(now - 30 * DAY).toISOString().slice(0, 10);
      for (const [k, d] of [['from', from], ['to', to]] as const)
        if (Number.isNaN(utcDate(d))) throw new DomainError('invalid', 'filter_invalid', `${k} is not a valid date.`);
      if (from > to) throw new DomainError('invalid', 'filter_invalid', 'from must not be after to.');
      const days = await members.nonMemberDaily(auth.merchantId, from, to);
      return { object: 'list', from, to, data: days.map((d) => ({ day: d.day, currency: d.currency, payments: d.payments, amount: d.amount })) };
    },
  });
}
