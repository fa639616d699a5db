/**
 * The console's pages that mail links open, outside any session: the password reset
 * (`/console/reset-password?token=...`) and the owner's invitation (`/console/accept-invitation?token=...`),
 * and the form that asks for a reset link. Each token works once; the server says when it no longer does.
 */
import { useEffect, useState } from 'preact/hooks';
import { call } from './api.ts';
import { Alert, Field, message } from './ui.tsx';

/** The token from the link, then taken out of the address bar so it does not linger in history. */
function takeToken(): string {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  history.replaceState(null, '', location.pathname);
  return token;
}

function Done({ text }: { text: string }) {
  return (
    <main id="main" class="signin">
      <h1>Facepay merchant console</h1>
      <p role="status">{text}</p>
      <p>
        <a href="/console/">Sign in</a>
      </p>
    </main>
  );
}

export function ForgotPassword({ onBack }: { onBack: () => void }) {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      setSent((await call<{ message: string }>('POST', '/v1/staff/password_reset', { email })).message);
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <main id="main" class="signin">
      <h1>Forgot your password?</h1>
      {sent ? (
        <p role="status">{sent}</p>
      ) : (
        <form onSubmit={submit}>
          <Field id="forgot-email" label="Your console e-mail" type="email" value={email} onInput={setEmail} autocomplete="username" required />
          <Alert text={error} />
          <button type="submit" class="primary">
            Mail me a reset link
          </button>
        </form>
      )}
      <p>
        <button type="button" class="link" onClick={onBack}>
          Back to sign-in
        </button>
      </p>
    </main>
  );
}

export function ResetPassword() {
  const [token] = useState(takeToken);
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [done, setDone] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      await call('POST', '/v1/staff/password_reset/complete', { token, password });
      setDone(true);
    } catch (err) {
      setError(message(err));
    }
  };
  if (done) return <Done text="Your password is changed, and every session that was signed in is ended." />;
  return (
    <main id="main" class="signin">
      <h1>Choose a new password</h1>
      <form onSubmit={submit}>
        <Field id="new-password" label="New password (at least 10 characters)" type="password" value={password} onInput={setPassword} autocomplete="new-password" required />
        <Alert text={error} />
        <button type="submit" class="primary">
          Set password
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
  if (done) return <Done text={`Welcome: you are the owner of ${invite?.merchant.name ?? 'the shop'}. Sign in with ${invite?.email ?? 'your e-mail'} and the password you chose.`} />;
  return (
    <main id="main" class="signin">
      <h1>Accept your invitation</h1>
      {invite && (
        <>
          <p>
            You are invited to run <strong>{invite.merchant.name}</strong> on Facepay, signing in as <strong>{invite.email}</strong>.
          </p>
          <form onSubmit={submit}>
            <Field id="invite-name" label="Your name" value={name} onInput={setName} autocomplete="name" required />
            <Field id="invite-password" label="Choose a password (at least 10 characters)" type="password" value={password} onInput={setPassword} autocomplete="new-password" required />
            <Alert text={error} />
            <button type="submit" class="primary">
              Accept and set password
            </button>
          </form>
        </>
      )}
      {!invite && <Alert text={error} />}
    </main>
  );
}
