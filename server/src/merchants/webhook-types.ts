export interface WebhookEndpoint {
  id: string;
  merchantId: string;
  url: string;
  /** Event types it receives; `*` for all. */
  events: string[];
  disabled: boolean;
  /** Test or live, as the key that made it: it receives only the events of its own mode. */
  mode: 'test' | 'live';
  createdAt: number;
}

/** One thing that happened, written in the same transaction as the change (the outbox). */
export interface WebhookEvent {
  id: string;
  merchantId: string;
  /** Test or live, as the object it is about; a key sees only its own mode's events. */
  mode: 'test' | 'live';
  type: string;
  objectId: string;
  /** The object as the API shows it, after the change. */
  data: Record<string, unknown>;
  createdAt: number;
}

export interface Delivery {
  id: string;
  merchantId: string;
  endpointId: string;
  eventId: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface DeliveryAttempt {
  id: string;
  deliveryId: string;
  attemptedAt: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** Sends one webhook; injected so tests need no network. */
export type WebhookPoster = (url: string, body: string, headers: Record<string, string>, timeoutMs: number) => Promise<{ status: number }>;
