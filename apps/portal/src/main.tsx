import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { renderSVG } from 'uqr';
import { formatPayCode, LOCALE_NAMES, LOCALES, methodText, parseMoney, payCodeQrText, plainAmount, type Locale } from '@facepay/web-common';
import { api, errorMessage, type Consent, type Me, type ShopperPayment } from './api.ts';
import { Inbox, Memberships } from './crm.tsx';
import { Enrol } from './enrol.tsx';
import { i18n, t, type Key } from './messages.ts';
import { YourData } from './rights.tsx';
import './style.css';

type View = 'home' | 'face' | 'payments' | 'memberships' | 'inbox' | 'settings' | 'data';

const message = errorMessage;

/** The language switch: the choice is remembered in this browser. */
function LanguageSwitch() {
  return (
    <label class="language">
      <span class="visually-hidden">{t('language.label')}</span>
      <select aria-label={t('language.label')} value={i18n.locale} onChange={(e) => i18n.setLocale((e.target as HTMLSelectElement).value as Locale)}>
        {LOCALES.map((l) => (
          <option key={l} value={l} lang={l}>
            {LOCALE_NAMES[l]}
          </option>
        ))}
      </select>
    </label>
  );
}

function Field(props: { id: string; label: string; type?: string; value: string; onInput: (v: string) => void; autocomplete?: string; hint?: string }) {
  return (
    <p class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        name={props.id}
        type={props.type ?? 'text'}
        value={props.value}
        autocomplete={props.autocomplete}
        aria-describedby={props.hint ? `${props.id}-hint` : undefined}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
      />
      {props.hint && (
        <small id={`${props.id}-hint`} class="hint">
          {props.hint}
        </small>
      )}
    </p>
  );
}

/** Asks for a reset link by e-mail; the answer is the same whether or not the address has an account. */
function ForgotPassword({ onBack }: { onBack: () => void }) {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: { preventDefault(): void }) => {
    e.preventDefault();
    setError('');
    try {
      setSent((await api.requestReset(email)).message);
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <main class="narrow">
      <h1>{t('auth.forgotPassword')}</h1>
      {sent ? (
        <p role="status">{sent}</p>
      ) : (
        <form onSubmit={submit}>
          <Field id="forgot-email" label={t('auth.yourEmail')} type="email" value={email} onInput={setEmail} autocomplete="email" />
          {error && <p role="alert">{error}</p>}
          <button type="submit" class="primary">
            {t('auth.mailResetLink')}
          </button>
        </form>
      )}
      <button type="button" class="link" onClick={onBack}>
        {t('auth.backToSignIn')}
      </button>
    </main>
  );
}

/** The page the reset mail links to (`/portal/reset-password?token=...`); the link works once. */
function ResetPassword() {
  const [token] = useState(() => {
    const t = new URLSearchParams(location.search).get('token') ?? '';
    // The token leaves the address bar, so it does not linger in the history.
    history.replaceState(null, '', location.pathname);
    return t;
  });
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [done, setDone] = useState(false);
  const submit = async (e: { preventDefault(): void }) => {
    e.preventDefault();
    setError('');
    try {
      await api.completeReset(token, password);
      setDone(true);
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <main class="narrow">
      <h1>{t('auth.chooseNewPassword')}</h1>
      {done ? (
        <>
          <p role="status">{t('auth.passwordChanged')}</p>
          <p>
            <a href="/portal/">{t('auth.signIn')}</a>
          </p>
        </>
      ) : (
        <form onSubmit={submit}>
          <Field id="new-password" label={t('auth.newPassword')} type="password" value={password} onInput={setPassword} autocomplete="new-password" hint={t('auth.atLeast10')} />
          {error && <p role="alert">{error}</p>}
          <button type="submit" class="primary">
            {t('auth.setPassword')}
          </button>
        </form>
      )}
    </main>
  );
}

function Auth({ onIn }: { onIn: (me: Me) => void }) {
  const [forgot, setForgot] = useState(false);
  const [mode, setMode] = useState<'login' | 'signup'>('login');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [phone, setPhone] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: { preventDefault(): void }) => {
    e.preventDefault();
    setError('');
    try {
      onIn(mode === 'login' ? await api.logIn({ email, password }) : await api.signUp({ email, password, name, ...(phone ? { phone } : {}) }));
    } catch (err) {
      setError(message(err));
    }
  };
  if (forgot) return <ForgotPassword onBack={() => setForgot(false)} />;
  return (
    <main class="narrow">
      <LanguageSwitch />
      <h1>{mode === 'login' ? t('auth.signInTitle') : t('auth.signUpTitle')}</h1>
      <form onSubmit={submit}>
        {mode === 'signup' && <Field id="name" label={t('auth.name')} value={name} onInput={setName} autocomplete="name" />}
        <Field id="email" label={t('auth.email')} type="email" value={email} onInput={setEmail} autocomplete="email" />
        <Field
          id="password"
          label={t('auth.password')}
          type="password"
          value={password}
          onInput={setPassword}
          autocomplete={mode === 'login' ? 'current-password' : 'new-password'}
          {...(mode === 'signup' ? { hint: t('auth.passwordHint') } : {})}
        />
        {mode === 'signup' && <Field id="phone" label={t('auth.phone')} type="tel" value={phone} onInput={setPhone} autocomplete="tel" hint={t('auth.phoneHint')} />}
        {error && <p role="alert">{error}</p>}
        <button type="submit" class="primary">
          {mode === 'login' ? t('auth.signIn') : t('auth.create')}
        </button>
      </form>
      <button type="button" class="link" onClick={() => setMode(mode === 'login' ? 'signup' : 'login')}>
        {mode === 'login' ? t('auth.toSignUp') : t('auth.toSignIn')}
      </button>
      {mode === 'login' && (
        <button type="button" class="link" onClick={() => setForgot(true)}>
          {t('auth.forgotPassword')}
        </button>
      )}
    </main>
  );
}

function Home({ me, setMe }: { me: Me; setMe: (m: Me) => void }) {
  const [amount, setAmount] = useState('');
  const [error, setError] = useState('');
  const [code, setCode] = useState<{ code: string; expires_at: number }>();
  const [pending, setPending] = useState<{ amount: number; currency: string; reference: string }>();
  const topUp = async (e: { preventDefault(): void }) => {
    e.preventDefault();
    const minor = parseMoney(amount, me.wallet.currency);
    if (minor === undefined) return setError(t('wallet.amountHint'));
    setError('');
    try {
      const r = await api.topUp(minor, me.wallet.currency);
      const { top_up, payment_reference, ...next } = r;
      setMe(next);
      // Real money arrives only through a rail: the wallet grows when the bank or the desk has it.
      setPending(top_up?.status === 'pending' && payment_reference ? { amount: top_up.amount, currency: top_up.currency, reference: payment_reference } : undefined);
      setAmount('');
    } catch (err) {
      setError(message(err, me.wallet.currency));
    }
  };
  return (
    <section>
      <h2>{t('wallet.title')}</h2>
      <p class="balance" aria-live="polite">
        {i18n.money(me.wallet.balance, me.wallet.currency)}
      </p>
      <form onSubmit={topUp} class="inline">
        <Field id="topup" label={t('wallet.topUpLabel', { currency: me.wallet.currency })} value={amount} onInput={setAmount} />
        <button type="submit">{t('wallet.topUp')}</button>
      </form>
      {error && <p role="alert">{error}</p>}
      {pending && (
        <div class="pending-top-up" role="status">
          <p>{t('wallet.pending', { amount: i18n.money(pending.amount, pending.currency) })}</p>
          <ul>
            <li>
              {t('wallet.pendingBankBefore')} <strong class="reference">{pending.reference}</strong> {t('wallet.pendingBankAfter')}
            </li>
            <li>{t('wallet.pendingDesk')}</li>
          </ul>
        </div>
      )}
      <h2>{t('wallet.payCodeTitle')}</h2>
      <p>{t('wallet.payCodeText')}</p>
      <button type="button" onClick={() => api.payCode().then(setCode, (e) => setError(message(e)))}>
        {t('wallet.showPayCode')}
      </button>
      {code && (
        <div class="paycode">
          <div class="qr" role="img" aria-label={t('wallet.payCodeQr')} dangerouslySetInnerHTML={{ __html: renderSVG(payCodeQrText(code.code)) }} />
          <p class="code" aria-label={t('wallet.payCode')}>
            {formatPayCode(code.code)}
          </p>
          <p>{t('wallet.validUntil', { time: i18n.time(code.expires_at) })}</p>
        </div>
      )}
    </section>
  );
}

function Face({ me, setMe }: { me: Me; setMe: (m: Me) => void }) {
  const [consent, setConsent] = useState<Consent>();
  const [agreed, setAgreed] = useState(false);
  const [enrolling, setEnrolling] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [unlockPassword, setUnlockPassword] = useState('');
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  useEffect(() => {
    api.consent().then(setConsent, (e) => setError(message(e)));
  }, [me.face_enrolled]);
  const act = (p: Promise<Me>, done?: Key) =>
    p.then(
      (m) => {
        setMe(m);
        setError('');
        setStatus(done ? t(done) : '');
      },
      (e) => {
        setStatus('');
        setError(message(e));
      },
    );
  // Withdrawing answers at once: the screen says it is under way, then reads the consent again, so
  // the consent form is back without a reload (the face flag may not change when none was enrolled).
  const withdraw = () => {
    setStatus(t('face.withdrawing'));
    void act(api.withdrawConsent(), 'face.withdrawn').then(() => api.consent().then(setConsent, (e) => setError(message(e))));
  };
  if (enrolling) return <Enrol onDone={(m) => (setEnrolling(false), setMe(m))} onCancel={() => setEnrolling(false)} />;
  return (
    <section>
      <h2>{t('face.title')}</h2>
      {error && <p role="alert">{error}</p>}
      <p role="status" data-testid="face-status">
        {status}
      </p>
      {consent && !consent.accepted && (
        <div class="consent">
          <h3>{t('face.consentTitle')}</h3>
          <p>{consent.text}</p>
          <label>
            <input type="checkbox" checked={agreed} onChange={() => setAgreed(!agreed)} /> {t('face.agreeLabel', { version: consent.version })}
          </label>
          <button
            type="button"
            class="primary"
            disabled={!agreed}
            onClick={() =>
              api.acceptConsent(consent.version).then(
                (c) => {
                  setConsent(c);
                  setStatus(t('face.consentGiven'));
                },
                (e) => setError(message(e)),
              )
            }
          >
            {t('face.agree')}
          </button>
        </div>
      )}
      {me.face_enrol_again && (
        <p class="notice" role="status">
          {t('face.enrolAgainNotice')}
        </p>
      )}
      {consent?.accepted && (!me.face_enrolled || me.face_enrol_again) && (
        <button type="button" class="primary" onClick={() => setEnrolling(true)}>
          {me.face_enrol_again ? t('face.enrolAgain') : t('face.enrol')}
        </button>
      )}
      {me.face_enrolled && (
        <>
          <label class="switch">
            <input type="checkbox" checked={me.face_pay_enabled} onChange={() => act(api.update({ face_pay_enabled: !me.face_pay_enabled }))} /> {t('face.payByFace')}
          </label>
          {!me.face_pay_enabled && (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                void act(api.update({ face_pay_enabled: true, password: unlockPassword })).then(() => setUnlockPassword(''));
              }}
            >
              <p>{t('face.unlockExplain')}</p>
              <Field id="f-unlock-password" label={t('face.unlockPassword')} type="password" value={unlockPassword} onInput={setUnlockPassword} autocomplete="current-password" />
              <button type="submit">{t('face.unlockSubmit')}</button>
            </form>
          )}
          {!confirmDelete ? (
            <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>
              {t('face.delete')}
            </button>
          ) : (
            <div role="alertdialog" aria-labelledby="delete-title" class="confirm">
              <p id="delete-title">{t('face.deleteConfirm')}</p>
              <button type="button" class="danger" onClick={() => act(api.deleteFace(), 'face.deleted').then(() => setConfirmDelete(false))}>
                {t('face.deleteYes')}
              </button>
              <button type="button" onClick={() => setConfirmDelete(false)}>
                {t('face.keep')}
              </button>
            </div>
          )}
        </>
      )}
      {consent?.accepted && (
        <button type="button" class="link" onClick={withdraw}>
          {t('face.withdraw')}
        </button>
      )}
    </section>
  );
}

function Payments() {
  const [rows, setRows] = useState<ShopperPayment[]>();
  const [error, setError] = useState('');
  useEffect(() => {
    api.payments().then((r) => setRows(r.data), (e) => setError(message(e)));
  }, []);
  return (
    <section>
      <h2>{t('payments.title')}</h2>
      {error && <p role="alert">{error}</p>}
      {rows && rows.length === 0 && <p>{t('payments.none')}</p>}
      {rows && rows.length > 0 && (
        <table class="stack">
          <caption class="visually-hidden">{t('payments.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('payments.when')}</th>
              <th scope="col">{t('payments.where')}</th>
              <th scope="col">{t('payments.how')}</th>
              <th scope="col" class="num">
                {t('payments.amount')}
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((p) => (
              <tr key={p.id}>
                <td data-label={t('payments.when')}>{i18n.dateTime(p.created_at)}</td>
                <td data-label={t('payments.where')}>
                  {p.merchant_name}
                  {p.store_name ? `, ${p.store_name}` : ''}
                </td>
                <td data-label={t('payments.how')} data-testid="payment-method" title={p.face_decision ? p.face_decision.reasons.map(reasonText).join('; ') : undefined}>
                  {methodText(i18n, p.method)}
                </td>
                <td data-label={t('payments.amount')} class="num">
                  {i18n.money(p.amount, p.currency)}
                  {p.refunded > 0 && t('payments.refunded', { amount: i18n.money(p.refunded, p.currency) })}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The risk engine's reasons in the shopper's words; a reason the catalogue lacks shows as its code. */
function reasonText(reason: string): string {
  return i18n.lookup(`reason.${reason}`) ?? reason;
}

function PinForm({ me, setMe }: { me: Me; setMe: (m: Me) => void }) {
  const [pin, setPin] = useState('');
  const [password, setPassword] = useState('');
  const [note, setNote] = useState('');
  const done = (m: Me, text: string) => {
    setMe(m);
    setPin('');
    setPassword('');
    setNote(text);
  };
  const save = async (e: { preventDefault(): void }) => {
    e.preventDefault();
    if (!/^\d{6}$/.test(pin)) return setNote(t('pin.sixDigits'));
    try {
      done(await api.setPin(pin, password), t('pin.saved'));
    } catch (err) {
      setNote(message(err));
    }
  };
  const remove = async () => {
    try {
      done(await api.removePin(password), t('pin.removed'));
    } catch (err) {
      setNote(message(err));
    }
  };
  return (
    <form onSubmit={save} aria-labelledby="pin-title">
      <h3 id="pin-title">{t('pin.title')}</h3>
      <p>
        {me.has_face_pay_pin ? t('pin.isSet') : t('pin.notSet')} {t('pin.aboveLimit')}
      </p>
      <Field id="s-pin" label={t('pin.new')} type="password" value={pin} onInput={setPin} autocomplete="off" />
      <Field id="s-pin-password" label={t('pin.password')} type="password" value={password} onInput={setPassword} autocomplete="current-password" />
      <button type="submit" class="primary">
        {me.has_face_pay_pin ? t('pin.change') : t('pin.set')}
      </button>
      {me.has_face_pay_pin && (
        <button type="button" onClick={remove}>
          {t('pin.remove')}
        </button>
      )}
      {note && <p role="status">{note}</p>}
    </form>
  );
}

function Settings({ me, setMe }: { me: Me; setMe: (m: Me) => void }) {
  const [name, setName] = useState(me.name);
  const [phone, setPhone] = useState(me.phone ?? '');
  const [limit, setLimit] = useState(me.per_payment_limit === null ? '' : plainAmount(me.per_payment_limit, me.wallet.currency));
  const [askDigits, setAskDigits] = useState(me.always_ask_digits);
  const [note, setNote] = useState('');
  const save = async (e: { preventDefault(): void }) => {
    e.preventDefault();
    const minor = limit.trim() === '' ? null : parseMoney(limit, me.wallet.currency);
    if (minor === undefined) return setNote(t('settings.limitInvalid'));
    try {
      setMe(await api.update({ name, phone: phone.trim() === '' ? null : phone, per_payment_limit: minor, always_ask_digits: askDigits }));
      setNote(t('settings.saved'));
    } catch (err) {
      setNote(message(err, me.wallet.currency));
    }
  };
  return (
    <section>
      <h2>{t('settings.title')}</h2>
      <form onSubmit={save}>
        <Field id="s-name" label={t('settings.name')} value={name} onInput={setName} autocomplete="name" />
        <Field id="s-phone" label={t('settings.phone')} type="tel" value={phone} onInput={setPhone} autocomplete="tel" />
        <Field id="s-limit" label={t('settings.limit', { currency: me.wallet.currency })} value={limit} onInput={setLimit} hint={t('settings.limitHint')} />
        <label>
          <input type="checkbox" checked={askDigits} onChange={() => setAskDigits(!askDigits)} /> {t('settings.askDigits')}
        </label>
        <button type="submit" class="primary">
          {t('settings.save')}
        </button>
        {note && <p role="status">{note}</p>}
      </form>
      <PinForm me={me} setMe={setMe} />
    </section>
  );
}

function viewFromHash(): View {
  const v = location.hash.replace(/^#\/?/, '');
  return v === 'face' || v === 'payments' || v === 'memberships' || v === 'inbox' || v === 'settings' || v === 'data' ? v : 'home';
}

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [view, setView] = useState<View>(viewFromHash());
  // A new language re-renders every screen in place, keeping what was typed.
  const [, setLocale] = useState(i18n.locale);
  useEffect(() => i18n.subscribe(setLocale), []);
  const [deleted, setDeleted] = useState(false);
  useEffect(() => {
    api.me().then(setMe, () => setMe(null));
    const onHash = () => setView(viewFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  if (me === undefined) return <main class="narrow">{t('app.loading')}</main>;
  if (me === null)
    return (
      <>
        {deleted && (
          <p class="notice narrow" role="status">
            {t('app.accountDeleted')}
          </p>
        )}
        <Auth onIn={setMe} />
      </>
    );
  const tabs: [View, string][] = [
    ['home', t('tab.home')],
    ['face', t('tab.face')],
    ['payments', t('tab.payments')],
    ['memberships', t('tab.memberships')],
    ['inbox', t('tab.inbox')],
    ['settings', t('tab.settings')],
    ['data', t('tab.data')],
  ];
  return (
    <div class="shell">
      <header>
        <strong>Facepay</strong>
        <nav aria-label={t('app.sections')}>
          {tabs.map(([v, label]) => (
            <a key={v} href={`#/${v}`} aria-current={view === v ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <LanguageSwitch />
        <button type="button" class="link" onClick={() => api.logOut().finally(() => setMe(null))}>
          {t('app.signOut')}
        </button>
      </header>
      <main>
        <p class="hello">{t('app.hello', { name: me.name })}</p>
        {me.face_enrol_again && view !== 'face' && (
          <p class="notice" role="status">
            {t('app.enrolAgainNotice')} <a href="#/face">{t('app.enrolAgainLink')}</a> {t('app.enrolAgainTail')}
          </p>
        )}
        {view === 'home' && <Home me={me} setMe={setMe} />}
        {view === 'face' && <Face me={me} setMe={setMe} />}
        {view === 'payments' && <Payments />}
        {view === 'memberships' && <Memberships me={me} />}
        {view === 'inbox' && <Inbox onAccountChanged={() => void api.me().then(setMe, () => undefined)} />}
        {view === 'settings' && <Settings me={me} setMe={setMe} />}
        {view === 'data' && (
          <YourData
            onDeleted={() => {
              location.hash = '#/';
              setDeleted(true);
              setMe(null);
            }}
          />
        )}
      </main>
    </div>
  );
}

const root = document.getElementById('app');
if (root) render(location.pathname.endsWith('/reset-password') ? <ResetPassword /> : <App />, root);
