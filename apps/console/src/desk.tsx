/**
 * The operator's service desk (`/console/#/desk`): a desk user signs in with an operator login,
 * finds the shopper by RF payment reference, e-mail or phone, takes cash or a card and credits the
 * wallet; their recent credits are listed and can be reversed. The operator token is held in
 * memory only (a reload signs out), never in storage.
 */
import { useEffect, useState } from 'preact/hooks';
import { parseMoney } from '@facepay/web-common';
import { opsCall } from './operator/ops-api.ts';
import { Alert, Field, Select, message, money, when } from './ui.tsx';
import { t } from './messages.ts';

interface Found {
  id: string;
  name: string;
  email: string;
  payment_reference: string;
  wallet: { balance: number; currency: string };
}

interface Credit {
  id: string;
  shopper_id: string;
  amount: number;
  currency: string;
  method: string;
  created: number;
  reversal: { reason: string; created: number } | null;
}

/** Standalone at `#/desk` with its own sign-in, or a page of the operator console given its session. */
export function DeskApp({ session }: { session?: { token: string; me: { id: string; name: string; role: string } } } = {}) {
  const [token, setToken] = useState<string | undefined>(session?.token);
  const [me, setMe] = useState<{ id: string; name: string; role: string } | undefined>(session?.me);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [lookup, setLookup] = useState('');
  const [found, setFound] = useState<Found[]>([]);
  const [chosen, setChosen] = useState<Found>();
  const [amount, setAmount] = useState('');
  const [method, setMethod] = useState('cash');
  // One key per credit the clerk means to make: a retry after a lost answer credits once.
  const [key, setKey] = useState(() => crypto.randomUUID());
  const [done, setDone] = useState('');
  const [credits, setCredits] = useState<Credit[]>([]);

  const attempt = async (fn: () => Promise<void>) => {
    setError('');
    try {
      await fn();
    } catch (e) {
      setError(message(e));
    }
  };
  const loadCredits = async (t: string, staffId: string) =>
    setCredits((await opsCall<{ data: Credit[] }>(t, 'GET', `/v1/operator/desk/credits?staff_id=${encodeURIComponent(staffId)}&limit=20`)).data);

  useEffect(() => {
    if (session) void attempt(() => loadCredits(session.token, session.me.id));
  }, []);

  if (!token || !me) {
    return (
      <main id="main" class="signin">
        <h1>{t('desk.serviceDesk')}</h1>
        <p>{t('desk.signInWithYour')}</p>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void attempt(async () => {
              const r = await opsCall<{ token: string; staff: { id: string; name: string; role: string } }>(undefined, 'POST', '/v1/operator/login', { email, password });
              setToken(r.token);
              setMe(r.staff);
              await loadCredits(r.token, r.staff.id);
            });
          }}
        >
          <Field id="desk-email" label={t('desk.eMail')} type="email" value={email} onInput={setEmail} autocomplete="username" required />
          <Field id="desk-password" label={t('desk.password')} type="password" value={password} onInput={setPassword} autocomplete="current-password" required />
          <Alert text={error} />
          <button type="submit" class="primary">
            {t('desk.signIn')}
          </button>
        </form>
      </main>
    );
  }

  const search = (e: Event) => {
    e.preventDefault();
    void attempt(async () => {
      const q = lookup.trim();
      const param = /^rf/i.test(q) ? 'reference' : q.includes('@') ? 'email' : 'phone';
      const r = await opsCall<{ data: Found[] }>(token, 'GET', `/v1/operator/desk/shoppers?${param}=${encodeURIComponent(q)}`);
      setFound(r.data);
      setChosen(r.data.length === 1 ? r.data[0] : undefined);
      if (r.data.length === 0) setError(t('desk.noShopper'));
    });
  };
  const credit = (e: Event) => {
    e.preventDefault();
    if (!chosen) return;
    const minor = parseMoney(amount, chosen.wallet.currency.toUpperCase());
    if (minor === undefined || minor <= 0) return setError(t('desk.enterAmount'));
    void attempt(async () => {
      const c = await opsCall<Credit>(token, 'POST', '/v1/operator/desk/credits', { shopper_id: chosen.id, amount: minor, currency: chosen.wallet.currency, method }, key);
      setDone(t('desk.credited', { amount: money(c.amount, c.currency), method: c.method === 'cash' ? t('desk.cash') : c.method === 'card' ? t('desk.card') : c.method, name: chosen.name }));
      setKey(crypto.randomUUID());
      setAmount('');
      setChosen({ ...chosen, wallet: { ...chosen.wallet, balance: chosen.wallet.balance + c.amount } });
      await loadCredits(token, me.id);
    });
  };
  const reverse = (c: Credit) => {
    const reason = prompt(t('desk.whyReverse', { amount: money(c.amount, c.currency) }));
    if (!reason) return;
    void attempt(async () => {
      await opsCall(token, 'POST', `/v1/operator/desk/credits/${encodeURIComponent(c.id)}/reversal`, { reason }, crypto.randomUUID());
      await loadCredits(token, me.id);
    });
  };

  // Inside the operator console the shell has the <main>, the heading's level and the sign-out.
  const Wrap = session ? 'section' : 'main';
  return (
    <Wrap {...(session ? {} : { id: 'main' })} class="desk">
      <h1>{t('desk.serviceDesk')}</h1>
      {!session && (
        <p>
          {t('desk.signedInAs', { name: me.name, role: me.role })}{' '}
          <button type="button" class="link" onClick={() => void opsCall(token, 'POST', '/v1/operator/logout', {}).finally(() => setToken(undefined))}>
            {t('desk.signOut')}
          </button>
        </p>
      )}
      <form onSubmit={search} class="inline">
        <Field id="desk-lookup" label={t('desk.paymentReferenceEMail')} value={lookup} onInput={setLookup} required />
        <button type="submit">{t('desk.find')}</button>
      </form>
      {found.length > 1 && (
        <Select id="desk-chosen" label={t('desk.shopper')} value={chosen?.id ?? ''} onChange={(id) => setChosen(found.find((f) => f.id === id))} options={[['', t('desk.choose')], ...found.map((f) => [f.id, `${f.name} <${f.email}>`] as const)]} />
      )}
      {chosen && (
        <form onSubmit={credit}>
          <p>
            <strong>{chosen.name}</strong> &lt;{chosen.email}&gt;, {t('desk.refWallet', { reference: chosen.payment_reference, wallet: money(chosen.wallet.balance, chosen.wallet.currency) })}
          </p>
          <Field id="desk-amount" label={t('desk.amountTaken', { currency: chosen.wallet.currency.toUpperCase() })} value={amount} onInput={setAmount} required />
          <Select id="desk-method" label={t('desk.takenAs')} value={method} onChange={setMethod} options={[
              ['cash', t('desk.cash')],
              ['card', t('desk.card')],
            ]}
          />
          <button type="submit" class="primary">
            {t('desk.creditWallet')}
          </button>
        </form>
      )}
      <Alert text={error} />
      {done && <p role="status">{done}</p>}
      <h2>{t('desk.yourRecentCredits')}</h2>
      {credits.length === 0 ? (
        <p>{t('desk.noneYet')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('desk.when')}</th>
              <th scope="col">{t('desk.shopper')}</th>
              <th scope="col">{t('desk.amount')}</th>
              <th scope="col">{t('desk.takenAs')}</th>
              <th scope="col">{t('desk.reversal')}</th>
            </tr>
          </thead>
          <tbody>
            {credits.map((c) => (
              <tr key={c.id}>
                <td>{when(c.created)}</td>
                <td>{c.shopper_id}</td>
                <td>{money(c.amount, c.currency)}</td>
                <td>{c.method === 'cash' ? t('desk.cash') : c.method === 'card' ? t('desk.card') : c.method}</td>
                <td>
                  {c.reversal ? (
                    t('desk.reversedLine', { when: when(c.reversal.created), reason: c.reversal.reason })
                  ) : (
                    <button type="button" class="link" onClick={() => reverse(c)}>
                      {t('desk.reverse')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Wrap>
  );
}
