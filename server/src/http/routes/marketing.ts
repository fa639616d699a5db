/**
 * Campaigns, audiences and messages under /v1 (API key or console session). Rewards and audiences
 * are written as the API's snake_case (`min_spend`), the marketing module's rules check them.
 */
import type { FastifyInstance } from 'fastify';
import type { Audience, Campaign, CampaignInput, CampaignResults, CampaignStatus, Reward } from '../../marketing/index.ts';
import { requireAuth } from '../auth.ts';
import { camelKeys, idParams, snakeKeys } from '../schemas.ts';
import type { AppServices } from '../types.ts';

const TAG = ['Marketing'];

const rewardSchema = {
  type: 'object',
  required: ['kind'],
  description:
    'amount_off {amount, min_spend?}; percent_off {percent, cap (null: none), min_spend?}; spend_save {threshold, amount}; ' +
    'free_item {code, label, value?, min_spend?}. Amounts in minor units of the programme currency.',
  // Closed: every field any kind takes, and nothing else, so that unknown or deeply nested values
  // are refused here rather than stored; which fields a kind needs is the marketing rules' check.
  additionalProperties: false,
  properties: {
    kind: { type: 'string', enum: ['amount_off', 'percent_off', 'spend_save', 'free_item'] },
    amount: { type: 'number' },
    min_spend: { type: 'number' },
    percent: { type: 'number' },
    cap: { type: ['number', 'null'] },
    threshold: { type: 'number' },
    code: { type: 'string', maxLength: 64 },
    label: { type: 'string', maxLength: 200 },
    value: { type: 'number' },
  },
} as const;

const audienceSchema = {
  type: 'object',
  required: ['kind'],
  description: 'all; new {days? (30)}; segment {segment}; birthday_month; lapsed {days}; tag {tag}.',
  additionalProperties: false,
  properties: {
    kind: { type: 'string', enum: ['all', 'new', 'segment', 'birthday_month', 'lapsed', 'tag'] },
    days: { type: 'number' },
    segment: { type: 'string', maxLength: 64 },
    tag: { type: 'string', maxLength: 200 },
  },
} as const;

const epochMs = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Epoch milliseconds.' } as const;

export function campaignResource(c: Campaign): Record<string, unknown> {
  return {
    id: c.id,
    object: 'campaign',
    name: c.name,
    status: c.status,
    trigger: c.trigger,
    audience: snakeKeys(c.audience),
    reward: snakeKeys(c.reward),
    currency: c.currency,
    valid_from: c.validFrom,
    valid_to: c.validTo,
    coupon_days: c.couponDays,
    budget: { max_discount: c.budget.maxDiscount, max_coupons: c.budget.maxCoupons },
    per_member_limit: c.perMemberLimit,
    holdout_percent: c.holdoutPercent,
    message: c.message,
    issued_count: c.issuedCount,
    discount_used: c.discountUsed,
    created: c.createdAt,
  };
}

function resultsResource(r: CampaignResults): Record<string, unknown> {
  const { campaignId, ...rest } = r;
  return { object: 'campaign_results', campaign: campaignId, ...(snakeKeys(rest) as Record<string, unknown>) };
}

export function registerMarketingRoutes(app: FastifyInstance, { marketing, clock }: AppServices): void {
  app.post('/v1/campaigns', {
    config: { auth: 'marketing:write' },
    schema: {
      tags: TAG,
      summary: 'Create a campaign (it starts active)',
      description:
        'trigger: join (a welcome coupon), payment (a coupon for next time), schedule (the hourly run reaches the audience), ' +
        'manual (sent with POST /v1/campaigns/{id}/send). A random holdout (10 % by default) gets nothing, to measure the uplift.',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'trigger', 'audience', 'reward', 'currency', 'valid_to'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 80 },
          trigger: { type: 'string', enum: ['join', 'payment', 'schedule', 'manual'] },
          audience: audienceSchema,
          reward: rewardSchema,
          currency: { type: 'string', pattern: '^[a-zA-Z]{3}$' },
          valid_from: { ...epochMs, description: 'Default now.' },
          valid_to: epochMs,
          coupon_days: { type: ['integer', 'null'], minimum: 1, maximum: 3650, description: 'How long an issued coupon lasts; null: until the campaign ends.' },
          budget: {
            type: 'object',
            additionalProperties: false,
            properties: { max_discount: { type: ['integer', 'null'], minimum: 1 }, max_coupons: { type: ['integer', 'null'], minimum: 1 } },
          },
          per_member_limit: { type: 'integer', minimum: 1, maximum: 1000 },
          holdout_percent: { type: 'integer', minimum: 0, maximum: 50 },
          message: {
            type: ['object', 'null'],
            additionalProperties: false,
            required: ['title', 'body'],
            properties: { title: { type: 'string', minLength: 1, maxLength: 80 }, body: { type: 'string', maxLength: 1000 } },
          },
        },
      },
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      const b = request.body as {
        name: string;
        trigger: CampaignInput['trigger'];
        audience: object;
        reward: object;
        currency: string;
        valid_from?: number;
        valid_to: number;
        coupon_days?: number | null;
        budget?: { max_discount?: number | null; max_coupons?: number | null };
        per_member_limit?: number;
        holdout_percent?: number;
        message?: { title: string; body: string } | null;
      };
      const c = await marketing.createCampaign(auth.merchantId, {
        name: b.name,
        trigger: b.trigger,
        audience: camelKeys(b.audience) as Audience,
        reward: camelKeys(b.reward) as Reward,
        currency: b.currency.toUpperCase(),
        validFrom: b.valid_from ?? clock.now().getTime(),
        validTo: b.valid_to,
        ...(b.coupon_days !== undefined ? { couponDays: b.coupon_days } : {}),
        ...(b.budget ? { budget: { maxDiscount: b.budget.max_discount ?? null, maxCoupons: b.budget.max_coupons ?? null } } : {}),
        ...(b.per_member_limit !== undefined ? { perMemberLimit: b.per_member_limit } : {}),
        ...(b.holdout_percent !== undefined ? { holdoutPercent: b.holdout_percent } : {}),
        ...(b.message !== undefined ? { message: b.message } : {}),
      });
      return campaignResource(c);
    },
  });

  app.get('/v1/campaigns', {
    config: { auth: 'marketing:read' },
    schema: { tags: TAG, summary: 'Every campaign' },
    handler: async (request) => {
      const list = await marketing.campaigns(requireAuth(request).merchantId);
      return { object: 'list', data: list.map(campaignResource), has_more: false, next_cursor: null };
    },
  });

  app.get('/v1/campaigns/:id', {
    config: { auth: 'marketing:read' },
    schema: { tags: TAG, summary: 'A campaign', params: idParams },
    handler: async (request) => campaignResource(await marketing.campaign(requireAuth(request).merchantId, (request.params as { id: string }).id)),
  });

  app.post('/v1/campaigns/:id/status', {
    config: { auth: 'marketing:write' },
    schema: {
      tags: TAG,
      summary: 'Pause, resume or end a campaign (an ended one stays ended)',
      params: idParams,
      body: { type: 'object', additionalProperties: false, required: ['status'], properties: { status: { type: 'string', enum: ['active', 'paused', 'ended'] } } },
    },
    handler: async (request) => {
      const c = await marketing.setCampaignStatus(requireAuth(request).merchantId, (request.params as { id: string }).id, (request.body as { status: CampaignStatus }).status);
      return campaignResource(c);
    },
  });

  app.post('/v1/campaigns/:id/send', {
    config: { auth: 'marketing:write' },
    schema: { tags: TAG, summary: 'Issue a manual or scheduled campaign to its audience now', params: idParams },
    handler: async (request) => {
      const id = (request.params as { id: string }).id;
      const r = await marketing.issueNow(requireAuth(request).merchantId, id);
      return { object: 'campaign_send', campaign: id, issued: r.issued };
    },
  });

  app.get('/v1/campaigns/:id/results', {
    config: { auth: 'marketing:read' },
    schema: {
      tags: TAG,
      summary: 'Redemption rate and spend per member against the holdout, with the uplift and its 95 % interval',
      params: idParams,
    },
    handler: async (request) => resultsResource(await marketing.results(requireAuth(request).merchantId, (request.params as { id: string }).id)),
  });

  app.post('/v1/audiences/preview', {
    config: { auth: 'marketing:read' },
    schema: {
      tags: TAG,
      summary: 'How many live members an audience reaches now',
      body: { type: 'object', additionalProperties: false, required: ['audience'], properties: { audience: audienceSchema } },
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      const audience = camelKeys((request.body as { audience: object }).audience) as Audience;
      return { object: 'audience_preview', count: await marketing.audienceSize(auth.merchantId, audience) };
    },
  });

  app.post('/v1/messages', {
    config: { auth: 'marketing:write' },
    schema: {
      tags: TAG,
      summary: "A message to an audience: into each member's inbox, and out as message.sent webhook events",
      description: 'Members who muted you get nothing (they are counted in `muted`).',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['audience', 'title', 'body'],
        properties: { audience: audienceSchema, title: { type: 'string', minLength: 1, maxLength: 80 }, body: { type: 'string', maxLength: 1000 } },
      },
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      const b = request.body as { audience: object; title: string; body: string };
      const r = await marketing.sendMessage(auth.merchantId, { audience: camelKeys(b.audience) as Audience, title: b.title, body: b.body });
      return { id: r.messageId, object: 'message', title: b.title, recipients: r.recipients, muted: r.muted };
    },
  });
}
