/**
 * Shopper rights under /v1/shopper: the data export and the account deletion, each confirmed with
 * the account password (a session alone, a borrowed phone, is not enough), whose wrong guesses
 * count towards the same kind of throttle as sign-in.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError, isDomainError } from '../../platform/index.ts';
import type { Deletion } from '../../rights/index.ts';
import { setSessionCookie } from '../cookies.ts';
import { createLoginThrottle } from '../login-throttle.ts';
import type { AppServices } from '../types.ts';
import { currentShopper } from './shoppers.ts';

const TAG = ['Shopper portal'];
const passwordBody = {
  type: 'object',
  additionalProperties: false,
  required: ['password'],
  properties: { password: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;

function deletionBody(d: Deletion): Record<string, unknown> {
  return { object: 'account_deletion', id: d.id, status: d.status, step: d.step, requested_at: d.requestedAt, finished_at: d.finishedAt };
}

export function registerRightsRoutes(app: FastifyInstance, services: AppServices): void {
  const { rights, shoppers } = services;
  if (rights === undefined) return;
  const throttle = createLoginThrottle(services.clock);

  /** The signed-in shopper, once the password they typed again is theirs. */
  async function confirmed(request: FastifyRequest): Promise<{ id: string; password: string }> {
    const s = await currentShopper(shoppers, request);
    const { password } = request.body as { password: string };
    await throttle
      .guard(s.email, request.ip, async () => {
        if (!(await shoppers.passwordMatches(s.id, password))) throw new DomainError('unauthorized', 'password_wrong', 'That is not your account password.');
      })
      .catch((e: unknown) => {
        throw isDomainError(e) && e.code === 'password_wrong' ? new DomainError('forbidden', 'password_wrong', 'That is not your account password.') : e;
      });
    return { id: s.id, password };
  }

  app.post('/v1/shopper/data_export', {
    schema: {
      tags: TAG,
      summary: 'Everything the platform holds about the signed-in shopper, as a JSON file (face templates excepted); the password again',
      body: passwordBody,
    },
    handler: async (request, reply) => {
      const { id, password } = await confirmed(request);
      const data = await rights.exportData(id, password);
      const day = new Date(services.clock.now().getTime()).toISOString().slice(0, 10);
      return reply.header('content-disposition', `attachment; filename="facepay-data-${day}.json"`).header('cache-control', 'no-store').send(data);
    },
  });

  app.get('/v1/shopper/account_deletion', {
    schema: { tags: TAG, summary: 'What deleting the account removes and keeps, and any deletion under way' },
    handler: async (request) => {
      const s = await currentShopper(shoppers, request);
      const d = await rights.deletionOf(s.id);
      return { object: 'account_deletion_terms', kept: rights.keptAfterDeletion, face_template_retention_days: rights.retentionDays, deletion: d && deletionBody(d) };
    },
  });

  app.post('/v1/shopper/account_deletion', {
    schema: {
      tags: TAG,
      summary: 'Delete the account (the password again); refused while the wallet holds money or a dispute is open',
      body: passwordBody,
    },
    handler: async (request, reply) => {
      const { id, password } = await confirmed(request);
      const d = await rights.requestDeletion(id, password);
      // Every session ended with the account; the browser's cookie goes too.
      setSessionCookie(request, reply, 'fp_session', null, 0);
      return reply.status(d.status === 'done' ? 200 : 202).send(deletionBody(d));
    },
  });
}
