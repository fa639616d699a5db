import { CaCertificate } from '../ca.tsx';
import { useState } from 'preact/hooks';
import { call, type List, type Store, type Terminal } from '../api.ts';
import type { Session } from '../session.ts';
import { Alert, Badge, Field, Loading, message, Select, ShownOnce, useAttempt, useLoad, when } from '../ui.tsx';

export function StoresPage({ session }: { session: Session }) {
  const stores = useLoad(() => call<List<Store>>('GET', '/v1/stores?limit=100'));
  const [name, setName] = useState('');
  const { error, attempt } = useAttempt();
  // Bumped when a terminal is created, so that its store's list shows it.
  const [changes, setChanges] = useState(0);
  const create = async (e: Event) => {
    e.preventDefault();
    await attempt(async () => {
      await call('POST', '/v1/stores', { name });
      setName('');
      stores.reload();
    });
  };
  return (
    <>
      <h1>Stores and terminals</h1>
      <Loading error={stores.error}>
        {stores.data && (
          <>
            {session.can('devices:write') && <NewTerminal stores={stores.data.data} onCreated={() => setChanges((n) => n + 1)} />}
            {stores.data.data.map((s) => (
              <StoreTerminals store={s} key={s.id} canWrite={session.can('devices:write')} changes={changes} />
            ))}
          </>
        )}
      </Loading>
      {session.can('stores:write') && (
        <section class="card">
          <h2>New store</h2>
          <form class="inline" onSubmit={create}>
            <Field id="store-name" label="Store name" value={name} onInput={setName} required />
            <button type="submit">Create store</button>
          </form>
          <Alert text={error} />
        </section>
      )}
    </>
  );
}

function NewTerminal({ stores, onCreated }: { stores: Store[]; onCreated: () => void }) {
  const [store, setStore] = useState(stores[0]?.id ?? '');
  const [label, setLabel] = useState('');
  const [created, setCreated] = useState<Terminal | null>(null);
  const { error, attempt } = useAttempt();
  const create = async (e: Event) => {
    e.preventDefault();
    await attempt(async () => {
      setCreated(await call<Terminal>('POST', '/v1/terminals', { store, ...(label ? { label } : {}) }));
      setLabel('');
      onCreated();
    });
  };
  if (stores.length === 0) return null;
  return (
    <section class="card">
      <h2>New terminal</h2>
      <form class="inline" onSubmit={create}>
        <Select id="terminal-store" label="Store" value={store} onChange={setStore} options={stores.map((s) => [s.id, s.name] as const)} />
        <Field id="terminal-label" label="Name (e.g. Till 2)" value={label} onInput={setLabel} />
        <button type="submit">Create terminal</button>
      </form>
      {/* Served over HTTPS by the shop's own CA (facepay tls init), each tablet installs that CA once. */}
      {location.protocol === 'https:' && (
        <details class="small">
          <summary>A tablet opens the terminal over HTTPS once it trusts this server's certificate authority</summary>
          <CaCertificate />
        </details>
      )}
      <Alert text={error} />
      {created?.activation_code && (
        <ShownOnce
          label={`Activation code for ${created.label}`}
          value={created.activation_code}
          note={`Type it on the terminal before ${when(created.activation_code_expires_at)}. It is shown only now; issue a new one from the list if it is lost.`}
        />
      )}
    </section>
  );
}

function StoreTerminals({ store, canWrite, changes }: { store: Store; canWrite: boolean; changes: number }) {
  const terminals = useLoad(() => call<List<Terminal>>('GET', `/v1/stores/${encodeURIComponent(store.id)}/terminals`), [store.id, changes]);
  const [code, setCode] = useState<Terminal | null>(null);
  const { error, setError } = useAttempt();
  const act = async (t: Terminal, what: 'revoke' | 'activation_code') => {
    setError('');
    if (what === 'revoke' && !confirm(`Revoke ${t.label}? It stops working at once, for good.`)) return;
    try {
      const r = await call<Terminal>('POST', `/v1/terminals/${encodeURIComponent(t.id)}/${what}`, {});
      if (what === 'activation_code') setCode(r);
      terminals.reload();
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <section class="card" aria-labelledby={`store-${store.id}`}>
      <h2 id={`store-${store.id}`}>{store.name}</h2>
      <Loading error={terminals.error}>
        {terminals.data &&
          (terminals.data.data.length === 0 ? (
            <p>No terminals yet.</p>
          ) : (
            <table>
              <caption class="sr-only">Terminals of {store.name}</caption>
              <thead>
                <tr>
                  <th scope="col">Terminal</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last seen</th>
                  <th scope="col">Created</th>
                  {canWrite && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {terminals.data.data.map((t) => (
                  <tr key={t.id}>
                    <td>
                      {t.label}
                      <br />
                      <code class="small">{t.id}</code>
                    </td>
                    <td>
                      <Badge text={t.status} />
                    </td>
                    <td>{when(t.last_seen_at)}</td>
                    <td>{when(t.created)}</td>
                    {canWrite && (
                      <td class="actions">
                        {t.status === 'pending' && (
                          <button type="button" onClick={() => act(t, 'activation_code')}>
                            New code<span class="sr-only"> for {t.label}</span>
                          </button>
                        )}
                        {t.status !== 'revoked' && (
                          <button type="button" class="danger" onClick={() => act(t, 'revoke')}>
                            Revoke<span class="sr-only"> {t.label}</span>
                          </button>
                        )}
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
      </Loading>
      <Alert text={error} />
      {code?.activation_code && <ShownOnce label={`New activation code for ${code.label}`} value={code.activation_code} note="Earlier codes no longer work. It is shown only now." />}
    </section>
  );
}
