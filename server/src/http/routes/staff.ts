/**
 * Console sign-in and staff management. A staff session is an HttpOnly, SameSite=Strict cookie
 * (`fp_staff`) that the auth hook accepts on every merchant route in place of an API key, with the
 * scopes of the person's role; writes made with it carry `X-Facepay-Console: 1` (see auth.ts).
 */
import type { FastifyInstance, FastifySchema } from 'fastify';
import { DomainError, isDomainError } from '../../platform/index.ts';
import type { StaffMember } from '../../staff/index.ts';
import { requireAuth, STAFF_COOKIE } from '../auth.ts';
import { readCookie, setSessionCookie } from '../cookies.ts';
import { createLoginThrottle } from '../login-throttle.ts';
import { idParams } from '../schemas.ts';
import type { AppServices } from '../types.ts';

const TAG = ['Staff'];
const SESSION_SECONDS = 12 * 3600;

export const staffResource = (s: StaffMember) => ({
  id: s.id,
  object: 'staff_member',
  email: s.email,
  name: s.name,
  role: s.role,
  refund_limit: s.refundLimit,
  created: s.createdAt,
});

const roleSchema = { type: 'string', enum: ['owner', 'manager', 'cashier'] } as const;
const limitSchema = { anyOf: [{ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, { type: 'null' }], description: "A cashier's largest refund, in minor units." } as const;

export function registerStaffRoutes(app: FastifyInstance, { staff, merchants, clock }: AppServices): void {
  if (staff === undefined) return;
  const throttle = createLoginThrottle(clock);

  app.post('/v1/staff/login', {
    schema: {
      tags: TAG,
      summary: 'Sign in to the console (sets the fp_staff cookie)',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['email', 'password'],
        properties: {
          email: { type: 'string', minLength: 1, maxLength: 254 },
          password: { type: 'string', minLength: 1, maxLength: 1024 },
          merchant_id: { type: 'string', minLength: 1, maxLength: 128 },
        },
      },
    },
    handler: async (request, reply) => {
      const b = request.body as { email: string; password: string; merchant_id?: string };
      const { staff: member, sessionToken } = await throttle.guard(b.email, request.ip, () => staff.logIn(b.email, b.password, b.merchant_id));
      // Checked after the password, so the answer tells only someone who knows it that the merchant is suspended.
      await merchants.assertActive(member.merchantId).catch(async (e: unknown) => {
        await staff.logOut(sessionToken);
        throw e;
      });
      setSessionCookie(request, reply, STAFF_COOKIE, sessionToken, SESSION_SECONDS);
      const m = await merchants.getMerchant(member.merchantId);
      return { ...staffResource(member), merchant: { id: m.id, name: m.name }, scopes: staff.scopesFor(member.role) };
    },
  });

  app.post('/v1/staff/logout', {
    schema: { tags: TAG, summary: 'Sign out of the console' },
    handler: async (request, reply) => {
      const token = readCookie(request, STAFF_COOKIE);
      if (token !== undefined) await staff.logOut(token);
      setSessionCookie(request, reply, STAFF_COOKIE, null, 0);
      return { ok: true };
    },
  });

  app.post('/v1/staff/password', {
    config: { auth: 'any' },
    schema: {
      tags: TAG,
      summary: 'Change the signed-in staff member\'s password (the current one first); other sessions end',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['current_password', 'new_password'],
        properties: { current_password: { type: 'string', minLength: 1, maxLength: 1024 }, new_password: { type: 'string', minLength: 1, maxLength: 1024 } },
      },
    } as FastifySchema,
    handler: async (request, reply) => {
      const auth = requireAuth(request);
      if (!auth.staff) throw new DomainError('unauthorized', 'staff_session_required', 'this answers for a console session, not an API key');
      const b = request.body as { current_password: string; new_password: string };
      const member = await staff.get(auth.merchantId, auth.staff.id);
      staff.checkPassword(b.new_password);
      // The current password is checked as a sign-in is, under the same throttle.
      await throttle.guard(member.email, request.ip, () => staff.logIn(member.email, b.current_password, member.merchantId)).catch((e: unknown) => {
        throw isDomainError(e) && e.code === 'invalid_credentials' ? new DomainError('forbidden', 'current_password_wrong', 'The current password is not right.') : e;
      });
      await staff.setPassword(member.id, b.new_password);
      const { sessionToken } = await staff.logIn(member.email, b.new_password, member.merchantId);
      setSessionCookie(request, reply, STAFF_COOKIE, sessionToken, SESSION_SECONDS);
      return { status: 'password_changed' };
    },
  });

  app.get('/v1/staff/me', {
    config: { auth: 'any' },
    schema: { tags: TAG, summary: 'Who is signed in to the console, with the merchant and the scopes of the role' } as FastifySchema,
    handler: async (request) => {
      const auth = requireAuth(request);
      if (!auth.staff) throw new DomainError('unauthorized', 'staff_session_required', 'this answers for a console session, not an API key');
      const m = await merchants.getMerchant(auth.merchantId);
      return { ...staffResource(await staff.get(auth.merchantId, auth.staff.id)), merchant: { id: m.id, name: m.name }, scopes: auth.scopes };
    },
  });

  app.get('/v1/staff', {
    config: { auth: 'staff:read' },
    schema: { tags: TAG, summary: "The merchant's console logins (owners only)" } as FastifySchema,
    handler: async (request) => {
      const list = await staff.list(requireAuth(request).merchantId);
      return { object: 'list', data: list.map(staffResource), has_more: false, next_cursor: null };
    },
  });

  app.post('/v1/staff', {
    config: { auth: 'staff:write' },
    schema: {
      tags: TAG,
      summary: 'Create a console login with a first password (owners only)',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['email', 'name', 'password', 'role'],
        properties: {
          email: { type: 'string', minLength: 3, maxLength: 254 },
          name: { type: 'string', minLength: 1, maxLength: 100 },
          password: { type: 'string', minLength: 1, maxLength: 1024 },
          role: roleSchema,
          refund_limit: limitSchema,
        },
      },
    },
    handler: async (request, reply) => {
      const b = request.body as { email: string; name: string; password: string; role: string; refund_limit?: number | null };
      const member = await staff.create(requireAuth(request).merchantId, { ...b, refundLimit: b.refund_limit ?? null });
      return reply.code(201).send(staffResource(member));
    },
  });

  app.post('/v1/staff/:id', {
    config: { auth: 'staff:write' },
    schema: {
      tags: TAG,
      summary: "Change a login's name, role, refund limit or password (owners only)",
      params: idParams,
      body: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, role: roleSchema, refund_limit: limitSchema, password: { type: 'string', minLength: 1, maxLength: 1024 } },
      },
    },
    handler: async (request) => {
      const b = request.body as { name?: string; role?: string; refund_limit?: number | null; password?: string };
      const member = await staff.update(requireAuth(request).merchantId, (request.params as { id: string }).id, {
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.role !== undefined ? { role: b.role } : {}),
        ...(b.refund_limit !== undefined ? { refundLimit: b.refund_limit } : {}),
        ...(b.password !== undefined ? { password: b.password } : {}),
      });
      return staffResource(member);
    },
  });

  app.delete('/v1/staff/:id', {
    config: { auth: 'staff:write' },
    schema: { tags: TAG, summary: 'Remove a login; its sessions end at once (owners only)', params: idParams },
    handler: async (request) => {
      const { id } = request.params as { id: string };
      await staff.remove(requireAuth(request).merchantId, id);
      return { id, object: 'staff_member', deleted: true };
    },
  });
}
