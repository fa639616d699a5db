import type { FastifyInstance, FastifySchema } from 'fastify';
import { SCOPES, type ApiKey, type Store } from '../../merchants/index.ts';
import { DomainError } from '../../platform/index.ts';
import { requireAuth } from '../auth.ts';
import { idParams, listBody, listQuery, pageArgs } from '../schemas.ts';
import type { AppServices } from '../types.ts';

export const storeResource = (s: Store) => ({ id: s.id, object: 'store', name: s.name, metadata: s.metadata, created: s.createdAt });

export const keyResource = (k: ApiKey) => ({
  id: k.id,
  object: 'api_key',
  name: k.name,
  mode: k.mode,
  scopes: k.scopes,
  last4: k.last4,
  revoked: k.revokedAt !== null,
  revoked_at: k.revokedAt,
  created: k.createdAt,
});

export function registerMerchantRoutes(app: FastifyInstance, { merchants }: AppServices): void {
  app.get('/v1/merchant', {
    config: { auth: 'any' },
    schema: { tags: ['Merchant'], summary: 'The merchant this API key belongs to' } as FastifySchema,
    handler: async (request) => {
      const auth = requireAuth(request);
      const m = await merchants.getMerchant(auth.merchantId);
      return { id: m.id, object: 'merchant', name: m.name, created: m.createdAt, api_key: { id: auth.keyId, mode: auth.mode, scopes: auth.scopes } };
    },
  });

  app.post('/v1/stores', {
    config: { auth: 'stores:write' },
    schema: {
      tags: ['Stores'],
      summary: 'Create a store',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200 },
          metadata: { type: 'object', maxProperties: 20, additionalProperties: { type: 'string', maxLength: 500 } },
        },
      },
    },
    handler: async (request) => {
      const b = request.body as { name: string; metadata?: Record<string, string> };
      return storeResource(await merchants.createStore(requireAuth(request).merchantId, { name: b.name, ...(b.metadata ? { metadata: b.metadata } : {}) }));
    },
  });

  app.get('/v1/stores', {
    config: { auth: 'stores:read' },
    schema: { tags: ['Stores'], summary: 'List stores, newest first', querystring: listQuery() },
    handler: async (request) => listBody(await merchants.listStores(requireAuth(request).merchantId, pageArgs(request.query)), storeResource),
  });

  app.get('/v1/stores/:id', {
    config: { auth: 'stores:read' },
    schema: { tags: ['Stores'], summary: 'Retrieve a store', params: idParams },
    handler: async (request) => storeResource(await merchants.getStore(requireAuth(request).merchantId, (request.params as { id: string }).id)),
  });

  app.post('/v1/api_keys', {
    config: { auth: 'keys:write' },
    schema: {
      tags: ['API keys'],
      summary: 'Create an API key (its secret is in this answer only)',
      description: 'A key can only make keys of its own mode and with scopes it has itself; a console owner makes keys of either mode.',
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200 },
          mode: { type: 'string', enum: ['test', 'live'] },
          scopes: { type: 'array', minItems: 1, maxItems: SCOPES.length, uniqueItems: true, items: { type: 'string', enum: [...SCOPES] } },
        },
      },
    },
    handler: async (request) => {
      const auth = requireAuth(request);
      const b = request.body as { name?: string; mode?: 'test' | 'live'; scopes?: string[] };
      const mode = b.mode ?? auth.mode;
      const scopes = b.scopes ?? auth.scopes;
      // An owner signed in to the console stands for the merchant, not for one key, and makes either mode.
      if (auth.staff === undefined && mode !== auth.mode) throw new DomainError('forbidden', 'api_key_mode_mismatch', `a ${auth.mode} key can only create ${auth.mode} keys`);
      if (!auth.scopes.includes('*') && scopes.some((s) => !auth.scopes.includes(s))) {
        throw new DomainError('forbidden', 'api_key_scope_insufficient', 'a key cannot grant scopes it does not have');
      }
      const { key, secret } = await merchants.createApiKey(auth.merchantId, { mode, scopes, ...(b.name ? { name: b.name } : {}) });
      return { ...keyResource(key), secret };
    },
  });

  app.get('/v1/api_keys', {
    config: { auth: 'keys:read' },
    schema: { tags: ['API keys'], summary: 'List API keys (never their secrets)', querystring: listQuery() },
    handler: async (request) => listBody(await merchants.listApiKeys(requireAuth(request).merchantId, pageArgs(request.query)), keyResource),
  });

  app.post('/v1/api_keys/:id/revoke', {
    config: { auth: 'keys:write' },
    schema: { tags: ['API keys'], summary: 'Revoke an API key; it stops working at once', params: idParams },
    handler: async (request) => keyResource(await merchants.revokeApiKey(requireAuth(request).merchantId, (request.params as { id: string }).id)),
  });
}
