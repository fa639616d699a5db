import type { FastifyInstance } from 'fastify';
import type { DevicesService } from '../devices/index.ts';
import type { Ledger } from '../ledger/index.ts';
import type { MerchantAuth, MerchantService, WebhookService } from '../merchants/index.ts';
import type { PaymentService } from '../payments/index.ts';

/** The services routes can use. A module that adds routes adds its service here (optional until wired). */
export interface AppServices {
  merchants: MerchantService;
  webhooks: WebhookService;
  payments: PaymentService;
  ledger: Ledger;
  devices?: DevicesService;
}

/** One route file: registers its routes on the app. */
export type RouteRegistrar = (app: FastifyInstance, services: AppServices) => void;

declare module 'fastify' {
  interface FastifyRequest {
    /** The merchant, on routes that declare `config.auth`. */
    auth: MerchantAuth | null;
    /** Set while this request holds an Idempotency-Key. */
    idempotency: { scope: string; key: string } | null;
  }
  interface FastifyContextConfig {
    /** The API-key scope the route needs (`payments:write`, ...), or `any` for any valid key. */
    auth?: string;
  }
}
