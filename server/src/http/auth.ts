import type { FastifyRequest } from 'fastify';
import { hasScope, type MerchantAuth, type MerchantService } from '../merchants/index.ts';
import { DomainError } from '../platform/index.ts';

/**
 * Resolves the merchant behind `Authorization: Bearer sk_...` and checks the scope a route needs.
 * Exported for other modules' merchant-facing routes; routes normally just declare
 * `config: { auth: 'area:read' | 'area:write' }` and read `requireAuth(request)`.
 */
export async function authenticateMerchant(merchants: MerchantService, request: FastifyRequest, scope: string): Promise<MerchantAuth> {
  const header = request.headers.authorization;
  if (header === undefined || header === '') {
    throw new DomainError('unauthorized', 'api_key_missing', 'send your API key as Authorization: Bearer sk_...');
  }
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m) throw new DomainError('unauthorized', 'api_key_invalid', 'the Authorization header must be Bearer <API key>');
  const auth = await merchants.authenticate(m[1]!);
  if (scope !== 'any' && !hasScope(auth.scopes, scope)) {
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
