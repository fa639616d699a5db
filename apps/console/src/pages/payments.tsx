import { useState } from 'preact/hooks';
import { methodText, parseMoney, plainAmount } from '@facepay/web-common';
import { call, newActionKey, qs, type Dispute, type FaceDecisionEvent, type List, type PaymentIntent, type Refund, type Store, type Terminal } from '../api.ts';
import { go, type Session } from '../session.ts';
import { Alert, Badge, Field, Loading, message, money, Select, useLoad, when } from '../ui.tsx';
import type { ComponentChildren } from 'preact';
import { i18n, t } from '../messages.ts';

const STATUSES = () =>
  [
    ['', t('pay.anyStatus')],
    ['succeeded', t('pay.statusSucceeded')],
    ['requires_face', t('pay.statusRequiresFace')],
    ['processing', t('pay.statusProcessing')],
    ['failed', t('pay.statusFailed')],
    ['cancelled', t('pay.statusCancelled')],
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
  const money = (text: string, what: 'pay.enterLowest' | 'pay.enterHighest'): number | string | undefined => {
    if (!text.trim()) return undefined;
    return parseMoney(text, currency) ?? t(what);
  };
  const min = money(s.min, 'pay.enterLowest');
  const max = money(s.max, 'pay.enterHighest');
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
      <h1>{t('pay.payments')}</h1>
      <form class="filters" onSubmit={find} role="search" aria-label={t('pay.payments')}>
        <Field id="payment-search" label={t('pay.paymentIdOrOrder')} value={form.text} onInput={(text) => set({ text })} hint={t('pay.anOrderNumberFinds')} />
        <Select
          id="payment-store"
          label={t('pay.store')}
          value={form.store}
          onChange={(store) => choose({ store, terminal: '' })}
          options={[['', t('pay.allStores')], ...(stores.data?.data ?? []).map((s) => [s.id, s.name] as const)]}
        />
        {form.store && (
          <Select
            id="payment-terminal"
            label={t('pay.terminal')}
            value={form.terminal}
            onChange={(terminal) => choose({ terminal })}
            options={[['', t('pay.allTerminals')], ...(terminals.data?.data ?? []).map((term) => [term.id, term.label] as const)]}
          />
        )}
        <Select id="payment-status" label={t('pay.status')} value={form.status} onChange={(status) => choose({ status })} options={STATUSES()} />
        <Field id="payment-from" label={t('pay.from')} type="date" value={form.from} onInput={(from) => set({ from })} />
        <Field id="payment-to" label={t('pay.toInclusive')} type="date" value={form.to} onInput={(to) => set({ to })} />
        <Field id="payment-min" label={t('pay.amountFrom', { currency })} value={form.min} onInput={(min) => set({ min })} />
        <Field id="payment-max" label={t('pay.amountTo', { currency })} value={form.max} onInput={(max) => set({ max })} />
        <p class="field">
          <button type="submit">{t('pay.search')}</button>
        </p>
      </form>
      <Alert text={error} />
      {session.can('payments:export') && (
        <p>
          {/* The same filters as the list in view, every page of it. */}
          <a class="button" href={`/v1/payment_intents/export.csv${qs(applied)}`} download>
            {t('pay.downloadCsv')}
          </a>
        </p>
      )}
      <Loading error={page.error}>
        {page.data && (
          <>
            <table>
              <caption class="sr-only">{t('pay.paymentsNewestFirst')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('pay.payment')}</th>
                  <th scope="col">{t('pay.amount')}</th>
                  <th scope="col">{t('pay.status')}</th>
                  <th scope="col">{t('pay.method')}</th>
                  <th scope="col">{t('pay.member')}</th>
                  <th scope="col">{t('pay.coupon')}</th>
                  <th scope="col">{t('pay.storeAndTerminal')}</th>
                  <th scope="col">{t('pay.created')}</th>
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
                      {p.amount_refunded > 0 && <span class="small"> {t('pay.refundedSuffix', { amount: money(p.amount_refunded, p.currency) })}</span>}
                    </td>
                    <td>
                      <Badge text={p.amount_refunded > 0 && p.amount_refunded >= p.amount_received && p.status === 'succeeded' ? 'refunded' : p.status} />
                    </td>
                    <td data-testid="payment-method">{methodText(i18n, p.payment_method)}</td>
                    <td data-testid="payment-member">
                      <MemberLink session={session} id={p.member} />
                    </td>
                    <td data-testid="payment-coupon">
                      <CouponText pi={p} />
                    </td>
                    <td>
                      {storeName(p.store)}
                      {p.terminal && (
                        <>
                          <br />
                          <span class="small" data-testid="payment-terminal">
                            {terminalName(p)}
                          </span>
                        </>
                      )}
                    </td>
                    <td>{when(p.created)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {rows.length === 0 && <p>{t('pay.noPaymentsMatch')}</p>}
            <p class="pager">
              {cursors.length > 0 && (
                <button type="button" onClick={() => setCursors(cursors.slice(0, -1))}>
                  {t('pay.newer')}
                </button>
              )}
              {page.data.has_more && page.data.next_cursor && (
                <button type="button" onClick={() => setCursors([...cursors, page.data!.next_cursor!])}>
                  {t('pay.older')}
                </button>
              )}
            </p>
          </>
        )}
      </Loading>
    </>
  );
}

/** The terminal by its name; the id only for a terminal the server could not name (or a server from before names). */
function terminalName(p: PaymentIntent): string {
  return p.terminal_name ?? p.terminal ?? '—';
}

/** The payer's member id, opening their profile for staff who may look members up. */
function MemberLink({ session, id }: { session: Session; id: string | null | undefined }): ComponentChildren {
  if (!id) return '—';
  return session.can('members:lookup') ? <a href={`#/members/${encodeURIComponent(id)}`}>{id}</a> : <code>{id}</code>;
}

/** The coupon's campaign and what it took off. */
function CouponText({ pi }: { pi: PaymentIntent }): ComponentChildren {
  if (!pi.coupon) return '—';
  return t('pay.couponOff', { campaign: pi.coupon_campaign?.name ?? pi.coupon, amount: money(pi.discount ?? 0, pi.currency) });
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
        <a href="#/payments">{t('pay.allPayments')}</a>
      </p>
      <h1>{t('pay.payment')}</h1>
      <Loading error={pi.error}>
        {pi.data && (
          <>
            {dispute && (
              <p class="notice" role="status">
                {t('pay.disputed', { status: i18n.lookup(`status.${dispute.status}`) ?? dispute.status, when: when(dispute.created) })}{' '}
                {dispute.status === 'open' && <a href="#/disputes">{t('pay.refundOrCloseIt')}</a>}
              </p>
            )}
            <dl class="facts">
              <dt>{t('pay.id')}</dt>
              <dd>
                <code>{pi.data.id}</code>
              </dd>
              <dt>{t('pay.amount')}</dt>
              <dd>{money(pi.data.amount, pi.data.currency)}</dd>
              {(pi.data.discount ?? 0) > 0 && (
                <>
                  <dt>{t('pay.couponDiscount')}</dt>
                  <dd>{money(pi.data.discount ?? 0, pi.data.currency)}</dd>
                </>
              )}
              {pi.data.coupon && (
                <>
                  <dt>{t('pay.coupon')}</dt>
                  <dd data-testid="payment-coupon">
                    {pi.data.coupon_campaign?.name ?? '—'} <code class="small">{pi.data.coupon}</code>
                  </dd>
                </>
              )}
              <dt>{t('pay.member')}</dt>
              <dd data-testid="payment-member">
                <MemberLink session={session} id={pi.data.member} />
              </dd>
              <dt>{t('pay.received')}</dt>
              <dd>{money(pi.data.amount_received, pi.data.currency)}</dd>
              <dt>{t('pay.refunded')}</dt>
              <dd data-testid="amount-refunded">{money(pi.data.amount_refunded, pi.data.currency)}</dd>
              <dt>{t('pay.status')}</dt>
              <dd>
                <Badge text={pi.data.status} />
                {pi.data.failure_message && <span> {pi.data.failure_message}</span>}
              </dd>
              <dt>{t('pay.method')}</dt>
              <dd data-testid="payment-method">{methodText(i18n, pi.data.payment_method)}</dd>
              <dt>{t('pay.order')}</dt>
              <dd>{pi.data.order_reference ?? '—'}</dd>
              <dt>{t('pay.description')}</dt>
              <dd>{pi.data.description ?? '—'}</dd>
              <dt>{t('pay.terminal')}</dt>
              <dd data-testid="payment-terminal">
                {terminalName(pi.data)}
                {pi.data.terminal && pi.data.terminal_name && (
                  <>
                    {' '}
                    <code class="small">{pi.data.terminal}</code>
                  </>
                )}
              </dd>
              <dt>{t('pay.platformFee')}</dt>
              <dd>{pi.data.platform_fee_amount === null ? '—' : money(pi.data.platform_fee_amount, pi.data.currency)}</dd>
              <dt>{t('pay.created')}</dt>
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
            <h2>{t('pay.refunds')}</h2>
            <Loading error={refunds.error}>
              {refunds.data &&
                (refunds.data.data.length === 0 ? (
                  <p>{t('pay.none')}</p>
                ) : (
                  <ul class="plain">
                    {refunds.data.data.map((r) => (
                      <li key={r.id}>
                        {t('pay.refundOn', { amount: money(r.amount, r.currency), when: when(r.created) })}
                        {r.reason ? ` — ${r.reason}` : ''} <code class="small">{r.id}</code>
                      </li>
                    ))}
                  </ul>
                ))}
            </Loading>
            <h2>{t('pay.faceDecisions')}</h2>
            <Loading error={events.error}>
              {events.data &&
                (decisions.length === 0 ? (
                  <p>{t('pay.noneNotPaidBy')}</p>
                ) : (
                  <ul class="plain">
                    {decisions.map((e) => (
                      <li key={e.id}>
                        {when(e.created)}: <Badge text={t(CHOICE_TEXT[e.data.object.choice])} /> {e.data.object.reasons.join(', ')}
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
const CHOICE_TEXT = {
  face: 'pay.choiceFace',
  face_digits: 'pay.choiceFaceDigits',
  face_pin: 'pay.choiceFacePin',
  no_face: 'pay.choiceNoFace',
} as const satisfies Record<FaceDecisionEvent['data']['object']['choice'], string>;

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
    if (minor === undefined) return setError(t('pay.enterAmount'));
    if (minor > left) return setError(t('pay.atMostLeft', { amount: money(left, currency) }));
    if (limit !== null && minor > limit) return setError(t('pay.overLimit', { limit: money(limit, currency) }));
    setAsking(minor);
  };
  const confirmRefund = async () => {
    if (asking === null || sending) return;
    setSending(true);
    setError('');
    try {
      const r = await call<Refund>('POST', '/v1/refunds', { payment_intent: pi.id, amount: asking, ...(reason ? { reason } : {}) }, { idempotencyKey: key });
      setDone(t('pay.refundedDone', { amount: money(r.amount, r.currency) }));
      // Done: the form starts again, with a new action's key.
      setAmount('');
      setReason('');
      setAsking(null);
      setKey(newActionKey());
      onDone();
    } catch (err) {
      // The same key stays: trying again cannot refund twice, even if the first answer was lost.
      setError(message(err, currency));
    } finally {
      setSending(false);
    }
  };
  const what = pi.order_reference ?? pi.description ?? pi.id;
  return (
    <section class="card">
      <h2>{t('pay.refund')}</h2>
      <form class="inline" onSubmit={review}>
        <Field
          id="refund-amount"
          label={t('pay.amountIn', { currency })}
          value={amount}
          onInput={(v) => edit(() => setAmount(v))}
          hint={limit !== null ? t('pay.upToLimit', { amount: money(left, currency), limit: money(limit, currency) }) : t('pay.upTo', { amount: money(left, currency) })}
        />
        <Field id="refund-reason" label={t('pay.reasonOptional')} value={reason} onInput={(v) => edit(() => setReason(v))} />
        <button type="submit" class="danger" disabled={asking !== null}>
          {t('pay.refund2')}
        </button>
      </form>
      {asking !== null && (
        <div class="confirm" role="alertdialog" aria-labelledby="refund-confirm-text">
          <p id="refund-confirm-text" data-testid="refund-confirm-text">
            {t('pay.confirmBefore')} <strong>{money(asking, currency)}</strong> {t('pay.confirmAfter', { received: money(pi.amount_received, currency), what })}{' '}
            {asking === left ? t('pay.nothingLeft') : t('pay.leftAfter', { amount: money(left - asking, currency) })} {t('pay.cannotUndo')}
          </p>
          <p>
            <button type="button" class="danger" onClick={confirmRefund} disabled={sending} aria-busy={sending}>
              {error ? t('pay.tryAgainRefund', { amount: money(asking, currency) }) : t('pay.refundAmount', { amount: money(asking, currency) })}
            </button>{' '}
            <button type="button" onClick={() => edit(() => undefined)} disabled={sending}>
              {t('pay.cancel')}
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
