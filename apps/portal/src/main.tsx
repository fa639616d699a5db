import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { renderSVG } from 'uqr';
import { formatMoney, formatPayCode, parseMoney, payCodeQrText, paymentMethodLabel, plainAmount } from '@facepay/web-common';
import { api, errorMessage, type Consent, type Me, type ShopperPayment } from './api.ts';
import { Inbox, Memberships } from './crm.tsx';
import { Enrol } from './enrol.tsx';
import { YourData } from './rights.tsx';
import './style.css';

type View = 'home' | 'face' | 'payments' | 'memberships' | 'inbox' | 'settings' | 'data';

const message = errorMessage;

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

function Auth({ onIn }: { onIn: (me: Me) => void }) {
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
  return (
    <main class="narrow">
      <h1>{mode === 'login' ? 'Sign in to Facepay' : 'Create your Facepay account'}</h1>
      <form onSubmit={submit}>
        {mode === 'signup' && <Field id="name" label="Your name" value={name} onInput={setName} autocomplete="name" />}
        <Field id="email" label="E-mail" type="email" value={email} onInput={setEmail} autocomplete="email" />
        <Field
          id="password"
          label="Password"
          type="password"
          value={password}
          onInput={setPassword}
          autocomplete={mode === 'login' ? 'current-password' : 'new-password'}
          {...(mode === 'signup' ? { hint: 'At least 10 characters.' } : {})}
        />
        {mode === 'signup' && (
          <Field id="phone" label="Phone number (optional)" type="tel" value={phone} onInput={setPhone} autocomplete="tel" hint="Its last four digits confirm it is you when a face is not certain." />
        )}
        {error && <p role="alert">{error}</p>}
        <button type="submit" class="primary">
          {mode === 'login' ? 'Sign in' : 'Create account'}
        </button>
      </form>
      <button type="button" class="link" onClick={() => setMode(mode === 'login' ? 'signup' : 'login')}>
        {mode === 'login' ? 'New here? Create an account' : 'Have an account? Sign in'}
      </button>
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
    if (minor === undefined) return setError('Enter an amount such as 20 or 12.50.');
    setError('');
    try {
      const r = await api.topUp(minor, me.wallet.currency);
      const { top_up, payment_reference, ...next } = r;
      setMe(next);
      // Real money arrives only through a rail: the wallet grows when the bank or the desk has it.
      setPending(top_up?.status === 'pending' && payment_reference ? { amount: top_up.amount, currency: top_up.currency, reference: payment_reference } : undefined);
      setAmount('');
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <section>
      <h2>Wallet</h2>
      <p class="balance" aria-live="polite">
        {formatMoney(me.wallet.balance, me.wallet.currency)}
      </p>
      <form onSubmit={topUp} class="inline">
        <Field id="topup" label={`Top up (${me.wallet.currency})`} value={amount} onInput={setAmount} />
        <button type="submit">Top up</button>
      </form>
      {error && <p role="alert">{error}</p>}
      {pending && (
        <div class="pending-top-up" role="status">
          <p>
            Your top-up of {formatMoney(pending.amount, pending.currency)} is waiting for your money. Your wallet grows as soon as it arrives:
          </p>
          <ul>
            <li>
              by bank transfer to the operator's account, with the reference <strong class="reference">{pending.reference}</strong> (credited when the bank statement comes in, usually the next working day), or
            </li>
            <li>at the service desk, in cash or by card: show this reference or give your e-mail address (credited at once).</li>
          </ul>
        </div>
      )}
      <h2>Pay without your face</h2>
      <p>A one-time code the terminal can scan or the cashier can type. It works once, for two minutes.</p>
      <button type="button" onClick={() => api.payCode().then(setCode, (e) => setError(message(e)))}>
        Show a pay code
      </button>
      {code && (
        <div class="paycode">
          <div class="qr" role="img" aria-label="pay code as a QR code" dangerouslySetInnerHTML={{ __html: renderSVG(payCodeQrText(code.code)) }} />
          <p class="code" aria-label="pay code">
            {formatPayCode(code.code)}
          </p>
          <p>Valid until {new Date(code.expires_at).toLocaleTimeString()}</p>
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
  const [error, setError] = useState('');
  useEffect(() => {
    api.consent().then(setConsent, (e) => setError(message(e)));
  }, [me.face_enrolled]);
  const act = (p: Promise<Me>) =>
    p.then(
      (m) => {
        setMe(m);
        setError('');
      },
      (e) => setError(message(e)),
    );
  if (enrolling) return <Enrol onDone={(m) => (setEnrolling(false), setMe(m))} onCancel={() => setEnrolling(false)} />;
  return (
    <section>
      <h2>Face pay</h2>
      {error && <p role="alert">{error}</p>}
      {consent && !consent.accepted && (
        <div class="consent">
          <h3>Your consent</h3>
          <p>{consent.text}</p>
          <label>
            <input type="checkbox" checked={agreed} onChange={() => setAgreed(!agreed)} /> I agree to face payment (version {consent.version})
          </label>
          <button type="button" class="primary" disabled={!agreed} onClick={() => api.acceptConsent(consent.version).then(setConsent, (e) => setError(message(e)))}>
            Agree
          </button>
        </div>
      )}
      {me.face_enrol_again && (
        <p class="notice" role="status">
          Facepay now recognises faces with a new model, and terminals can no longer recognise the face you enrolled. Enrol it again to keep paying by face: it takes a
          few seconds, and your old face data is replaced.
        </p>
      )}
      {consent?.accepted && (!me.face_enrolled || me.face_enrol_again) && (
        <button type="button" class="primary" onClick={() => setEnrolling(true)}>
          {me.face_enrol_again ? 'Enrol my face again' : 'Enrol my face'}
        </button>
      )}
      {me.face_enrolled && (
        <>
          <label class="switch">
            <input type="checkbox" checked={me.face_pay_enabled} onChange={() => act(api.update({ face_pay_enabled: !me.face_pay_enabled }))} /> Pay by face at terminals
          </label>
          {!confirmDelete ? (
            <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>
              Delete my face
            </button>
          ) : (
            <div role="alertdialog" aria-labelledby="delete-title" class="confirm">
              <p id="delete-title">Delete your face for good? You can enrol again later.</p>
              <button type="button" class="danger" onClick={() => act(api.deleteFace()).then(() => setConfirmDelete(false))}>
                Yes, delete it now
              </button>
              <button type="button" onClick={() => setConfirmDelete(false)}>
                Keep it
              </button>
            </div>
          )}
        </>
      )}
      {consent?.accepted && (
        <button type="button" class="link" onClick={() => act(api.withdrawConsent())}>
          Withdraw my consent (deletes my face)
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
      <h2>Payments</h2>
      {error && <p role="alert">{error}</p>}
      {rows && rows.length === 0 && <p>No payments yet.</p>}
      {rows && rows.length > 0 && (
        <table class="stack">
          <caption class="visually-hidden">Your payments, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Where</th>
              <th scope="col">How</th>
              <th scope="col" class="num">
                Amount
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((p) => (
              <tr key={p.id}>
                <td data-label="When">{new Date(p.created_at).toLocaleString()}</td>
                <td data-label="Where">
                  {p.merchant_name}
                  {p.store_name ? `, ${p.store_name}` : ''}
                </td>
                <td data-label="How" data-testid="payment-method" title={p.face_decision ? p.face_decision.reasons.map((r) => REASON_TEXT[r] ?? r).join('; ') : undefined}>
                  {paymentMethodLabel(p.method)}
                </td>
                <td data-label="Amount" class="num">
                  {formatMoney(p.amount, p.currency)}
                  {p.refunded > 0 && ` (refunded ${formatMoney(p.refunded, p.currency)})`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The risk engine's reasons in the shopper's words. */
const REASON_TEXT: Record<string, string> = {
  false_match_bound_ok: 'your face was recognised with confidence',
  false_match_bound_above_face_alone: 'your face alone was not certain enough',
  look_alike: 'someone else looks like you',
  amount_within_face_alone_limit: 'the amount was within your face-alone limit',
  amount_above_face_alone_limit: 'the amount was above your face-alone limit',
  first_visit_at_merchant: 'your first payment at this shop',
  terminal_recent_failures: 'recent failed attempts at this terminal',
  shopper_recent_failures: 'recent wrong digits or PINs for your account',
  always_second_factor: 'you or the shop asked for a second step every time',
};

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
    if (!/^\d{6}$/.test(pin)) return setNote('A face-pay PIN is 6 digits.');
    try {
      done(await api.setPin(pin, password), 'PIN saved.');
    } catch (err) {
      setNote(message(err));
    }
  };
  const remove = async () => {
    try {
      done(await api.removePin(password), 'PIN removed.');
    } catch (err) {
      setNote(message(err));
    }
  };
  return (
    <form onSubmit={save} aria-labelledby="pin-title">
      <h3 id="pin-title">Face-pay PIN</h3>
      <p>{me.has_face_pay_pin ? 'Your PIN is set.' : 'No PIN yet: payments above your face-alone limit go another way.'} Above the limit, the terminal asks for it on its keypad.</p>
      <Field id="s-pin" label="New 6-digit PIN" type="password" value={pin} onInput={setPin} autocomplete="off" />
      <Field id="s-pin-password" label="Your account password" type="password" value={password} onInput={setPassword} autocomplete="current-password" />
      <button type="submit" class="primary">
        {me.has_face_pay_pin ? 'Change PIN' : 'Set PIN'}
      </button>
      {me.has_face_pay_pin && (
        <button type="button" onClick={remove}>
          Remove PIN
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
    if (minor === undefined) return setNote('Enter the limit as an amount, or leave it empty.');
    try {
      setMe(await api.update({ name, phone: phone.trim() === '' ? null : phone, per_payment_limit: minor, always_ask_digits: askDigits }));
      setNote('Saved.');
    } catch (err) {
      setNote(message(err));
    }
  };
  return (
    <section>
      <h2>Settings</h2>
      <form onSubmit={save}>
        <Field id="s-name" label="Name" value={name} onInput={setName} autocomplete="name" />
        <Field id="s-phone" label="Phone number" type="tel" value={phone} onInput={setPhone} autocomplete="tel" />
        <Field id="s-limit" label={`Limit per face payment (${me.wallet.currency})`} value={limit} onInput={setLimit} hint="Face alone pays up to this amount; above it the terminal asks for your face-pay PIN, or you pay another way." />
        <label>
          <input type="checkbox" checked={askDigits} onChange={() => setAskDigits(!askDigits)} /> Always ask for my phone digits
        </label>
        <button type="submit" class="primary">
          Save
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
  const [deleted, setDeleted] = useState(false);
  useEffect(() => {
    api.me().then(setMe, () => setMe(null));
    const onHash = () => setView(viewFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  if (me === undefined) return <main class="narrow">Loading…</main>;
  if (me === null)
    return (
      <>
        {deleted && (
          <p class="notice narrow" role="status">
            Your account was deleted.
          </p>
        )}
        <Auth onIn={setMe} />
      </>
    );
  const tabs: [View, string][] = [
    ['home', 'Wallet'],
    ['face', 'Face pay'],
    ['payments', 'Payments'],
    ['memberships', 'Memberships'],
    ['inbox', 'Inbox'],
    ['settings', 'Settings'],
    ['data', 'Your data'],
  ];
  return (
    <div class="shell">
      <header>
        <strong>Facepay</strong>
        <nav aria-label="sections">
          {tabs.map(([v, label]) => (
            <a key={v} href={`#/${v}`} aria-current={view === v ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <button type="button" class="link" onClick={() => api.logOut().finally(() => setMe(null))}>
          Sign out
        </button>
      </header>
      <main>
        <p class="hello">Hello, {me.name}</p>
        {me.face_enrol_again && view !== 'face' && (
          <p class="notice" role="status">
            Terminals can no longer recognise your face after an update of Facepay's face model. <a href="#/face">Enrol your face again</a> to keep paying by face.
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
if (root) render(<App />, root);
