/**
 * What a merchant sees of its payments beyond the payment itself: the terminal's name, the member
 * id the payment was recorded under, the campaign of the coupon it used; and the payments as CSV.
 * Each comes from the module that owns it, one query per page of payments, never one per payment.
 */
import type { PaymentIntent, PaymentService } from '../payments/index.ts';
import { amountReceived, type IntentFilter, type Mode } from '../payments/index.ts';
import { amountAsDecimal, csvRow } from '../platform/index.ts';

export interface PaymentViewsDeps {
  payments: Pick<PaymentService, 'listIntents'>;
  /** Absent when the platform runs without terminals: names are then null. */
  terminals?: { terminalLabels(merchantId: string, ids: readonly string[]): Promise<Map<string, string>> } | undefined;
  members: { memberIdsOfPayments(merchantId: string, paymentIds: readonly string[]): Promise<Map<string, string>> };
  coupons: { couponCampaigns(merchantId: string, couponIds: readonly string[]): Promise<Map<string, { campaignId: string; campaignName: string }>> };
  stores: { storeNames(merchantId: string): Promise<Map<string, string>> };
}

export interface PaymentView {
  intent: PaymentIntent;
  terminalName: string | null;
  /** The merchant's member id when the payer was a member (recorded once the payment settled). */
  memberId: string | null;
  /** The campaign whose coupon paid the discount. */
  couponCampaign: { id: string; name: string } | null;
}

export type ExportQuery = IntentFilter & { mode: Mode };

/** The CSV's columns, in order: amounts once as decimals in the payment's currency and once in minor units. */
export const PAYMENT_CSV_COLUMNS = [
  'id', 'created', 'status', 'currency', 'amount', 'discount', 'amount_received', 'amount_refunded', 'platform_fee',
  'amount_minor', 'discount_minor', 'amount_received_minor', 'amount_refunded_minor', 'platform_fee_minor',
  'payment_method', 'store', 'store_name', 'terminal', 'terminal_name', 'member', 'coupon', 'coupon_campaign',
  'order_reference', 'description',
] as const;

/** Payments read per query while exporting: memory stays at one page whatever the merchant's size. */
export const EXPORT_PAGE = 500;

export function createPaymentViews(deps: PaymentViewsDeps) {
  async function describe(merchantId: string, intents: readonly PaymentIntent[]): Promise<PaymentView[]> {
    const terminalIds = intents.flatMap((p) => (p.terminalId === null ? [] : [p.terminalId]));
    const couponIds = intents.flatMap((p) => (p.couponId === null ? [] : [p.couponId]));
    const [terminals, members, coupons] = await Promise.all([
      deps.terminals && terminalIds.length > 0 ? deps.terminals.terminalLabels(merchantId, terminalIds) : new Map<string, string>(),
      intents.length > 0 ? deps.members.memberIdsOfPayments(merchantId, intents.map((p) => p.id)) : new Map<string, string>(),
      couponIds.length > 0 ? deps.coupons.couponCampaigns(merchantId, couponIds) : new Map<string, { campaignId: string; campaignName: string }>(),
    ]);
    return intents.map((intent) => {
      const c = intent.couponId === null ? undefined : coupons.get(intent.couponId);
      return {
        intent,
        terminalName: intent.terminalId === null ? null : (terminals.get(intent.terminalId) ?? null),
        memberId: members.get(intent.id) ?? null,
        couponCampaign: c ? { id: c.campaignId, name: c.campaignName } : null,
      };
    });
  }

  function csvLine(v: PaymentView, storeNames: Map<string, string>): string {
    const p = v.intent;
    const received = amountReceived(p);
    const fee = p.platformFee ?? 0;
    const dec = (minor: number): string => amountAsDecimal(minor, p.currency);
    return csvRow([
      p.id, new Date(p.createdAt).toISOString(), p.status, p.currency.toUpperCase(),
      dec(p.amount), dec(p.discount), dec(received), dec(p.amountRefunded), dec(fee),
      p.amount, p.discount, received, p.amountRefunded, fee,
      p.paymentMethod, p.storeId, storeNames.get(p.storeId) ?? null, p.terminalId, v.terminalName, v.memberId, p.couponId,
      v.couponCampaign?.name ?? null, p.orderReference, p.description,
    ]);
  }

  return {
    describe,

    /**
     * The payments that match, newest first, as CSV lines (the header first). The first page is
     * read before this answers, so a filter the payments module refuses is an error here, before
     * anything is sent; later pages are read as the lines are consumed.
     */
    async exportCsv(merchantId: string, query: ExportQuery, pageSize = EXPORT_PAGE): Promise<AsyncIterable<string>> {
      const first = await deps.payments.listIntents(merchantId, { ...query, limit: pageSize });
      const storeNames = await deps.stores.storeNames(merchantId);
      async function* lines(): AsyncGenerator<string> {
        yield csvRow(PAYMENT_CSV_COLUMNS);
        let page = first;
        for (;;) {
          let chunk = '';
          for (const v of await describe(merchantId, page.data)) chunk += csvLine(v, storeNames);
          if (chunk) yield chunk;
          if (!page.hasMore || page.nextCursor === null) return;
          page = await deps.payments.listIntents(merchantId, { ...query, limit: pageSize, cursor: page.nextCursor });
        }
      }
      return lines();
    },
  };
}

export type PaymentViews = ReturnType<typeof createPaymentViews>;
