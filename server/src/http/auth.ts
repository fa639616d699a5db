import type { FastifyRequest } from 'fastify';
import { hasScope, type MerchantAuth, type MerchantService } from '../merchants/index.ts';
import { DomainError } from '../platform/index.ts';
import type { StaffService } from '../staff/index.ts';
import { readCookie } from './cookies.ts';

/** The console's staff session cookie (set by POST /v1/staff/login). */
export const STAFF_COOKIE = 'fp_staff';
/**
 * Writes with the staff cookie must carry this header. A cross-site page cannot add a custom
 * header without a CORS preflight, which this server never grants, so a forged form or fetch from
 * another site is refused even where SameSite is not honoured.
 */
export const CONSOLE_HEADER = 'x-facepay-console';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

async function staffAuth(staff: StaffService, merchants: MerchantService, request: FastifyRequest, token: string): Promise<MerchantAuth> {
  const member = await staff.authenticate(token);
  await merchants.assertActive(member.merchantId);
  if (!SAFE_METHODS.has(request.method) && request.headers[CONSOLE_HEADER] !== '1') {
    throw new DomainError('forbidden', 'csrf_header_missing', `requests signed in by the console cookie send ${CONSOLE_HEADER}: 1`);
  }
  return {
    merchantId: member.merchantId,
    keyId: member.id,
    mode: 'live',
    scopes: staff.scopesFor(member.role),
    staff: { id: member.id, role: member.role, refundLimit: member.refundLimit },
  };
}

/**
 * Resolves the merchant behind `Authorization: Bearer sk_...` (or, without that header, the
 * console's staff session cookie) and checks the scope a route needs.
 * Exported for other modules' merchant-facing routes; routes normally just declare
 * `config: { auth: 'area:read' | 'area:write' }` and read `requireAuth(request)`.
 */
export async function authenticateMerchant(merchants: MerchantService, request: FastifyRequest, scope: string, staff?: StaffService): Promise<MerchantAuth> {
  const header = request.headers.authorization;
  let auth: MerchantAuth;
  if (header === undefined || header === '') {
    const token = staff === undefined ? undefined : readCookie(request, STAFF_COOKIE);
    if (token === undefined || staff === undefined) {
      throw new DomainError('unauthorized', 'api_key_missing', 'send your API key as Authorization: Bearer sk_...');
    }
    auth = await staffAuth(staff, merchants, request, token);
  } else {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new DomainError('unauthorized', 'api_key_invalid', 'the Authorization header must be Bearer <API key>');
    auth = await merchants.authenticate(m[1]!);
  }
  if (scope !== 'any' && !hasScope(auth.scopes, scope)) {
    if (auth.staff) {
      throw new DomainError('forbidden', 'staff_role_insufficient', `a ${auth.staff.role} may not do this (it needs ${scope})`, { required: scope, role: auth.staff.role });
    }
    throw new DomainError('forbidden', 'api_key_scope_insufficient', `this API key lacks the ${scope} scope`, { required: scope });
  }
  return auth;
}

/** The merchant of an authenticated route (set by the auth hook); throws if the route forgot `config.auth`. */
export function requireAuth(request: FastifyRequest): MerchantAuth {
  const a = request.auth;
  if (!a) throw new Error(`route ${request.routeOptions.url} reads auth but declares no config.auth`);
  return a;
}
