/**
 * The shopper's side of memberships and merchant marketing: every membership with what each
 * merchant sees, changing it, leaving; the inbox of receipts, coupons and messages; muting a
 * merchant. Merchants are named, never shown by id.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatMoney, MEMBER_FIELD_LABELS as FIELD_LABELS } from '@facepay/web-common';
import { crmApi, errorMessage, MEMBER_FIELDS, type InboxItem, type Me, type MemberField, type MemberFields, type Membership, type MembershipConsent } from './api.ts';

const GENDER_LABELS = { female: 'Female', male: 'Male', non_binary: 'Non-binary', other: 'Other' } as const;
/** Small enough that a long inbox pages after a screenful. */
const INBOX_PAGE = 10;

const when = (ms: number) => new Date(ms).toLocaleString();
const day = (ms: number) => new Date(ms).toLocaleDateString();
const fieldValue = (f: MemberField, v: string) => (f === 'gender' ? (GENDER_LABELS[v as keyof typeof GENDER_LABELS] ?? v) : v);
/** The fields shared, always in the same order. */
const sharedOf = (fields: MemberFields): MemberField[] => MEMBER_FIELDS.filter((f) => fields[f] !== undefined);
const fieldList = (fields: readonly MemberField[]) =>
  fields.length === 0 ? 'nothing' : MEMBER_FIELDS.filter((f) => fields.includes(f)).map((f) => FIELD_LABELS[f].toLowerCase()).join(', ');

/** The merchants the shopper muted, shared by both screens' mute buttons. */
function useMutes(onError: (text: string) => void) {
  const [muted, setMuted] = useState<ReadonlySet<string>>(new Set());
  useEffect(() => {
    crmApi.mutes().then((r) => setMuted(new Set(r.data.map((m) => m.merchant))), (e) => onError(errorMessage(e)));
  }, []);
  const toggle = async (merchantId: string) => {
    const on = !muted.has(merchantId);
    try {
      await (on ? crmApi.mute(merchantId) : crmApi.unmute(merchantId));
      const next = new Set(muted);
      if (on) next.add(merchantId);
      else next.delete(merchantId);
      setMuted(next);
    } catch (e) {
      onError(errorMessage(e));
    }
  };
  return { muted, toggle };
}

function MuteButton({ merchantId, name, mutes }: { merchantId: string; name: string; mutes: ReturnType<typeof useMutes> }) {
  const on = mutes.muted.has(merchantId);
  return (
    <button type="button" aria-pressed={on} onClick={() => void mutes.toggle(merchantId)}>
      {on ? `Unmute ${name}` : `Mute ${name}`}
    </button>
  );
}

function MuteNote() {
  return <p class="hint">A muted merchant sends you no messages, and its own channels (SMS, e-mail, its app) are told not to contact you. Coupons you earn still arrive.</p>;
}

// ---- memberships ----

function ShareForm({ m, me, onSaved }: { m: Membership; me: Me; onSaved: (m: Membership) => void }) {
  const own: MemberFields = { name: me.name, email: me.email, ...(me.phone ? { phone: me.phone } : {}) };
  const [share, setShare] = useState<ReadonlySet<MemberField>>(new Set(sharedOf(m.shared_fields)));
  const [values, setValues] = useState<MemberFields>(Object.fromEntries(m.asked_fields.map((f) => [f, m.shared_fields[f] ?? own[f] ?? ''])));
  const [note, setNote] = useState<{ error: boolean; text: string }>();
  const id = (f: MemberField) => `share-${m.merchant}-${f}`;
  const toggle = (f: MemberField) => {
    const next = new Set(share);
    if (next.has(f)) next.delete(f);
    else next.add(f);
    setShare(next);
  };
  const save = async (e: { preventDefault(): void }) => {
    e.preventDefault();
    const fields: MemberFields = {};
    for (const f of m.asked_fields) {
      if (!share.has(f)) continue;
      const v = values[f]?.trim() ?? '';
      if (v === '') return setNote({ error: true, text: `Enter your ${FIELD_LABELS[f].toLowerCase()}, or stop sharing it.` });
      fields[f] = v;
    }
    try {
      const updated = await crmApi.share(m.merchant, fields, m.consent.version);
      setNote({ error: false, text: `Saved. ${m.merchant_name} now sees: ${fieldList(sharedOf(updated.shared_fields))}.` });
      onSaved(updated);
    } catch (err) {
      setNote({ error: true, text: errorMessage(err) });
    }
  };
  return (
    <form onSubmit={save} aria-label={`What ${m.merchant_name} may see`}>
      {m.asked_fields.map((f) => (
        <fieldset key={f} class="share">
          <legend>{FIELD_LABELS[f]}</legend>
          <label>
            <input type="checkbox" checked={share.has(f)} onChange={() => toggle(f)} /> Share my {FIELD_LABELS[f].toLowerCase()}
          </label>
          {share.has(f) && (
            <p class="field">
              <label for={id(f)}>Your {FIELD_LABELS[f].toLowerCase()}</label>
              {f === 'gender' ? (
                <select id={id(f)} value={values[f] ?? ''} onChange={(e) => setValues({ ...values, [f]: (e.target as HTMLSelectElement).value })}>
                  <option value="">Choose…</option>
                  {Object.entries(GENDER_LABELS).map(([v, label]) => (
                    <option key={v} value={v}>
                      {label}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  id={id(f)}
                  type={f === 'birthday' ? 'date' : f === 'email' ? 'email' : f === 'phone' ? 'tel' : 'text'}
                  value={values[f] ?? ''}
                  onInput={(e) => setValues({ ...values, [f]: (e.target as HTMLInputElement).value })}
                />
              )}
            </p>
          )}
        </fieldset>
      ))}
      <p class="hint">
        {m.consent.text} (consent text version {m.consent.version})
      </p>
      <button type="submit" class="primary">
        Save what I share
      </button>
      {note && <p role={note.error ? 'alert' : 'status'}>{note.text}</p>}
    </form>
  );
}

/** `reloadKey` changes when the sharing changes, so an open history shows the new consent. */
function ConsentHistory({ m, reloadKey }: { m: Membership; reloadKey: string }) {
  const [rows, setRows] = useState<MembershipConsent[]>();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState('');
  useEffect(() => {
    if (open) crmApi.membershipConsents(m.merchant).then((r) => setRows(r.data), (e) => setError(errorMessage(e)));
  }, [open, reloadKey]);
  return (
    <details onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>Consent history</summary>
      {error && <p role="alert">{error}</p>}
      {rows && (
        <table class="stack">
          <caption class="visually-hidden">Consents given to {m.merchant_name}</caption>
          <thead>
            <tr>
              <th scope="col">Given</th>
              <th scope="col">Fields shared</th>
              <th scope="col">Where</th>
              <th scope="col">Text version</th>
              <th scope="col">Ended</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={`${c.accepted_at}-${c.text_version}`}>
                <td data-label="Given">{when(c.accepted_at)}</td>
                <td data-label="Fields shared">{fieldList(c.fields)}</td>
                <td data-label="Where">{c.terminal === null ? 'In this portal' : `Terminal ${c.terminal}`}</td>
                <td data-label="Text version">{c.text_version}</td>
                <td data-label="Ended">{c.withdrawn_at === null ? 'In force' : when(c.withdrawn_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}

function LeaveButton({ m, onLeft }: { m: Membership; onLeft: (text: string) => void }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState('');
  const confirmRef = useRef<HTMLButtonElement>(null);
  const leaveRef = useRef<HTMLButtonElement>(null);
  const opened = useRef(false);
  // Focus moves into the confirmation when it opens and back to the button when it is dismissed.
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
    else if (opened.current) leaveRef.current?.focus();
    opened.current = asking;
  }, [asking]);
  const shared = sharedOf(m.shared_fields);
  const leave = async () => {
    try {
      await crmApi.leave(m.merchant);
      onLeft(`You left ${m.programme}. ${m.merchant_name} no longer sees your personal details.`);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  if (!asking)
    return (
      <button type="button" class="danger" ref={leaveRef} onClick={() => setAsking(true)}>
        Leave {m.programme}
      </button>
    );
  const title = `leave-${m.merchant}-title`;
  return (
    <div role="alertdialog" aria-labelledby={title} aria-describedby={`${title}-what`} class="confirm" onKeyDown={(e) => e.key === 'Escape' && setAsking(false)}>
      <p id={title}>
        <strong>Leave {m.programme}?</strong>
      </p>
      <div id={`${title}-what`}>
        <p>From this moment {m.merchant_name} loses what you shared ({fieldList(shared)}), and your unused coupons from it end.</p>
        <p>
          It keeps the history of your purchases under member number {m.member_id}, with no name or other personal details. It never learns anything about your face beyond "paid by face".
        </p>
      </div>
      {error && <p role="alert">{error}</p>}
      <button type="button" class="danger" ref={confirmRef} onClick={() => void leave()}>
        Yes, leave {m.programme}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Stay a member
      </button>
    </div>
  );
}

export function Memberships({ me }: { me: Me }) {
  const [list, setList] = useState<Membership[]>();
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  const mutes = useMutes(setError);
  useEffect(() => {
    crmApi.memberships().then((r) => setList(r.data), (e) => setError(errorMessage(e)));
  }, []);
  const replace = (m: Membership) => setList(list?.map((x) => (x.merchant === m.merchant ? m : x)));
  return (
    <section aria-labelledby="memberships-title">
      <h2 id="memberships-title">Memberships</h2>
      <p>Each shop you joined sees only what you chose to share, under its own member number for you.</p>
      {error && <p role="alert">{error}</p>}
      <p role="status">{status}</p>
      {list && list.length === 0 && <p>You are not a member anywhere yet. A terminal offers it when you pay by face at a shop with a programme.</p>}
      {list?.map((m) => {
        const shared = sharedOf(m.shared_fields);
        return (
          <article key={m.merchant} class="card" aria-labelledby={`m-${m.merchant}`}>
            <h3 id={`m-${m.merchant}`}>
              {m.merchant_name}: {m.programme}
            </h3>
            {m.benefits && <p>{m.benefits}</p>}
            <dl class="facts">
              <dt>Member since</dt>
              <dd>{day(m.joined_at)}</dd>
              <dt>Your member number</dt>
              <dd>{m.member_id}</dd>
            </dl>
            <h4>What {m.merchant_name} sees now</h4>
            {shared.length === 0 ? (
              <p>Nothing personal: only your member number and purchases.</p>
            ) : (
              <dl class="facts">
                {shared.map((f) => [<dt key={`${f}-t`}>{FIELD_LABELS[f]}</dt>, <dd key={`${f}-d`}>{fieldValue(f, m.shared_fields[f]!)}</dd>])}
              </dl>
            )}
            <details>
              <summary>Change what I share</summary>
              <ShareForm m={m} me={me} onSaved={replace} />
            </details>
            <ConsentHistory m={m} reloadKey={shared.join(',')} />
            <div class="actions">
              <MuteButton merchantId={m.merchant} name={m.merchant_name} mutes={mutes} />
              <LeaveButton
                m={m}
                onLeft={(text) => {
                  setStatus(text);
                  setList(list.filter((x) => x.merchant !== m.merchant));
                }}
              />
            </div>
          </article>
        );
      })}
      <MuteNote />
    </section>
  );
}

// ---- inbox ----

function ItemBody({ item }: { item: InboxItem }) {
  const { payment, coupon } = item;
  if (item.kind === 'receipt' && payment)
    return (
      <dl class="facts">
        <dt>Paid</dt>
        <dd>{formatMoney(payment.amount, payment.currency)}</dd>
        {payment.discount > 0 && [<dt key="dt">Coupon discount</dt>, <dd key="dd">{formatMoney(payment.discount, payment.currency)}</dd>]}
      </dl>
    );
  if (item.kind === 'coupon' && coupon)
    return (
      <>
        {item.body && <p>{item.body}</p>}
        <dl class="facts">
          <dt>Reward</dt>
          <dd>{coupon.description}</dd>
          <dt>Valid until</dt>
          <dd>{day(coupon.valid_to)}</dd>
          <dt>Status</dt>
          <dd>{coupon.status === 'issued' ? 'Ready to use' : coupon.status === 'redeemed' ? 'Used' : coupon.status === 'expired' ? 'Expired' : 'No longer valid'}</dd>
        </dl>
      </>
    );
  return <p>{item.body}</p>;
}

const DISPUTE_STATUS: Record<'open' | 'refunded' | 'closed', string> = {
  open: 'You reported this payment. The shop has been told.',
  refunded: 'You reported this payment and the shop refunded it.',
  closed: 'You reported this payment; the shop closed it without a refund.',
};

/**
 * "This wasn't me" on a receipt: after a confirmation it disputes the payment, which for a face
 * payment freezes face pay at once. A receipt already disputed says where its dispute stands.
 */
function DisputeButton({ item, onDisputed }: { item: InboxItem; onDisputed: () => void }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const payment = item.payment;
  if (item.kind !== 'receipt' || !payment) return null;
  const d = payment.dispute;
  if (d && d.status !== 'closed') return <p class="hint" role="status">{DISPUTE_STATUS[d.status]}</p>;
  const face = payment.method === 'face';
  const send = async () => {
    setBusy(true);
    setError('');
    try {
      await crmApi.dispute(payment.payment_intent);
      setAsking(false);
      onDisputed();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {d && <p class="hint">{DISPUTE_STATUS[d.status]}</p>}
      {!asking ? (
        <button type="button" class="danger" aria-label={`This wasn't me: ${item.title}`} onClick={() => setAsking(true)}>
          This wasn't me
        </button>
      ) : (
        <div role="alertdialog" aria-labelledby={`dispute-${item.id}`} class="confirm">
          <p id={`dispute-${item.id}`}>
            {face
              ? 'Report this payment as not yours? Face pay is switched off at once so nobody can pay with your face, and the shop is told so it can refund you.'
              : 'Report this payment as not yours? The shop is told so it can refund you.'}
          </p>
          <button type="button" class="danger" disabled={busy} onClick={() => void send()}>
            {face ? 'Yes, freeze face pay and report it' : 'Yes, report it'}
          </button>
          <button type="button" disabled={busy} onClick={() => setAsking(false)}>
            Cancel
          </button>
        </div>
      )}
      {error && <p role="alert">{error}</p>}
    </>
  );
}

/** `onAccountChanged`: a dispute switched face pay off, so the account the portal shows must be read again. */
export function Inbox({ onAccountChanged }: { onAccountChanged?: () => void } = {}) {
  const [items, setItems] = useState<InboxItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [more, setMore] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [coupons, setCoupons] = useState<InboxItem[]>();
  const [error, setError] = useState('');
  const mutes = useMutes(setError);
  const page = async (from: string | null) => {
    try {
      const r = await crmApi.inbox(from, INBOX_PAGE);
      setItems((old) => (from === null ? r.data : [...old, ...r.data]));
      setCursor(r.next_cursor ?? null);
      setMore(r.has_more);
      setLoaded(true);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  useEffect(() => {
    void page(null);
    crmApi.coupons().then((r) => setCoupons(r.data), (e) => setError(errorMessage(e)));
  }, []);
  const markRead = async (item: InboxItem) => {
    try {
      await crmApi.markRead(item.id);
      setItems((old) => old.map((i) => (i.id === item.id ? { ...i, read_at: Date.now() } : i)));
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const unread = items.filter((i) => i.read_at === null).length;
  return (
    <section aria-labelledby="inbox-title">
      <h2 id="inbox-title">Inbox</h2>
      {error && <p role="alert">{error}</p>}
      <h3>Coupons you hold</h3>
      {coupons && coupons.length === 0 && <p>No coupons right now.</p>}
      {coupons && coupons.length > 0 && (
        <table class="stack">
          <caption class="visually-hidden">Coupons you can use now</caption>
          <thead>
            <tr>
              <th scope="col">Coupon</th>
              <th scope="col">Reward</th>
              <th scope="col">Shop</th>
              <th scope="col">Valid until</th>
            </tr>
          </thead>
          <tbody>
            {coupons.map((c) => (
              <tr key={c.id}>
                <td data-label="Coupon">{c.title}</td>
                <td data-label="Reward">{c.coupon?.description}</td>
                <td data-label="Shop">{c.merchant_name}</td>
                <td data-label="Valid until">{c.coupon && day(c.coupon.valid_to)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Receipts and messages</h3>
      {loaded && <p aria-live="polite">{unread === 0 ? 'Nothing unread.' : `${unread} unread`}</p>}
      {loaded && items.length === 0 && <p>Your receipts and the shops' messages will appear here.</p>}
      <ul class="inbox">
        {items.map((i) => {
          const isUnread = i.read_at === null;
          const kind = i.kind === 'receipt' ? 'Receipt' : i.kind === 'coupon' ? 'Coupon' : 'Message';
          return (
            <li key={i.id} class={isUnread ? 'card unread' : 'card'}>
              <article aria-labelledby={`i-${i.id}`}>
                <h4 id={`i-${i.id}`}>
                  {isUnread && <span class="badge">Unread</span>} {kind}: {i.title}
                </h4>
                <p class="hint">
                  From {i.merchant_name || 'a shop'}, <time dateTime={new Date(i.created).toISOString()}>{when(i.created)}</time>
                </p>
                <ItemBody item={i} />
                <DisputeButton
                  item={i}
                  onDisputed={() => {
                    void page(null);
                    onAccountChanged?.();
                  }}
                />
                <div class="actions">
                  {isUnread && (
                    <button type="button" aria-label={`Mark read: ${i.title}`} onClick={() => void markRead(i)}>
                      Mark read
                    </button>
                  )}
                  <MuteButton merchantId={i.merchant} name={i.merchant_name || 'this shop'} mutes={mutes} />
                </div>
              </article>
            </li>
          );
        })}
      </ul>
      {more && (
        <button type="button" onClick={() => void page(cursor)}>
          Show older items
        </button>
      )}
      <MuteNote />
    </section>
  );
}
