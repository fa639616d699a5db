/**
 * The shopper's side of memberships and merchant marketing: every membership with what each
 * merchant sees, changing it, leaving; the inbox of receipts, coupons and messages; muting a
 * merchant. Merchants are named, never shown by id.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { fieldText, GENDERS, genderText } from '@facepay/web-common';
import { crmApi, errorMessage, MEMBER_FIELDS, type InboxItem, type Me, type MemberField, type MemberFields, type Membership, type MembershipConsent } from './api.ts';
import { i18n, t } from './messages.ts';

/** Small enough that a long inbox pages after a screenful. */
const INBOX_PAGE = 10;

const when = (ms: number) => i18n.dateTime(ms);
const day = (ms: number) => i18n.date(ms);
const money = (amount: number, currency: string) => i18n.money(amount, currency);
/** A field's name inside a sentence ("your phone number"): lower case in English, as written in Chinese. */
const fieldWord = (f: MemberField) => (i18n.locale === 'en' ? fieldText(i18n, f).toLowerCase() : fieldText(i18n, f));
const fieldValue = (f: MemberField, v: string) => (f === 'gender' ? genderText(i18n, v) : v);
/** The fields shared, always in the same order. */
const sharedOf = (fields: MemberFields): MemberField[] => MEMBER_FIELDS.filter((f) => fields[f] !== undefined);
const fieldList = (fields: readonly MemberField[]) =>
  fields.length === 0 ? t('crm.nothing') : MEMBER_FIELDS.filter((f) => fields.includes(f)).map(fieldWord).join(i18n.locale === 'en' ? ', ' : '、');

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
      {on ? t('crm.unmute', { name }) : t('crm.mute', { name })}
    </button>
  );
}

function MuteNote() {
  return <p class="hint">{t('crm.muteNote')}</p>;
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
      if (v === '') return setNote({ error: true, text: t('crm.enterField', { field: fieldWord(f) }) });
      fields[f] = v;
    }
    try {
      const updated = await crmApi.share(m.merchant, fields, m.consent.version);
      setNote({ error: false, text: t('crm.savedShare', { merchant: m.merchant_name, fields: fieldList(sharedOf(updated.shared_fields)) }) });
      onSaved(updated);
    } catch (err) {
      setNote({ error: true, text: errorMessage(err) });
    }
  };
  return (
    <form onSubmit={save} aria-label={t('crm.mayShareLabel', { merchant: m.merchant_name })}>
      {m.asked_fields.map((f) => (
        <fieldset key={f} class="share">
          <legend>{fieldText(i18n, f)}</legend>
          <label>
            <input type="checkbox" checked={share.has(f)} onChange={() => toggle(f)} /> {t('crm.shareMy', { field: fieldWord(f) })}
          </label>
          {share.has(f) && (
            <p class="field">
              <label for={id(f)}>{t('crm.yourField', { field: fieldWord(f) })}</label>
              {f === 'gender' ? (
                <select id={id(f)} value={values[f] ?? ''} onChange={(e) => setValues({ ...values, [f]: (e.target as HTMLSelectElement).value })}>
                  <option value="">{t('crm.choose')}</option>
                  {GENDERS.map((v) => (
                    <option key={v} value={v}>
                      {genderText(i18n, v)}
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
        {m.consent.text} {t('crm.consentVersion', { version: m.consent.version })}
      </p>
      <button type="submit" class="primary">
        {t('crm.saveShare')}
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
      <summary>{t('crm.consentHistory')}</summary>
      {error && <p role="alert">{error}</p>}
      {rows && (
        <table class="stack">
          <caption class="visually-hidden">{t('crm.consentsCaption', { merchant: m.merchant_name })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('crm.given')}</th>
              <th scope="col">{t('crm.fieldsShared')}</th>
              <th scope="col">{t('crm.where')}</th>
              <th scope="col">{t('crm.textVersion')}</th>
              <th scope="col">{t('crm.ended')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={`${c.accepted_at}-${c.text_version}`}>
                <td data-label={t('crm.given')}>{when(c.accepted_at)}</td>
                <td data-label={t('crm.fieldsShared')}>{fieldList(c.fields)}</td>
                <td data-label={t('crm.where')}>{c.terminal === null ? t('crm.inPortal') : t('crm.atTerminal', { terminal: c.terminal })}</td>
                <td data-label={t('crm.textVersion')}>{c.text_version}</td>
                <td data-label={t('crm.ended')}>{c.withdrawn_at === null ? t('crm.inForce') : when(c.withdrawn_at)}</td>
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
      onLeft(t('crm.left', { programme: m.programme, merchant: m.merchant_name }));
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  if (!asking)
    return (
      <button type="button" class="danger" ref={leaveRef} onClick={() => setAsking(true)}>
        {t('crm.leave', { programme: m.programme })}
      </button>
    );
  const title = `leave-${m.merchant}-title`;
  return (
    <div role="alertdialog" aria-labelledby={title} aria-describedby={`${title}-what`} class="confirm" onKeyDown={(e) => e.key === 'Escape' && setAsking(false)}>
      <p id={title}>
        <strong>{t('crm.leaveQuestion', { programme: m.programme })}</strong>
      </p>
      <div id={`${title}-what`}>
        <p>{t('crm.leaveLoses', { merchant: m.merchant_name, fields: fieldList(shared) })}</p>
        <p>{t('crm.leaveKeeps', { memberId: m.member_id })}</p>
      </div>
      {error && <p role="alert">{error}</p>}
      <button type="button" class="danger" ref={confirmRef} onClick={() => void leave()}>
        {t('crm.leaveYes', { programme: m.programme })}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        {t('crm.stay')}
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
      <h2 id="memberships-title">{t('crm.membershipsTitle')}</h2>
      <p>{t('crm.membershipsIntro')}</p>
      {error && <p role="alert">{error}</p>}
      <p role="status">{status}</p>
      {list && list.length === 0 && <p>{t('crm.noMemberships')}</p>}
      {list?.map((m) => {
        const shared = sharedOf(m.shared_fields);
        return (
          <article key={m.merchant} class="card" aria-labelledby={`m-${m.merchant}`}>
            <h3 id={`m-${m.merchant}`}>
              {t('crm.programmeHeading', { merchant: m.merchant_name, programme: m.programme })}
            </h3>
            {m.benefits && <p>{m.benefits}</p>}
            <dl class="facts">
              <dt>{t('crm.memberSince')}</dt>
              <dd>{day(m.joined_at)}</dd>
              <dt>{t('crm.memberNumber')}</dt>
              <dd>{m.member_id}</dd>
            </dl>
            <h4>{t('crm.seesNow', { merchant: m.merchant_name })}</h4>
            {shared.length === 0 ? (
              <p>{t('crm.nothingPersonal')}</p>
            ) : (
              <dl class="facts">
                {shared.map((f) => [<dt key={`${f}-t`}>{fieldText(i18n, f)}</dt>, <dd key={`${f}-d`}>{fieldValue(f, m.shared_fields[f]!)}</dd>])}
              </dl>
            )}
            <details>
              <summary>{t('crm.changeShare')}</summary>
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
        <dt>{t('crm.paid')}</dt>
        <dd>{money(payment.amount, payment.currency)}</dd>
        {payment.discount > 0 && [<dt key="dt">{t('crm.couponDiscount')}</dt>, <dd key="dd">{money(payment.discount, payment.currency)}</dd>]}
      </dl>
    );
  if (item.kind === 'coupon' && coupon)
    return (
      <>
        {item.body && <p>{item.body}</p>}
        <dl class="facts">
          <dt>{t('crm.reward')}</dt>
          <dd>{coupon.description}</dd>
          <dt>{t('crm.validUntil')}</dt>
          <dd>{day(coupon.valid_to)}</dd>
          <dt>{t('crm.status')}</dt>
          <dd>{coupon.status === 'issued' ? t('crm.couponIssued') : coupon.status === 'redeemed' ? t('crm.couponRedeemed') : coupon.status === 'expired' ? t('crm.couponExpired') : t('crm.couponVoid')}</dd>
        </dl>
      </>
    );
  return <p>{item.body}</p>;
}

const DISPUTE_STATUS = {
  open: 'crm.disputeOpen',
  refunded: 'crm.disputeRefunded',
  closed: 'crm.disputeClosed',
} as const;

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
  if (d && d.status !== 'closed')
    return (
      <p class="hint" role="status">
        {t(DISPUTE_STATUS[d.status])}
      </p>
    );
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
      {d && <p class="hint">{t(DISPUTE_STATUS[d.status])}</p>}
      {!asking ? (
        <button type="button" class="danger" aria-label={t('crm.notMeLabel', { title: item.title })} onClick={() => setAsking(true)}>
          {t('crm.notMe')}
        </button>
      ) : (
        <div role="alertdialog" aria-labelledby={`dispute-${item.id}`} class="confirm">
          <p id={`dispute-${item.id}`}>
            {face ? t('crm.reportFace') : t('crm.reportOther')}
          </p>
          <button type="button" class="danger" disabled={busy} onClick={() => void send()}>
            {face ? t('crm.reportFaceYes') : t('crm.reportYes')}
          </button>
          <button type="button" disabled={busy} onClick={() => setAsking(false)}>
            {t('crm.cancel')}
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
      <h2 id="inbox-title">{t('crm.inboxTitle')}</h2>
      {error && <p role="alert">{error}</p>}
      <h3>{t('crm.couponsTitle')}</h3>
      {coupons && coupons.length === 0 && <p>{t('crm.noCoupons')}</p>}
      {coupons && coupons.length > 0 && (
        <table class="stack">
          <caption class="visually-hidden">{t('crm.couponsCaption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('crm.coupon')}</th>
              <th scope="col">{t('crm.reward')}</th>
              <th scope="col">{t('crm.shop')}</th>
              <th scope="col">{t('crm.validUntil')}</th>
            </tr>
          </thead>
          <tbody>
            {coupons.map((c) => (
              <tr key={c.id}>
                <td data-label={t('crm.coupon')}>{c.title}</td>
                <td data-label={t('crm.reward')}>{c.coupon?.description}</td>
                <td data-label={t('crm.shop')}>{c.merchant_name}</td>
                <td data-label={t('crm.validUntil')}>{c.coupon && day(c.coupon.valid_to)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>{t('crm.receiptsTitle')}</h3>
      {loaded && <p aria-live="polite">{t('crm.unread', { count: unread })}</p>}
      {loaded && items.length === 0 && <p>{t('crm.inboxEmpty')}</p>}
      <ul class="inbox">
        {items.map((i) => {
          const isUnread = i.read_at === null;
          const kind = t(`crm.kind.${i.kind}`);
          return (
            <li key={i.id} class={isUnread ? 'card unread' : 'card'}>
              <article aria-labelledby={`i-${i.id}`}>
                <h4 id={`i-${i.id}`}>
                  {isUnread && <span class="badge">{t('crm.badgeUnread')}</span>} {t('crm.itemHeading', { kind, title: i.title })}
                </h4>
                <p class="hint">
                  {t('crm.from', { merchant: i.merchant_name || t('crm.aShop') })} <time dateTime={new Date(i.created).toISOString()}>{when(i.created)}</time>
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
                    <button type="button" aria-label={t('crm.markReadLabel', { title: i.title })} onClick={() => void markRead(i)}>
                      {t('crm.markRead')}
                    </button>
                  )}
                  {!i.from_platform && <MuteButton merchantId={i.merchant} name={i.merchant_name || t('crm.thisShop')} mutes={mutes} />}
                </div>
              </article>
            </li>
          );
        })}
      </ul>
      {more && (
        <button type="button" onClick={() => void page(cursor)}>
          {t('crm.older')}
        </button>
      )}
      <MuteNote />
    </section>
  );
}
