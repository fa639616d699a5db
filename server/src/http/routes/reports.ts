import type { FastifyInstance } from 'fastify';
import type { PeriodFigures } from '../../reports/index.ts';
import { requireAuth } from '../auth.ts';
import type { AppServices } from '../types.ts';

const figures = (p: PeriodFigures) => ({
  sales: p.sales,
  refunded: p.refunded,
  payments: p.payments,
  payments_by_face: p.byFace,
  payments_by_pay_code: p.byPayCode,
  face_share: p.faceShare,
  new_members: p.newMembers,
  redemptions: p.redemptions,
  discount: p.discount,
});

export function registerReportRoutes(app: FastifyInstance, { reports }: AppServices): void {
  if (reports === undefined) return;
  app.get('/v1/reports/dashboard', {
    config: { auth: 'payments:read' },
    schema: {
      tags: ['Reports'],
      summary: 'Sales today and this month, face share, members, redemptions, and the last 30 days',
      description:
        "Days are the merchant's local days in `tz` (default: the membership programme's time zone, else UTC); amounts are in " +
        "the programme's currency (else the currency with most sales), in minor units. `face_share` is the share of terminal " +
        'payments made by face rather than with a pay code (null with none).',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { tz: { type: 'string', minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Paris.' } },
      },
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      const d = await reports.dashboard(auth.merchantId, { timeZone: (request.query as { tz?: string }).tz });
      return {
        object: 'dashboard',
        time_zone: d.timeZone,
        currency: d.currency,
        generated_at: d.generatedAt,
        today: figures(d.today),
        month: { ...figures(d.month), active_members: d.month.activeMembers, returning_members: d.month.returningMembers, returning_member_rate: d.month.returningRate },
        daily: d.daily.map((x) => ({ date: x.date, ...figures(x) })),
      };
    },
  });
}
