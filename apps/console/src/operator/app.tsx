/**
 * The operator console (`/console/#/ops`): the platform operator's own staff sign in with an
 * operator login and see only the pages of their role. Desk users credit wallets at the service
 * desk; admins run merchants (create, suspend, invite the owner), money (bank statements and the
 * credits to resolve by hand, withdrawals, payout runs, the reconciliation), set the platform
 * limits (which desk users may read) and hand tablets the CA certificate. The session token lives in memory only: a reload signs out.
 */
import { useEffect, useState } from 'preact/hooks';
import { ForgotPassword, OPERATOR_RESET } from '../account-pages.tsx';
import { CaCertificate } from '../ca.tsx';
import { DeskApp } from '../desk.tsx';
import { Alert, Field, message } from '../ui.tsx';
import { i18n, t, type Key } from '../messages.ts';
import { LimitsPage } from './limits.tsx';
import { MerchantsPage } from './merchants.tsx';
import { MoneyPage } from './money.tsx';
import { opsCall, type OperatorMe } from './ops-api.ts';
import { PayoutsPage } from './payouts.tsx';

export interface OpsSession {
  token: string;
  me: OperatorMe;
}

const PAGES: readonly { page: string; label: Key; roles: readonly OperatorMe['role'][] }[] = [
  { page: 'merchants', label: 'ops.navMerchants', roles: ['admin'] },
  { page: 'money', label: 'ops.navMoney', roles: ['admin'] },
  { page: 'payouts', label: 'ops.navPayouts', roles: ['admin'] },
  { page: 'limits', label: 'ops.navLimits', roles: ['admin', 'desk'] },
  { page: 'desk', label: 'ops.navDesk', roles: ['desk'] },
  { page: 'certificate', label: 'ops.navCertificate', roles: ['desk', 'admin'] },
];

function route(): { page: string; id: string | undefined } {
  const [, page, id] = location.hash.replace(/^#\/?/, '').split('/');
  return { page: page ?? '', id: id ? decodeURIComponent(id) : undefined };
}

function SignIn({ onIn }: { onIn: (s: OpsSession) => void }) {
  const [forgot, setForgot] = useState(false);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      const r = await opsCall<{ token: string; staff: OperatorMe }>(undefined, 'POST', '/v1/operator/login', { email, password });
      onIn({ token: r.token, me: r.staff });
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  };
  if (forgot) return <ForgotPassword onBack={() => setForgot(false)} kind={OPERATOR_RESET} />;
  return (
    <main id="main" class="signin">
      <h1>{t('ops.title')}</h1>
      <p>{t('ops.signInWith')}</p>
      <form onSubmit={submit}>
        <Field id="ops-email" label={t('ops.eMail')} type="email" value={email} onInput={setEmail} autocomplete="username" required />
        <Field id="ops-password" label={t('ops.password')} type="password" value={password} onInput={setPassword} autocomplete="current-password" required />
        <Alert text={error} />
        <button type="submit" class="primary" disabled={busy}>
          {t('ops.signIn')}
        </button>
      </form>
      <p>
        <button type="button" class="link" onClick={() => setForgot(true)}>
          {t('app.forgotPassword')}
        </button>
      </p>
    </main>
  );
}

export function OperatorApp() {
  const [session, setSession] = useState<OpsSession>();
  const [where, setWhere] = useState(route());
  useEffect(() => {
    const on = (): void => {
      setWhere(route());
      document.getElementById('main')?.focus();
    };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  if (!session) return <SignIn onIn={setSession} />;
  const visible = PAGES.filter((p) => p.roles.includes(session.me.role));
  const current = visible.find((p) => p.page === where.page) ?? visible[0]!;
  const signOut = () => void opsCall(session.token, 'POST', '/v1/operator/logout', {}).finally(() => setSession(undefined));
  let page;
  switch (current.page) {
    case 'merchants':
      page = <MerchantsPage session={session} id={where.id} />;
      break;
    case 'money':
      page = <MoneyPage session={session} />;
      break;
    case 'payouts':
      page = <PayoutsPage session={session} />;
      break;
    case 'limits':
      page = <LimitsPage session={session} />;
      break;
    case 'desk':
      page = <DeskApp session={session} />;
      break;
    default:
      page = (
        <section>
          <h1>{t('ops.navCertificate')}</h1>
          <CaCertificate standalone />
        </section>
      );
  }
  return (
    <div class="shell">
      <a class="skip" href="#main">
        {t('ops.skipToContent')}
      </a>
      <header class="top">
        <p class="brand">
          Facepay <span class="merchant">{t('ops.operator')}</span>
        </p>
        <nav aria-label={t('ops.navLabel')}>
          <ul>
            {visible.map((p) => (
              <li key={p.page}>
                <a href={`#/ops/${p.page}`} aria-current={p.page === current.page ? 'page' : undefined}>
                  {t(p.label)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <p class="who">
          <span>
            {session.me.name} <span class="role">({i18n.lookup(`role.${session.me.role}`) ?? session.me.role})</span>
          </span>
          <button type="button" class="link" onClick={signOut}>
            {t('ops.signOut')}
          </button>
        </p>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </div>
  );
}
