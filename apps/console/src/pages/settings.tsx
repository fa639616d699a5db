import { useState } from 'preact/hooks';
import { parseMoney, plainAmount } from '@facepay/web-common';
import { call, qs, type ApiKey, type Delivery, type List, type Programme, type Role, type StaffMember, type WebhookEndpoint } from '../api.ts';
import type { Session } from '../session.ts';
import { Alert, Badge, Field, Loading, message, money, Select, ShownOnce, useAttempt, useLoad, when } from '../ui.tsx';
import { i18n, t } from '../messages.ts';

const roleText = (role: string): string => i18n.lookup(`role.${role}`) ?? role;

export function SettingsPage({ session }: { session: Session }) {
  return (
    <>
      <h1>{t('set.settings')}</h1>
      <p class="hint">
        {session.me.refund_limit !== null
          ? t('set.signedInAsLimit', { email: session.me.email, role: roleText(session.me.role), limit: money(session.me.refund_limit, session.currency ?? 'EUR') })
          : t('set.signedInAs', { email: session.me.email, role: roleText(session.me.role) })}
      </p>
      {session.can('members:read') && <ProgrammeSettings session={session} />}
      {session.can('keys:read') && <ApiKeys session={session} />}
      {session.can('webhooks:read') && <Webhooks session={session} />}
      {session.can('staff:read') && <Staff session={session} />}
    </>
  );
}

const FIELDS = ['name', 'phone', 'email', 'birthday', 'gender'] as const;

function ProgrammeSettings({ session }: { session: Session }) {
  const p = useLoad(() => call<Programme>('GET', '/v1/membership/programme').catch(() => null));
  const [draft, setDraft] = useState<Programme | null>(null);
  const { error, setError } = useAttempt();
  const [saved, setSaved] = useState('');
  const value: Programme = draft ?? p.data ?? { name: '', benefits: '', fields: ['name'], currency: 'EUR', time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone };
  const edit = (patch: Partial<Programme>) => setDraft({ ...value, ...patch });
  const canWrite = session.can('members:write');
  const save = async (e: Event) => {
    e.preventDefault();
    setError('');
    setSaved('');
    try {
      await call('PUT', '/v1/membership/programme', { name: value.name, benefits: value.benefits, fields: value.fields, currency: value.currency, time_zone: value.time_zone });
      setSaved(t('set.saved'));
      setDraft(null);
      p.reload();
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <section class="card" aria-labelledby="programme-h">
      <h2 id="programme-h">{t('set.membershipProgramme')}</h2>
      <Loading error={p.error}>
        {p.data !== undefined && (
          <form onSubmit={save} class="stack">
            {p.data === null && <p>{t('set.noProgrammeYetShoppers')}</p>}
            <fieldset disabled={!canWrite} class="bare">
              <legend class="sr-only">{t('set.programme')}</legend>
              <Field id="programme-name" label={t('set.programmeName')} value={value.name} onInput={(v) => edit({ name: v })} required />
              <Field id="programme-benefits" label={t('set.benefitsInASentence')} value={value.benefits} onInput={(v) => edit({ benefits: v })} />
              <fieldset>
                <legend>{t('set.fieldsLegend')}</legend>
                {FIELDS.map((f) => (
                  <label class="check" key={f}>
                    <input
                      type="checkbox"
                      checked={value.fields.includes(f)}
                      onChange={(e) => edit({ fields: (e.target as HTMLInputElement).checked ? [...value.fields, f] : value.fields.filter((x) => x !== f) })}
                    />{' '}
                    {f}
                  </label>
                ))}
              </fieldset>
              <Field id="programme-currency" label={t('set.currency')} value={value.currency} onInput={(v) => edit({ currency: v.toUpperCase() })} required />
              <Field id="programme-tz" label={t('set.timeZoneOfYour')} value={value.time_zone} onInput={(v) => edit({ time_zone: v })} hint={t('set.anIanaNameE')} />
              {canWrite && (
                <p>
                  <button type="submit" class="primary">
                    {t('set.saveProgramme')}
                  </button>
                </p>
              )}
            </fieldset>
          </form>
        )}
      </Loading>
      <Alert text={error} />
      {saved && (
        <p role="status" class="ok">
          {saved}
        </p>
      )}
    </section>
  );
}

function ApiKeys({ session }: { session: Session }) {
  const keys = useLoad(() => call<List<ApiKey>>('GET', '/v1/api_keys?limit=100'));
  const [name, setName] = useState('');
  const [mode, setMode] = useState('live');
  const [created, setCreated] = useState<ApiKey | null>(null);
  const { error, attempt } = useAttempt();
  const create = async (e: Event) => {
    e.preventDefault();
    await attempt(async () => {
      setCreated(await call<ApiKey>('POST', '/v1/api_keys', { mode, ...(name ? { name } : {}) }));
      setName('');
      keys.reload();
    });
  };
  const revoke = async (k: ApiKey) => {
    if (!confirm(t('set.revokeKeyConfirm', { name: k.name, last4: k.last4 }))) return;
    await attempt(async () => {
      await call('POST', `/v1/api_keys/${encodeURIComponent(k.id)}/revoke`, {});
      keys.reload();
    });
  };
  return (
    <section class="card" aria-labelledby="keys-h">
      <h2 id="keys-h">{t('set.apiKeys')}</h2>
      <Loading error={keys.error}>
        {keys.data && (
          <table>
            <thead>
              <tr>
                <th scope="col">{t('set.name')}</th>
                <th scope="col">{t('set.mode')}</th>
                <th scope="col">{t('set.scopes')}</th>
                <th scope="col">{t('set.key')}</th>
                <th scope="col">{t('set.created')}</th>
                <th scope="col">{t('set.status')}</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.data.map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td>{k.mode}</td>
                  <td>{k.scopes.join(', ')}</td>
                  <td>
                    <code>…{k.last4}</code>
                  </td>
                  <td>{when(k.created)}</td>
                  <td>
                    {k.revoked ? (
                      <Badge text="revoked" />
                    ) : session.can('keys:write') ? (
                      <button type="button" class="danger" onClick={() => revoke(k)}>
                        {t('set.revoke')}<span class="sr-only"> {k.name}</span>
                      </button>
                    ) : (
                      <Badge text="active" />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loading>
      {session.can('keys:write') && (
        <form class="inline" onSubmit={create}>
          <Field id="key-name" label={t('set.newKeySName')} value={name} onInput={setName} />
          <Select id="key-mode" label={t('set.mode')} value={mode} onChange={setMode} options={[
              ['live', t('set.modeLive')],
              ['test', t('set.modeTest')],
            ]}
          />
          <button type="submit">{t('set.createKey')}</button>
        </form>
      )}
      <Alert text={error} />
      {created?.secret && <ShownOnce label={t('set.secretOf', { name: created.name })} value={created.secret} note={t('set.copyItNowOnly')} />}
    </section>
  );
}

function Webhooks({ session }: { session: Session }) {
  const endpoints = useLoad(() => call<List<WebhookEndpoint>>('GET', '/v1/webhook_endpoints?limit=100'));
  const [endpoint, setEndpoint] = useState('');
  const deliveries = useLoad(() => call<List<Delivery>>('GET', `/v1/webhook_deliveries${qs({ limit: 25, endpoint })}`), [endpoint]);
  const [url, setUrl] = useState('');
  const [created, setCreated] = useState<WebhookEndpoint | null>(null);
  const [open, setOpen] = useState<Delivery | null>(null);
  const { error, attempt } = useAttempt();
  const canWrite = session.can('webhooks:write');
  const create = async (e: Event) => {
    e.preventDefault();
    await attempt(async () => {
      setCreated(await call<WebhookEndpoint>('POST', '/v1/webhook_endpoints', { url }));
      setUrl('');
      endpoints.reload();
    });
  };
  const replay = async (d: Delivery) => {
    await attempt(async () => {
      setOpen(await call<Delivery>('POST', `/v1/webhook_deliveries/${encodeURIComponent(d.id)}/retry`, {}));
      deliveries.reload();
    });
  };
  const details = async (d: Delivery) => {
    await attempt(async () => {
      setOpen(await call<Delivery>('GET', `/v1/webhook_deliveries/${encodeURIComponent(d.id)}`));
    });
  };
  return (
    <section class="card" aria-labelledby="hooks-h">
      <h2 id="hooks-h">{t('set.webhooks')}</h2>
      <Loading error={endpoints.error}>
        {endpoints.data &&
          (endpoints.data.data.length === 0 ? (
            <p>{t('set.noEndpoints')}</p>
          ) : (
            <ul class="plain">
              {endpoints.data.data.map((ep) => (
                <li key={ep.id}>
                  <code>{ep.url}</code> <Badge text={ep.status} /> {t('set.events')} {ep.enabled_events.join(', ')}
                </li>
              ))}
            </ul>
          ))}
      </Loading>
      {canWrite && (
        <form class="inline" onSubmit={create}>
          <Field id="webhook-url" label={t('set.endpointUrl')} type="url" value={url} onInput={setUrl} required placeholder={t('set.httpsExampleComFacepay')} />
          <button type="submit">{t('set.addEndpoint')}</button>
        </form>
      )}
      {created?.secret && <ShownOnce label={t('set.signingSecretOf', { url: created.url })} value={created.secret} note={t('set.checkEachDeliveryS')} />}
      <h3>{t('set.deliveryLog')}</h3>
      <Select
        id="delivery-endpoint"
        label={t('set.endpoint')}
        value={endpoint}
        onChange={setEndpoint}
        options={[['', t('set.allEndpoints')], ...(endpoints.data?.data ?? []).map((e) => [e.id, e.url] as const)]}
      />
      <Loading error={deliveries.error}>
        {deliveries.data &&
          (deliveries.data.data.length === 0 ? (
            <p>{t('set.noDeliveriesYet')}</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('set.event')}</th>
                  <th scope="col">{t('set.status')}</th>
                  <th scope="col">{t('set.attempts')}</th>
                  <th scope="col">{t('set.lastAnswer')}</th>
                  <th scope="col">{t('set.created')}</th>
                  <th scope="col">{t('set.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.data.data.map((d) => (
                  <tr key={d.id}>
                    <td>
                      <code class="small">{d.event}</code>
                    </td>
                    <td>
                      <Badge text={d.status} />
                    </td>
                    <td class="num">{d.attempts}</td>
                    <td>{d.last_status_code ?? d.last_error ?? '—'}</td>
                    <td>{when(d.created)}</td>
                    <td class="actions">
                      <button type="button" onClick={() => details(d)}>
                        {t('set.attempts')}<span class="sr-only"> {t('set.ofDelivery', { id: d.id })}</span>
                      </button>
                      {canWrite && (
                        <button type="button" onClick={() => replay(d)}>
                          {t('set.replay')}<span class="sr-only"> {d.id}</span>
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
      </Loading>
      {open && (
        <div class="card inner" role="region" aria-label={t('set.deliveryId', { id: open.id })}>
          <h4>
            {t('set.delivery')} <code>{open.id}</code>: {open.status}
          </h4>
          <ul class="plain">
            {(open.attempt_log ?? []).map((a, i) => (
              <li key={i}>
                {t('set.attemptLine', { when: when(a.attempted_at), answer: a.status_code ?? a.error ?? t('set.noAnswer'), ms: a.duration_ms })}
              </li>
            ))}
          </ul>
        </div>
      )}
      <Alert text={error} />
    </section>
  );
}

const ROLES = () =>
  [
    ['cashier', t('set.roleCashier')],
    ['manager', t('set.roleManager')],
    ['owner', t('set.roleOwner')],
  ] as const;

function Staff({ session }: { session: Session }) {
  const currency = session.currency ?? 'EUR';
  const list = useLoad(() => call<List<StaffMember>>('GET', '/v1/staff'));
  const [f, setF] = useState({ email: '', name: '', password: '', role: 'cashier', limit: '' });
  const { error, setError, attempt } = useAttempt();
  const set = (k: keyof typeof f) => (v: string) => setF({ ...f, [k]: v });
  const limitOf = (text: string): number | null => {
    if (text.trim() === '' || text.trim() === '0') return 0;
    const v = parseMoney(text, currency);
    if (v === undefined) throw new Error(t('set.enterLimit'));
    return v;
  };
  const create = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      await call('POST', '/v1/staff', { email: f.email, name: f.name, password: f.password, role: f.role, ...(f.role === 'cashier' ? { refund_limit: limitOf(f.limit) } : {}) });
      setF({ email: '', name: '', password: '', role: 'cashier', limit: '' });
      list.reload();
    } catch (err) {
      setError(err instanceof Error && !('code' in err) ? err.message : message(err));
    }
  };
  const update = async (s: StaffMember, body: Record<string, unknown>) => {
    await attempt(async () => {
      await call('POST', `/v1/staff/${encodeURIComponent(s.id)}`, body);
      list.reload();
    });
  };
  const remove = async (s: StaffMember) => {
    if (!confirm(t('set.removeConfirm', { name: s.name }))) return;
    await attempt(async () => {
      await call('DELETE', `/v1/staff/${encodeURIComponent(s.id)}`);
      list.reload();
    });
  };
  const canWrite = session.can('staff:write');
  return (
    <section class="card" aria-labelledby="staff-h">
      <h2 id="staff-h">{t('set.staff')}</h2>
      <Loading error={list.error}>
        {list.data && (
          <table>
            <thead>
              <tr>
                <th scope="col">{t('set.name')}</th>
                <th scope="col">{t('set.eMail')}</th>
                <th scope="col">{t('set.role')}</th>
                <th scope="col">{t('set.refundLimit')}</th>
                {canWrite && <th scope="col">{t('set.actions')}</th>}
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((s) => (
                <tr key={s.id}>
                  <td>{s.name}</td>
                  <td>{s.email}</td>
                  <td>
                    {canWrite ? (
                      <select aria-label={t('set.roleOf', { name: s.name })} value={s.role} onChange={(e) => update(s, { role: (e.target as HTMLSelectElement).value as Role })}>
                        <option value="owner">{t('set.owner')}</option>
                        <option value="manager">{t('set.manager')}</option>
                        <option value="cashier">{t('set.cashier')}</option>
                      </select>
                    ) : (
                      roleText(s.role)
                    )}
                  </td>
                  <td>
                    {s.role !== 'cashier' ? (
                      t('set.none')
                    ) : canWrite ? (
                      <input
                        aria-label={t('set.limitOf', { name: s.name, currency })}
                        class="short"
                        value={plainAmount(s.refund_limit ?? 0, currency)}
                        onChange={(e) => {
                          const text = (e.target as HTMLInputElement).value;
                          const v = text.trim() === '0' ? 0 : parseMoney(text, currency);
                          if (v === undefined) setError(t('set.enterLimit'));
                          else void update(s, { refund_limit: v });
                        }}
                      />
                    ) : (
                      money(s.refund_limit ?? 0, currency)
                    )}
                  </td>
                  {canWrite && (
                    <td>
                      {s.id !== session.me.id && (
                        <button type="button" class="danger" onClick={() => remove(s)}>
                          {t('set.remove')}<span class="sr-only"> {s.name}</span>
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loading>
      {canWrite && (
        <form onSubmit={create} class="stack">
          <h3>{t('set.addALogin')}</h3>
          <Field id="staff-name" label={t('set.name')} value={f.name} onInput={set('name')} required />
          <Field id="staff-email" label={t('set.eMail')} type="email" value={f.email} onInput={set('email')} required autocomplete="off" />
          <Field id="staff-password" label={t('set.firstPassword')} type="password" value={f.password} onInput={set('password')} required autocomplete="new-password" hint={t('set.atLeast10Characters')} />
          <Select id="staff-role" label={t('set.role')} value={f.role} onChange={set('role')} options={ROLES()} />
          {f.role === 'cashier' && <Field id="staff-limit" label={t('set.limitIn', { currency })} value={f.limit} onInput={set('limit')} hint={t('set.theLargestRefundThey')} />}
          <p>
            <button type="submit">{t('set.addLogin')}</button>
          </p>
        </form>
      )}
      <Alert text={error} />
    </section>
  );
}
