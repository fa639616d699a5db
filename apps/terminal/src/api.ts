/**
 * The terminal's calls to the platform, all signed by the device SDK. The wire uses the API's
 * snake_case; the screens get the flow's own types.
 */
import { DeviceApiError, type DeviceClient } from '@facepay/device-sdk';
import { base64, type CapturedFrame } from '@facepay/face-capture';
import type { Challenge, Decision, Intent } from './flow.ts';

export interface TerminalInfo {
  terminalId: string;
  storeId: string;
  merchantId: string;
  name: string;
  currency: string;
}

interface WireIntent {
  id: string;
  amount: number;
  currency: string;
  order_reference?: string | null;
  description?: string | null;
}

interface WireDecision {
  outcome: Decision['outcome'];
  attempt_id?: string;
  attempts_left?: number;
  masked_name?: string;
  amount_due?: number;
  discount?: number;
  coupon?: { id: string; title: string } | null;
  offers?: { id: string; title: string }[];
  membership?: { programme: string; fields: string[] } | null;
  code?: string;
  message?: string;
}

export interface PaymentAnswer {
  status: 'succeeded' | 'failed';
  code?: string;
  message?: string;
}

function toIntent(w: WireIntent): Intent {
  return {
    id: w.id,
    amount: w.amount,
    currency: w.currency,
    ...(w.order_reference ? { reference: w.order_reference } : {}),
    ...(w.description ? { description: w.description } : {}),
  };
}

function toDecision(w: WireDecision): Decision {
  switch (w.outcome) {
    case 'match':
      return {
        outcome: 'match',
        attemptId: w.attempt_id ?? '',
        maskedName: w.masked_name ?? '',
        amountDue: w.amount_due ?? 0,
        discount: w.discount ?? 0,
        offers: w.offers ?? [],
        ...(w.coupon ? { coupon: w.coupon } : {}),
        ...(w.membership ? { membership: w.membership } : {}),
      };
    case 'ambiguous':
      return { outcome: 'ambiguous', attemptId: w.attempt_id ?? '', attemptsLeft: w.attempts_left ?? 0 };
    case 'pin':
      return { outcome: 'pin', attemptId: w.attempt_id ?? '', attemptsLeft: w.attempts_left ?? 0 };
    case 'retry':
    case 'refused':
      return { outcome: w.outcome, code: w.code ?? w.outcome, message: w.message ?? '' };
    default:
      return { outcome: w.outcome } as Decision;
  }
}

/** A final payment answer: a refusal by the platform is an outcome, not an exception. */
async function paymentAnswer(response: Response): Promise<PaymentAnswer> {
  const body = (await response.json().catch(() => ({}))) as { status?: string; error?: { code?: string; message?: string } };
  if (response.ok && (body.status === 'succeeded' || body.status === 'failed')) return body as PaymentAnswer;
  return { status: 'failed', code: body.error?.code ?? `http_${response.status}`, message: body.error?.message ?? 'The payment was refused.' };
}

/** Whether an error is the platform's answer (it was reached) rather than a network failure. */
export function isPlatformAnswer(e: unknown): boolean {
  return e instanceof DeviceApiError;
}

export function terminalApi(client: DeviceClient, baseUrl: string = location.origin) {
  return {
    /** Resolves when the platform answers at all; rejects when it cannot be reached within a few seconds. */
    async ping(): Promise<void> {
      await fetch(`${baseUrl}/health`, { cache: 'no-store', signal: AbortSignal.timeout(4_000) });
    },

    async me(): Promise<TerminalInfo> {
      const w = await client.json<{ terminal_id: string; store_id: string; merchant_id: string; name: string; currency: string }>('/device/v1/me');
      return { terminalId: w.terminal_id, storeId: w.store_id, merchantId: w.merchant_id, name: w.name, currency: w.currency };
    },

    /** The intent the till created for this terminal, if one waits. */
    async nextIntent(): Promise<Intent | null> {
      const w = await client.json<{ intent: WireIntent | null }>('/device/v1/payment_intents/next');
      return w.intent ? toIntent(w.intent) : null;
    },

    async createIntent(amount: number, currency: string, clientId: string): Promise<Intent> {
      return toIntent(await client.json<WireIntent>('/device/v1/payment_intents', { json: { amount, currency, idempotency_key: clientId } }));
    },

    async challenge(intentId: string): Promise<{ attemptId: string; challenge: Challenge }> {
      const w = await client.json<{ attempt_id: string; challenge: { kind: Challenge['kind']; expires_at: number } }>(
        `/device/v1/payment_intents/${encodeURIComponent(intentId)}/face_challenges`,
        { json: {} },
      );
      return { attemptId: w.attempt_id, challenge: { id: w.attempt_id, kind: w.challenge.kind, expiresAt: w.challenge.expires_at } };
    },

    async capture(attemptId: string, frames: readonly CapturedFrame[], phoneLast4?: string): Promise<Decision> {
      try {
        const w = await client.json<WireDecision>(`/device/v1/face_attempts/${encodeURIComponent(attemptId)}/captures`, {
          json: {
            frames: frames.map((f) => ({ at: f.at, jpeg: base64(f.jpeg) })),
            sent_at: Date.now(),
            ...(phoneLast4 ? { phone_last4: phoneLast4 } : {}),
          },
        });
        return toDecision(w);
      } catch (e) {
        if (e instanceof DeviceApiError && e.status < 500) return { outcome: 'refused', code: e.code, message: e.message };
        throw e;
      }
    },

    /** The shopper's face-pay PIN from the keypad; sent once, never kept. */
    async pin(attemptId: string, pin: string): Promise<Decision> {
      try {
        return toDecision(await client.json<WireDecision>(`/device/v1/face_attempts/${encodeURIComponent(attemptId)}/pin`, { json: { pin } }));
      } catch (e) {
        if (e instanceof DeviceApiError && e.status < 500) return { outcome: 'refused', code: e.code, message: e.message };
        throw e;
      }
    },

    /** Retried through any network loss until a final answer: the payment id makes it safe. */
    async confirm(attemptId: string, paymentId: string, join: string[] | undefined, onRetry: (offline: boolean) => void): Promise<PaymentAnswer> {
      const response = await client.fetchUntilFinal(
        `/device/v1/face_attempts/${encodeURIComponent(attemptId)}/confirm`,
        { json: { payment_id: paymentId, ...(join ? { join } : {}) } },
        { onRetry: (i) => onRetry(i.error !== undefined) },
      );
      return paymentAnswer(response);
    },

    async payWithCode(intentId: string, code: string, paymentId: string, onRetry: (offline: boolean) => void): Promise<PaymentAnswer> {
      const response = await client.fetchUntilFinal(
        `/device/v1/payment_intents/${encodeURIComponent(intentId)}/pay_code`,
        { json: { code, payment_id: paymentId } },
        { onRetry: (i) => onRetry(i.error !== undefined) },
      );
      return paymentAnswer(response);
    },

    async cancel(intentId: string): Promise<void> {
      await client.json(`/device/v1/payment_intents/${encodeURIComponent(intentId)}/cancel`, { json: {} });
    },
  };
}

export type TerminalApi = ReturnType<typeof terminalApi>;
