/**
 * The console's pages that mail links open, outside any session: the password reset
 * (`/console/reset-password?token=...`, and the operator staff's `/console/operator-reset-password?token=...`)
 * and the owner's invitation (`/console/accept-invitation?token=...`), and the form that asks for a
 * reset link. Each token works once; the server says when it no longer does.
 */
import { useEffect, useState } from 'preact/hooks';
import { call } from './api.ts';
import { t, type Key } from './messages.ts';
import { Alert, Field, message } from './ui.tsx';

/** The token from the link, then taken out of the address bar so it does not linger in history. */
function takeToken(): string {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  history.replaceState(null, '', location.pathname);
  return token;
}

/** Whose password: a merchant's console staff (the default) or the operator's own staff. */
export interface ResetKind {
  api: string;
  title: Key;
  emailLabel: Key;
  signInHref: string;
}
export const STAFF_RESET: ResetKind = { api: '/v1/staff/password_reset', title: 'app.facepayMerchantConsole', emailLabel: 'acct.yourEmail', signInHref: '/console/' };
export const OPERATOR_RESET: ResetKind = { api: '/v1/operator/password_reset', title: 'ops.title', emailLabel: 'ops.yourEmail', signInHref: '/console/#/ops' };

function Done({ text, kind = STAFF_RESET }: { text: string; kind?: ResetKind }) {
  return (
    <main id="main" class="signin">
      <h1>{t(kind.title)}</h1>
      <p role="status">{text}</p>
      <p>
        <a href={kind.signInHref}>{t('app.signIn')}</a>
      </p>
    </main>
  );
}

export function ForgotPassword({ onBack, kind = STAFF_RESET }: { onBack: () => void; kind?: ResetKind }) {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      setSent((await call<{ message: string }>('POST', kind.api, { email })).message);
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <main id="main" class="signin">
      <h1>{t('app.forgotPassword')}</h1>
      {sent ? (
        <p role="status">{sent}</p>
      ) : (
        <form onSubmit={submit}>
          <Field id="forgot-email" label={t(kind.emailLabel)} type="email" value={email} onInput={setEmail} autocomplete="username" required />
          <Alert text={error} />
          <button type="submit" class="primary">
            {t('acct.mailLink')}
          </button>
        </form>
      )}
      <p>
        <button type="button" class="link" onClick={onBack}>
          {t('acct.back')}
        </button>
      </p>
    </main>
  );
}

export function ResetPassword({ kind = STAFF_RESET }: { kind?: ResetKind }) {
  const [token] = useState(takeToken);
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [done, setDone] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      await call('POST', `${kind.api}/complete`, { token, password });
      setDone(true);
    } catch (err) {
      setError(message(err));
    }
  };
  if (done) return <Done text={t('acct.resetDone')} kind={kind} />;
  return (
    <main id="main" class="signin">
      <h1>{t('acct.chooseNew')}</h1>
      <form onSubmit={submit}>
        <Field id="new-password" label={t('acct.newPassword')} type="password" value={password} onInput={setPassword} autocomplete="new-password" required />
        <Alert text={error} />
        <button type="submit" class="primary">
          {t('acct.setPassword')}
        </button>
      </form>
    </main>
  );
}

export function AcceptInvitation() {
  const [token] = useState(takeToken);
  const [invite, setInvite] = useState<{ email: string; merchant: { name: string } } | null>(null);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [done, setDone] = useState(false);
  useEffect(() => {
    call<{ email: string; merchant: { name: string } }>('POST', '/v1/staff/invitations/lookup', { token }).then(setInvite, (e: unknown) => setError(message(e)));
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      await call('POST', '/v1/staff/invitations/accept', { token, name, password });
      setDone(true);
    } catch (err) {
      setError(message(err));
    }
  };
  if (done) return <Done text={t('acct.welcome', { shop: invite?.merchant.name ?? t('acct.theShop'), email: invite?.email ?? t('acct.yourEmailFallback') })} />;
  return (
    <main id="main" class="signin">
      <h1>{t('acct.acceptTitle')}</h1>
      {invite && (
        <>
          <p>
            {t('acct.invitedBefore')}
            <strong>{invite.merchant.name}</strong>
            {t('acct.invitedMiddle')}
            <strong>{invite.email}</strong>
            {t('acct.invitedEnd')}
          </p>
          <form onSubmit={submit}>
            <Field id="invite-name" label={t('acct.yourName')} value={name} onInput={setName} autocomplete="name" required />
            <Field id="invite-password" label={t('acct.choosePassword')} type="password" value={password} onInput={setPassword} autocomplete="new-password" required />
            <Alert text={error} />
            <button type="submit" class="primary">
              {t('acct.acceptAndSet')}
            </button>
          </form>
        </>
      )}
      {!invite && <Alert text={error} />}
    </main>
  );
}
