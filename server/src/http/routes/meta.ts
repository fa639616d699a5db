import type { FastifyInstance } from 'fastify';
import type { AppServices } from '../types.ts';

/** Health and the API reference. The OpenAPI document itself is served by the app, which collects the routes. */
export function registerMetaRoutes(app: FastifyInstance, _services: AppServices): void {
  app.get('/health', async () => ({ status: 'ok' }));
}
