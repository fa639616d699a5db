import { useState } from 'preact/hooks';
import { parseMoney, paymentMethodLabel, plainAmount } from '@facepay/web-common';
import { call, newActionKey, qs, type Dispute, type FaceDecisionEvent, type List, type PaymentIntent, type Refund, type Store, type Terminal } from '../api.ts';
import { go, type Session } from '../session.ts';
import { Alert, Badge, Field, Loading, message, money, Select, useLoad, when } from '../ui.tsx';

const STATUSES = [
  ['', 'Any status'],
  ['succeeded', 'Succeeded'],
  ['requires_face', 'Waiting for the shopper'],
  ['processing', 'Processing'],
  ['failed', 'Failed'],
  ['cancelled', 'Cancelled'],
] as const;

export function PaymentsPage({ session, id }: { session: Session; id: string | undefined }) {
  return id ? <PaymentDetail session={session} id={id} /> : <PaymentList session={session} />;
}

/** What the search form holds, as typed; the list shows the last one submitted. */
interface Search {
  text: string;
  store: string;
  terminal: string;
  status: string;
  from: string;
  to: string;
  min: string;
  max: string;
}

const NO_SEARCH: Search = { text: '', store: '', terminal: '', status: '', from: '', to: '', min: '', max: '' };

/** Midnight of a yyyy-mm-dd date in this browser's zone, in epoch ms; `after` gives the next midnight (an exclusive end). */
function localMidnight(date: string, after = false): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + (after ? 1 : 0)).getTime() : undefined;
}

/** The API's filters for a search (the server searches every payment, not the page in view); an error message when a field is wrong. */
function searchQuery(s: Search, currency: string): Record<string, string | number | undefined> | string {
  const money = (text: string, what: string): number | string | undefined => {
    if (!text.trim()) return undefined;
    return parseMoney(text, currency) ?? `Enter the ${what} as an amount, for example 12.50.`;
  };
  const min = money(s.min, 'lowest amount');
  const max = money(s.max, 'highest amount');
  if (typeof min === 'string') return min;
  if (typeof max === 'string') return max;
  const text = s.text.trim();
  return {
    store: s.store,
    terminal: s.terminal,
    status: s.status,
    order_reference_prefix: text,
    created_from: localMidnight(s.from),
    created_to: localMidnight(s.to, true),
    amount_min: min,
    amount_max: max,
  };
}

function PaymentList({ session }: { session: Session }) {
  const stores = useLoad(() => call<List<Store>>('GET', '/v1/stores?limit=100'));
  const [form, setForm] = useState<Search>(NO_SEARCH);
  const [applied, setApplied] = useState<Record<string, string | number | undefined>>({});
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const terminals = useLoad(
    () => (form.store ? call<List<Terminal>>('GET', `/v1/stores/${encodeURIComponent(form.store)}/terminals?limit=100`) : Promise.resolve(undefined)),
    [form.store],
  );
  const page = useLoad(() => call<List<PaymentIntent>>('GET', `/v1/payment_intents${qs({ limit: 25, ...applied, cursor })}`), [JSON.stringify(applied), cursor]);
  const [error, setError] = useState('');
  // Amounts are typed in the programme's currency, else in that of the payments in view.
  const currency = session.currency ?? page.data?.data[0]?.currency.toUpperCase() ?? 'EUR';
  const set = (patch: Partial<Search>): void => setForm({ ...form, ...patch });
  const apply = (next: Search): void => {
    setError('');
    const q = searchQuery(next, currency);
    if (typeof q === 'string') return setError(q);
    setApplied(q);
    setCursors([]);
  };
  const find = async (e: Event) => {
    e.preventDefault();
    const text = form.text.trim();
    // A payment id opens that payment; anything else searches order numbers that start with it.
    if (/^pi_[0-9a-z]+$/.test(text)) {
      try {
        const pi = await call<PaymentIntent>('GET', `/v1/payment_intents/${encodeURIComponent(text)}`);
        return go(`payments/${pi.id}`);
      } catch (err) {
        return setError(message(err));
      }
    }
    apply(form);
  };
  // Choosing from a list searches at once; typed fields wait for Enter or the button.
  const choose = (patch: Partial<Search>): void => {
    const next = { ...form, ...patch };
    setForm(next);
    apply(next);
  };
  const storeName = (sid: string): string => stores.data?.data.find((s) => s.id === sid)?.name ?? sid;
  const rows = page.data?.data ?? [];
  return (
    <>
      <h1>Payments</h1>
      <form class="filters" onSubmit={find} role="search" aria-label="Payments">
        <Field id="payment-search" label="Payment id or order number" value={form.text} onInput={(text) => set({ text })} hint="An order number finds those that start with it." />
        <Select
          id="payment-store"
          label="Store"
          value={form.store}
          onChange={(store) => choose({ store, terminal: '' })}
          options={[['', 'All stores'], ...(stores.data?.data ?? []).map((s) => [s.id, s.name] as const)]}
        />
        {form.store && (
          <Select
            id="payment-terminal"
            label="Terminal"
            value={form.terminal}
            onChange={(terminal) => choose({ terminal })}
            options={[['', 'All terminals'], ...(terminals.data?.data ?? []).map((t) => [t.id, t.label] as const)]}
          />
        )}
        <Select id="payment-status" label="Status" value={form.status} onChange={(status) => choose({ status })} options={STATUSES} />
        <Field id="payment-from" label="From" type="date" value={form.from} onInput={(from) => set({ from })} />
        <Field id="payment-to" label="To (inclusive)" type="date" value={form.to} onInput={(to) => set({ to })} />
        <Field id="payment-min" label={`Amount from (${currency})`} value={form.min} onInput={(min) => set({ min })} />
        <Field id="payment-max" label={`Amount to (${currency})`} value={form.max} onInput={(max) => set({ max })} />
        <p class="field">
          <button type="submit">Search</button>
        </p>
      </form>
      <Alert text={error} />
      <Loading error={page.error}>
        {page.data && (
          <>
            <table>
              <caption class="sr-only">Payments, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Payment</th>
                  <th scope="col">Amount</th>
                  <th scope="col">Status</th>
                  <th scope="col">Method</th>
                  <th scope="col">Store</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((p) => (
                  <tr key={p.id}>
                    <td>
                      <a href={`#/payments/${encodeURIComponent(p.id)}`}>{p.order_reference ?? p.description ?? p.id}</a>
                      <br />
                      <code class="small">{p.id}</code>
                    </td>
                    <td class="num">
                      {money(p.amount, p.currency)}
                      {p.amount_refunded > 0 && <span class="small"> ({money(p.amount_refunded, p.currency)} refunded)</span>}
                    </td>
                    <td>
                      <Badge text={p.amount_refunded > 0 && p.amount_refunded >= p.amount_received && p.status === 'succeeded' ? 'refunded' : p.status} />
                    </td>
                    <td data-testid="payment-method">{paymentMethodLabel(p.payment_method)}</td>
                    <td>{storeName(p.store)}</td>
                    <td>{when(p.created)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {rows.length === 0 && <p>No payments match.</p>}
            <p class="pager">
              {cursors.length > 0 && (
                <button type="button" onClick={() => setCursors(cursors.slice(0, -1))}>
                  Newer
                </button>
              )}
              {page.data.has_more && page.data.next_cursor && (
                <button type="button" onClick={() => setCursors([...cursors, page.data!.next_cursor!])}>
                  Older
                </button>
              )}
            </p>
          </>
        )}
      </Loading>
    </>
  );
}

function PaymentDetail({ session, id }: { session: Session; id: string }) {
  const pi = useLoad(() => call<PaymentIntent>('GET', `/v1/payment_intents/${encodeURIComponent(id)}`), [id]);
  const refunds = useLoad(() => call<List<Refund>>('GET', `/v1/refunds${qs({ payment_intent: id, limit: 100 })}`), [id]);
  const disputes = useLoad(() => call<List<Dispute>>('GET', `/v1/disputes${qs({ payment_intent: id, limit: 1 })}`), [id]);
  const dispute = disputes.data?.data[0];
  const events = useLoad(() => call<List<FaceDecisionEvent>>('GET', `/v1/payment_intents/${encodeURIComponent(id)}/events${qs({ limit: 100 })}`), [id]);
  const decisions = (events.data?.data ?? []).filter((e) => e.type === 'payment_intent.face_decision');
  return (
    <>
      <p>
        <a href="#/payments">← All payments</a>
      </p>
      <h1>Payment</h1>
      <Loading error={pi.error}>
        {pi.data && (
          <>
            {dispute && (
              <p class="notice" role="status">
                The shopper reported this payment as not theirs ({dispute.status}, {when(dispute.created)}).{' '}
                {dispute.status === 'open' && <a href="#/disputes">Refund or close it under Disputes.</a>}
              </p>
            )}
            <dl class="facts">
              <dt>Id</dt>
              <dd>
                <code>{pi.data.id}</code>
              </dd>
              <dt>Amount</dt>
              <dd>{money(pi.data.amount, pi.data.currency)}</dd>
              {(pi.data.discount ?? 0) > 0 && (
                <>
                  <dt>Coupon discount</dt>
                  <dd>{money(pi.data.discount ?? 0, pi.data.currency)}</dd>
                </>
              )}
              <dt>Received</dt>
              <dd>{money(pi.data.amount_received, pi.data.currency)}</dd>
              <dt>Refunded</dt>
              <dd data-testid="amount-refunded">{money(pi.data.amount_refunded, pi.data.currency)}</dd>
              <dt>Status</dt>
              <dd>
                <Badge text={pi.data.status} />
                {pi.data.failure_message && <span> {pi.data.failure_message}</span>}
              </dd>
              <dt>Method</dt>
              <dd data-testid="payment-method">{paymentMethodLabel(pi.data.payment_method)}</dd>
              <dt>Order</dt>
              <dd>{pi.data.order_reference ?? '—'}</dd>
              <dt>Description</dt>
              <dd>{pi.data.description ?? '—'}</dd>
              <dt>Terminal</dt>
              <dd>{pi.data.terminal ?? '—'}</dd>
              <dt>Platform fee</dt>
              <dd>{pi.data.platform_fee_amount === null ? '—' : money(pi.data.platform_fee_amount, pi.data.currency)}</dd>
              <dt>Created</dt>
              <dd>{when(pi.data.created)}</dd>
            </dl>
            {session.can('payments:write') && pi.data.status === 'succeeded' && pi.data.amount_refunded < pi.data.amount_received && (
              <RefundForm
                pi={pi.data}
                limit={session.me.refund_limit}
                onDone={() => {
                  pi.reload();
                  refunds.reload();
                }}
              />
            )}
            <h2>Refunds</h2>
            <Loading error={refunds.error}>
              {refunds.data &&
                (refunds.data.data.length === 0 ? (
                  <p>None.</p>
                ) : (
                  <ul class="plain">
                    {refunds.data.data.map((r) => (
                      <li key={r.id}>
                        {money(r.amount, r.currency)} on {when(r.created)}
                        {r.reason ? ` — ${r.reason}` : ''} <code class="small">{r.id}</code>
                      </li>
                    ))}
                  </ul>
                ))}
            </Loading>
            <h2>Face decisions</h2>
            <Loading error={events.error}>
              {events.data &&
                (decisions.length === 0 ? (
                  <p>None: not paid by face.</p>
                ) : (
                  <ul class="plain">
                    {decisions.map((e) => (
                      <li key={e.id}>
                        {when(e.created)}: <Badge text={CHOICE_TEXT[e.data.object.choice]} /> {e.data.object.reasons.join(', ')}
                      </li>
                    ))}
                  </ul>
                ))}
            </Loading>
          </>
        )}
      </Loading>
    </>
  );
}

/** What the risk engine let each face attempt do; the reasons stay the API's codes (docs: README, "Face decisions"). */
const CHOICE_TEXT: Record<FaceDecisionEvent['data']['object']['choice'], string> = {
  face: 'face alone',
  face_digits: 'face + phone digits',
  face_pin: 'face + PIN',
  no_face: 'another way',
};

/**
 * A refund moves money back at once and cannot be undone, so it is asked for in two steps: the
 * form (the amount starts empty: nobody refunds in full by accident) and a confirmation that says
 * exactly what will happen. The action's idempotency key is made when the person sets out to do
 * it and kept while they retry it, so a double click or a retry after a lost answer refunds once;
 * a changed amount or reason is another action with a key of its own.
 */
function RefundForm({ pi, limit, onDone }: { pi: PaymentIntent; limit: number | null; onDone: () => void }) {
  const currency = pi.currency.toUpperCase();
  const left = pi.amount_received - pi.amount_refunded;
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [key, setKey] = useState(newActionKey);
  const [asking, setAsking] = useState<number | null>(null);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  const edit = (apply: () => void): void => {
    apply();
    setKey(newActionKey());
    setAsking(null);
    setError('');
  };
  const review = (e: Event) => {
    e.preventDefault();
    setError('');
    setDone('');
    const minor = parseMoney(amount, currency);
    if (minor === undefined) return setError('Enter an amount, for example 12.50.');
    if (minor > left) return setError(`At most ${money(left, currency)} is left to refund.`);
    if (limit !== null && minor > limit) return setError(`Your refund limit is ${money(limit, currency)} per payment; ask a manager for this refund.`);
    setAsking(minor);
  };
  const confirmRefund = async () => {
    if (asking === null || sending) return;
    setSending(true);
    setError('');
    try {
      const r = await call<Refund>('POST', '/v1/refunds', { payment_intent: pi.id, amount: asking, ...(reason ? { reason } : {}) }, { idempotencyKey: key });
      setDone(`Refunded ${money(r.amount, r.currency)}.`);
      // Done: the form starts again, with a new action's key.
      setAmount('');
      setReason('');
      setAsking(null);
      setKey(newActionKey());
      onDone();
    } catch (err) {
      // The same key stays: trying again cannot refund twice, even if the first answer was lost.
      setError(message(err));
    } finally {
      setSending(false);
    }
  };
  const what = pi.order_reference ?? pi.description ?? pi.id;
  return (
    <section class="card">
      <h2>Refund</h2>
      <form class="inline" onSubmit={review}>
        <Field
          id="refund-amount"
          label={`Amount (${currency})`}
          value={amount}
          onInput={(v) => edit(() => setAmount(v))}
          hint={`Up to ${money(left, currency)}${limit !== null ? `; your limit is ${money(limit, currency)} per payment` : ''}.`}
        />
        <Field id="refund-reason" label="Reason (optional)" value={reason} onInput={(v) => edit(() => setReason(v))} />
        <button type="submit" class="danger" disabled={asking !== null}>
          Refund…
        </button>
      </form>
      {asking !== null && (
        <div class="confirm" role="alertdialog" aria-labelledby="refund-confirm-text">
          <p id="refund-confirm-text" data-testid="refund-confirm-text">
            Refund <strong>{money(asking, currency)}</strong> of {money(pi.amount_received, currency)} for {what} to the shopper's wallet, now?{' '}
            {asking === left ? 'Nothing will be left to refund.' : `${money(left - asking, currency)} will be left to refund.`} This cannot be undone.
          </p>
          <p>
            <button type="button" class="danger" onClick={confirmRefund} disabled={sending} aria-busy={sending}>
              {error ? 'Try again: ' : ''}Refund {money(asking, currency)}
            </button>{' '}
            <button type="button" onClick={() => edit(() => undefined)} disabled={sending}>
              Cancel
            </button>
          </p>
        </div>
      )}
      <Alert text={error} />
      {done && (
        <p role="status" class="ok">
          {done}
        </p>
      )}
    </section>
  );
}
