/**
 * Forgotten passwords of console staff, operator staff and shoppers: ask for a link by e-mail (the same answer
 * whether or not the address has an account), then set a new password with the link's token.
 * Both routes are in the sign-in rate-limit bucket (security.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { AccountKind } from '../../resets/index.ts';
import type { AppServices } from '../types.ts';

const paths: Record<AccountKind, { base: string; tag: string }> = {
  staff: { base: '/v1/staff/password_reset', tag: 'Staff' },
  shopper: { base: '/v1/shopper/password_reset', tag: 'Shopper' },
  operator: { base: '/v1/operator/password_reset', tag: 'Operator' },
};

export function registerResetRoutes(app: FastifyInstance, { resets }: AppServices): void {
  if (resets === undefined) return;
  for (const kind of ['staff', 'shopper', 'operator'] as const) {
    const { base, tag } = paths[kind];
    app.post(base, {
      schema: {
        tags: [tag],
        summary: 'Mail a single-use password reset link (answers the same whether or not the address has an account)',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['email'],
          properties: { email: { type: 'string', minLength: 1, maxLength: 254 } },
        },
      },
      handler: async (request, reply) => {
        await resets.request(kind, (request.body as { email: string }).email);
        return reply.code(202).send({ status: 'requested', message: 'If an account uses this address, a link to reset its password is on its way.' });
      },
    });
    app.post(`${base}/complete`, {
      schema: {
        tags: [tag],
        summary: "Set a new password with the reset link's token; every session of the account ends",
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['token', 'password'],
          properties: { token: { type: 'string', minLength: 1, maxLength: 128 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
        },
      },
      handler: async (request) => {
        const b = request.body as { token: string; password: string };
        await resets.complete(kind, b.token, b.password);
        return { status: 'password_changed' };
      },
    });
  }
}
