import type { CardRail, DeskService, FundingService, Reconciliation } from '../funding/index.ts';
import type { MerchantOverviewService, OperatorService } from '../operator/index.ts';
import type { FastifyInstance } from 'fastify';
import type { DevicesService } from '../devices/index.ts';
import type { Ledger } from '../ledger/index.ts';
import type { MerchantAuth, MerchantService, WebhookService } from '../merchants/index.ts';
import type { PaymentService } from '../payments/index.ts';
import type { PaymentViews } from '../payment-views/index.ts';
import type { FacePayService } from '../facepay/index.ts';
import type { FundingSource } from '../ledger/index.ts';
import type { MarketingService } from '../marketing/index.ts';
import type { MembersService } from '../members/index.ts';
import type { Clock } from '../platform/index.ts';
import type { ShopperService } from '../shoppers/index.ts';
import type { StaffInvitations, StaffService } from '../staff/index.ts';
import type { ReportsService } from '../reports/index.ts';
import type { PasswordResets } from '../resets/index.ts';
import type { DisputesService } from '../disputes/index.ts';
import type { FeeSchedule, SettlementService } from '../settlement/index.ts';
import type { RightsService } from '../rights/index.ts';
import type { PlatformLimitsService } from '../limits/index.ts';

/** The services routes can use. A module that adds routes adds its service here (optional until wired). */
export interface AppServices {
  merchants: MerchantService;
  webhooks: WebhookService;
  payments: PaymentService;
  /** Payments with their terminal's name, member id and coupon's campaign; the payments CSV. */
  paymentViews?: PaymentViews;
  ledger: Ledger;
  devices?: DevicesService;
  shoppers: ShopperService;
  members: MembersService;
  marketing: MarketingService;
  funding: FundingSource;
  /** Portal top-ups as funding intents (pending in live mode until a rail confirms them). */
  fundingService?: FundingService;
  /** The service desk rail (operator staff with the desk role credit wallets). */
  desk?: DeskService;
  /** Operator staff sign-in (desk and admin); without it the /v1/operator routes answer 401. */
  operators?: OperatorService;
  /** The operator's view of one merchant: volume, fees, terminals, disputes, risk events. */
  merchantOverview?: MerchantOverviewService;
  reconciliation?: Reconciliation;
  /** The card rail, when an acquirer adapter is wired in (none ships): its webhook and the shopper's card payment routes. */
  cardRail?: CardRail;
  /** Currency of shopper wallets, lower case. */
  walletCurrency: string;
  clock: Clock;
  /** With the face engine off (FACEPAY_FACE=0) its face steps answer 503 face_engine_off; pay codes still work. */
  facePay: FacePayService;
  /** Console sign-in; without it the staff cookie is not accepted. */
  staff?: StaffService;
  reports?: ReportsService;
  /** Owner invitations by e-mail, sent from the operator console. */
  invitations?: StaffInvitations;
  /** Forgotten passwords of staff and shoppers, by e-mail. */
  resets?: PasswordResets;
  /** "This wasn't me": shoppers open disputes, merchants refund from them. */
  disputes?: DisputesService;
  /** Settlement statements, withdrawals and payout runs. */
  settlement?: SettlementService;
  /** Per-merchant platform fee rates, set by the operator's admins. */
  feeRates?: FeeSchedule;
  /** Platform limits the operator's admins set at run time (the configuration gives the defaults). */
  platformLimits?: PlatformLimitsService;
  /** Shopper rights: export my data, delete my account (the face-template retention rule runs as a worker). */
  rights?: RightsService;
}

/** One route file: registers its routes on the app. */
export type RouteRegistrar = (app: FastifyInstance, services: AppServices) => void;

declare module 'fastify' {
  /** The OpenAPI words a route's schema may carry besides validation (see openapi.ts). */
  interface FastifySchema {
    tags?: readonly string[];
    summary?: string;
    description?: string;
  }
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
