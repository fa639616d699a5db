import { useState } from 'preact/hooks';
import { parseMoney, plainAmount } from '@facepay/web-common';
import { call, qs, type ApiKey, type Delivery, type List, type Programme, type Role, type StaffMember, type WebhookEndpoint } from '../api.ts';
import type { Session } from '../session.ts';
import { Alert, Badge, Field, Loading, message, money, Select, ShownOnce, useAttempt, useLoad, when } from '../ui.tsx';

export function SettingsPage({ session }: { session: Session }) {
  return (
    <>
      <h1>Settings</h1>
      <p class="hint">
        Signed in as {session.me.email} ({session.me.role}
        {session.me.refund_limit !== null ? `, refunds up to ${money(session.me.refund_limit, session.currency ?? 'EUR')}` : ''}).
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
      setSaved('Saved.');
      setDraft(null);
      p.reload();
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <section class="card" aria-labelledby="programme-h">
      <h2 id="programme-h">Membership programme</h2>
      <Loading error={p.error}>
        {p.data !== undefined && (
          <form onSubmit={save} class="stack">
            {p.data === null && <p>No programme yet: shoppers are not offered to join. Fill this in to start one.</p>}
            <fieldset disabled={!canWrite} class="bare">
              <legend class="sr-only">Programme</legend>
              <Field id="programme-name" label="Programme name" value={value.name} onInput={(v) => edit({ name: v })} required />
              <Field id="programme-benefits" label="Benefits, in a sentence" value={value.benefits} onInput={(v) => edit({ benefits: v })} />
              <fieldset>
                <legend>Details the terminal asks a shopper who joins (each stays optional for them)</legend>
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
              <Field id="programme-currency" label="Currency" value={value.currency} onInput={(v) => edit({ currency: v.toUpperCase() })} required />
              <Field id="programme-tz" label="Time zone of your shops" value={value.time_zone} onInput={(v) => edit({ time_zone: v })} hint="An IANA name, e.g. Europe/Paris." />
              {canWrite && (
                <p>
                  <button type="submit" class="primary">
                    Save programme
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
    if (!confirm(`Revoke the key ${k.name} (…${k.last4})? Software using it stops working at once.`)) return;
    await attempt(async () => {
      await call('POST', `/v1/api_keys/${encodeURIComponent(k.id)}/revoke`, {});
      keys.reload();
    });
  };
  return (
    <section class="card" aria-labelledby="keys-h">
      <h2 id="keys-h">API keys</h2>
      <Loading error={keys.error}>
        {keys.data && (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Mode</th>
                <th scope="col">Scopes</th>
                <th scope="col">Key</th>
                <th scope="col">Created</th>
                <th scope="col">Status</th>
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
                        Revoke<span class="sr-only"> {k.name}</span>
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
          <Field id="key-name" label="New key's name" value={name} onInput={setName} />
          <Select id="key-mode" label="Mode" value={mode} onChange={setMode} options={[['live', 'Live'], ['test', 'Test']]} />
          <button type="submit">Create key</button>
        </form>
      )}
      <Alert text={error} />
      {created?.secret && <ShownOnce label={`Secret of ${created.name}`} value={created.secret} note="Copy it now: only its last four characters are kept, it cannot be shown again." />}
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
      <h2 id="hooks-h">Webhooks</h2>
      <Loading error={endpoints.error}>
        {endpoints.data &&
          (endpoints.data.data.length === 0 ? (
            <p>No endpoints.</p>
          ) : (
            <ul class="plain">
              {endpoints.data.data.map((ep) => (
                <li key={ep.id}>
                  <code>{ep.url}</code> <Badge text={ep.status} /> events: {ep.enabled_events.join(', ')}
                </li>
              ))}
            </ul>
          ))}
      </Loading>
      {canWrite && (
        <form class="inline" onSubmit={create}>
          <Field id="webhook-url" label="Endpoint URL" type="url" value={url} onInput={setUrl} required placeholder="https://example.com/facepay" />
          <button type="submit">Add endpoint</button>
        </form>
      )}
      {created?.secret && <ShownOnce label={`Signing secret of ${created.url}`} value={created.secret} note="Check each delivery's Facepay-Signature with it. It is shown only now." />}
      <h3>Delivery log</h3>
      <Select
        id="delivery-endpoint"
        label="Endpoint"
        value={endpoint}
        onChange={setEndpoint}
        options={[['', 'All endpoints'], ...(endpoints.data?.data ?? []).map((e) => [e.id, e.url] as const)]}
      />
      <Loading error={deliveries.error}>
        {deliveries.data &&
          (deliveries.data.data.length === 0 ? (
            <p>No deliveries yet.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Last answer</th>
                  <th scope="col">Created</th>
                  <th scope="col">Actions</th>
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
                        Attempts<span class="sr-only"> of {d.id}</span>
                      </button>
                      {canWrite && (
                        <button type="button" onClick={() => replay(d)}>
                          Replay<span class="sr-only"> {d.id}</span>
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
        <div class="card inner" role="region" aria-label={`Delivery ${open.id}`}>
          <h4>
            Delivery <code>{open.id}</code>: {open.status}
          </h4>
          <ul class="plain">
            {(open.attempt_log ?? []).map((a, i) => (
              <li key={i}>
                {when(a.attempted_at)}: {a.status_code ?? a.error ?? 'no answer'} in {a.duration_ms} ms
              </li>
            ))}
          </ul>
        </div>
      )}
      <Alert text={error} />
    </section>
  );
}

const ROLES = [
  ['cashier', 'Cashier: payments and refunds up to a limit'],
  ['manager', 'Manager: everything but keys and staff'],
  ['owner', 'Owner: everything'],
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
    if (v === undefined) throw new Error('Enter the refund limit as an amount, for example 20 or 0.');
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
    if (!confirm(`Remove ${s.name}'s login? Their sessions end at once.`)) return;
    await attempt(async () => {
      await call('DELETE', `/v1/staff/${encodeURIComponent(s.id)}`);
      list.reload();
    });
  };
  const canWrite = session.can('staff:write');
  return (
    <section class="card" aria-labelledby="staff-h">
      <h2 id="staff-h">Staff</h2>
      <Loading error={list.error}>
        {list.data && (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">E-mail</th>
                <th scope="col">Role</th>
                <th scope="col">Refund limit</th>
                {canWrite && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((s) => (
                <tr key={s.id}>
                  <td>{s.name}</td>
                  <td>{s.email}</td>
                  <td>
                    {canWrite ? (
                      <select aria-label={`Role of ${s.name}`} value={s.role} onChange={(e) => update(s, { role: (e.target as HTMLSelectElement).value as Role })}>
                        <option value="owner">owner</option>
                        <option value="manager">manager</option>
                        <option value="cashier">cashier</option>
                      </select>
                    ) : (
                      s.role
                    )}
                  </td>
                  <td>
                    {s.role !== 'cashier' ? (
                      'none'
                    ) : canWrite ? (
                      <input
                        aria-label={`Refund limit of ${s.name} (${currency})`}
                        class="short"
                        value={plainAmount(s.refund_limit ?? 0, currency)}
                        onChange={(e) => {
                          const text = (e.target as HTMLInputElement).value;
                          const v = text.trim() === '0' ? 0 : parseMoney(text, currency);
                          if (v === undefined) setError('Enter the refund limit as an amount, for example 20 or 0.');
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
                          Remove<span class="sr-only"> {s.name}</span>
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
          <h3>Add a login</h3>
          <Field id="staff-name" label="Name" value={f.name} onInput={set('name')} required />
          <Field id="staff-email" label="E-mail" type="email" value={f.email} onInput={set('email')} required autocomplete="off" />
          <Field id="staff-password" label="First password" type="password" value={f.password} onInput={set('password')} required autocomplete="new-password" hint="At least 10 characters; give it to them in person." />
          <Select id="staff-role" label="Role" value={f.role} onChange={set('role')} options={ROLES} />
          {f.role === 'cashier' && <Field id="staff-limit" label={`Refund limit (${currency})`} value={f.limit} onInput={set('limit')} hint="The largest refund they may make; 0 for none." />}
          <p>
            <button type="submit">Add login</button>
          </p>
        </form>
      )}
      <Alert text={error} />
    </section>
  );
}
