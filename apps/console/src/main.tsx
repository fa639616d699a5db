import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call, hasScope, whenSignedOut, type Programme, type StaffMe } from './api.ts';
import { AcceptInvitation, ForgotPassword, OPERATOR_RESET, ResetPassword } from './account-pages.tsx';
import { DeskApp } from './desk.tsx';
import { OperatorApp } from './operator/app.tsx';
import { CampaignsPage } from './pages/campaigns.tsx';
import { DashboardPage } from './pages/dashboard.tsx';
import { DisputesPage } from './pages/disputes.tsx';
import { MembersPage } from './pages/members.tsx';
import { PaymentsPage } from './pages/payments.tsx';
import { SettingsPage } from './pages/settings.tsx';
import { SettlementsPage } from './pages/settlements.tsx';
import { StoresPage } from './pages/stores.tsx';
import { go, type Session } from './session.ts';
import { Alert, Field, message, setZone } from './ui.tsx';
import './style.css';
import { LOCALE_NAMES, LOCALES, type Locale } from '@facepay/web-common';
import { i18n, t, type Key } from './messages.ts';

interface Route {
  page: string;
  id: string | undefined;
}

function parseHash(): Route {
  const [page, id] = location.hash.replace(/^#\/?/, '').split('/');
  return { page: page || 'dashboard', id: id ? decodeURIComponent(id) : undefined };
}

/** `label`: the catalogue key of the page's name in the menu (a new page adds `nav.<page>` to messages.ts). */
const PAGES: readonly { page: string; label: Key; scope: string }[] = [
  { page: 'dashboard', label: 'nav.dashboard', scope: 'payments:read' },
  { page: 'payments', label: 'nav.payments', scope: 'payments:read' },
  { page: 'disputes', label: 'nav.disputes', scope: 'payments:read' },
  { page: 'settlements', label: 'nav.settlements', scope: 'payments:read' },
  { page: 'stores', label: 'nav.stores', scope: 'stores:read' },
  { page: 'members', label: 'nav.members', scope: 'members:lookup' },
  { page: 'campaigns', label: 'nav.campaigns', scope: 'marketing:read' },
  { page: 'settings', label: 'nav.settings', scope: 'any' },
];

/** The language switch; the choice is remembered in this browser. */
export function LanguageSwitch() {
  return (
    <select class="language" aria-label={t('language.label')} value={i18n.locale} onChange={(e) => i18n.setLocale((e.target as HTMLSelectElement).value as Locale)}>
      {LOCALES.map((l) => (
        <option key={l} value={l} lang={l}>
          {LOCALE_NAMES[l]}
        </option>
      ))}
    </select>
  );
}

function SignIn({ onIn }: { onIn: (me: StaffMe) => void }) {
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
      onIn(await call<StaffMe>('POST', '/v1/staff/login', { email, password }));
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  };
  if (forgot) return <ForgotPassword onBack={() => setForgot(false)} />;
  return (
    <main id="main" class="signin">
      <LanguageSwitch />
      <h1>{t('app.facepayMerchantConsole')}</h1>
      <p>{t('app.signInWithThe')}</p>
      <form onSubmit={submit} aria-describedby="signin-error">
        <Field id="email" label={t('app.eMail')} type="email" value={email} onInput={setEmail} autocomplete="username" required />
        <Field id="password" label={t('app.password')} type="password" value={password} onInput={setPassword} autocomplete="current-password" required />
        <div id="signin-error">
          <Alert text={error} />
        </div>
        <button type="submit" class="primary" disabled={busy}>
          {t('app.signIn')}
        </button>
      </form>
      <p>
        <button type="button" class="link" onClick={() => setForgot(true)}>
          {t('app.forgotPassword')}
        </button>
      </p>
      <p class="hint">
        {t('app.operatorStaff')} <a href="#/ops">{t('app.operatorConsole')}</a>
        {t('app.operatorEnd')}
      </p>
    </main>
  );
}

function Shell({ session, onOut }: { session: Session; onOut: () => void }) {
  const [route, setRoute] = useState<Route>(parseHash());
  useEffect(() => {
    const on = (): void => {
      setRoute(parseHash());
      document.getElementById('main')?.focus();
    };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const visible = PAGES.filter((p) => p.scope === 'any' || session.can(p.scope));
  const current = visible.find((p) => p.page === route.page) ?? visible[0]!;
  const logOut = async () => {
    await call('POST', '/v1/staff/logout', {}).catch(() => undefined);
    onOut();
  };
  let page;
  switch (current.page) {
    case 'payments':
      page = <PaymentsPage session={session} id={route.id} />;
      break;
    case 'disputes':
      page = <DisputesPage session={session} />;
      break;
    case 'settlements':
      page = <SettlementsPage session={session} />;
      break;
    case 'stores':
      page = <StoresPage session={session} />;
      break;
    case 'members':
      page = <MembersPage session={session} id={route.id} />;
      break;
    case 'campaigns':
      page = <CampaignsPage session={session} id={route.id} />;
      break;
    case 'settings':
      page = <SettingsPage session={session} />;
      break;
    default:
      page = <DashboardPage session={session} />;
  }
  return (
    <div class="shell">
      <a class="skip" href="#main">
        {t('app.skipToContent')}
      </a>
      <header class="top">
        <p class="brand">
          Facepay <span class="merchant">{session.me.merchant.name}</span>
        </p>
        <nav aria-label={t('app.console')}>
          <ul>
            {visible.map((p) => (
              <li key={p.page}>
                <a href={`#/${p.page}`} aria-current={p.page === current.page ? 'page' : undefined}>
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
          <LanguageSwitch />
          <button type="button" class="link" onClick={logOut}>
            {t('app.signOut')}
          </button>
        </p>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </div>
  );
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  // A new language re-renders every page in place.
  const [, setLocale] = useState(i18n.locale);
  useEffect(() => i18n.subscribe(setLocale), []);
  const start = async (me: StaffMe): Promise<void> => {
    const can = (scope: string): boolean => hasScope(me.scopes, scope);
    let programme: Programme | undefined;
    if (can('members:lookup')) programme = await call<Programme>('GET', '/v1/membership/programme').catch(() => undefined);
    if (programme?.time_zone) setZone(programme.time_zone);
    setSession({ me, can, currency: programme?.currency?.toUpperCase() });
  };
  useEffect(() => {
    whenSignedOut(() => setSession(null));
    call<StaffMe>('GET', '/v1/staff/me').then(start, () => setSession(null));
  }, []);
  if (session === undefined) return <p aria-live="polite">{t('app.loading')}</p>;
  if (session === null) return <SignIn onIn={(me) => void start(me).then(() => go('dashboard'))} />;
  return <Shell session={session} onOut={() => setSession(null)} />;
}

const root = document.getElementById('app');
/** Which app the address opens: the pages mail links point to, the operator's (an operator login, not a merchant's), or the merchant console. */
const appOf = (): string =>
  location.pathname.endsWith('/operator-reset-password') ? 'ops-reset' : location.pathname.endsWith('/reset-password') ? 'reset' : location.pathname.endsWith('/accept-invitation') ? 'accept' : location.hash.startsWith('#/ops') ? 'ops' : location.hash.startsWith('#/desk') ? 'desk' : 'merchant';

function Root() {
  const [app, setApp] = useState(appOf);
  useEffect(() => {
    const on = (): void => setApp(appOf());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  if (app === 'reset') return <ResetPassword />;
  if (app === 'ops-reset') return <ResetPassword kind={OPERATOR_RESET} />;
  if (app === 'accept') return <AcceptInvitation />;
  if (app === 'ops') return <OperatorApp />;
  if (app === 'desk') return <DeskApp />;
  return <App />;
}
if (root) render(<Root />, root);
