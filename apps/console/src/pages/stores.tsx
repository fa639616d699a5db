import { CaCertificate } from '../ca.tsx';
import { useState } from 'preact/hooks';
import { call, type List, type Store, type Terminal } from '../api.ts';
import type { Session } from '../session.ts';
import { Alert, Badge, CopyButton, Field, Loading, message, Select, ShownOnce, useAttempt, useLoad, when } from '../ui.tsx';
import { t } from '../messages.ts';

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
      <h1>{t('stores.storesAndTerminals')}</h1>
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
          <h2>{t('stores.newStore')}</h2>
          <form class="inline" onSubmit={create}>
            <Field id="store-name" label={t('stores.storeName')} value={name} onInput={setName} required />
            <button type="submit">{t('stores.createStore')}</button>
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
      <h2>{t('stores.newTerminal')}</h2>
      <form class="inline" onSubmit={create}>
        <Select id="terminal-store" label={t('stores.store')} value={store} onChange={setStore} options={stores.map((s) => [s.id, s.name] as const)} />
        <Field id="terminal-label" label={t('stores.nameEGTill')} value={label} onInput={setLabel} />
        <button type="submit">{t('stores.createTerminal')}</button>
      </form>
      {/* Served over HTTPS by the shop's own CA (facepay tls init), each tablet installs that CA once. */}
      {location.protocol === 'https:' && (
        <details class="small">
          <summary>{t('stores.aTabletOpensThe')}</summary>
          <CaCertificate />
        </details>
      )}
      <Alert text={error} />
      {created?.activation_code && (
        <ShownOnce
          label={t('stores.activationCodeFor', { label: created.label })}
          value={created.activation_code}
          note={t('stores.typeItBefore', { when: when(created.activation_code_expires_at) })}
        />
      )}
    </section>
  );
}

function StoreTerminals({ store, canWrite, changes }: { store: Store; canWrite: boolean; changes: number }) {
  const terminals = useLoad(() => call<List<Terminal>>('GET', `/v1/stores/${encodeURIComponent(store.id)}/terminals`), [store.id, changes]);
  const [code, setCode] = useState<Terminal | null>(null);
  const { error, setError } = useAttempt();
  const act = async (term: Terminal, what: 'revoke' | 'activation_code') => {
    setError('');
    if (what === 'revoke' && !confirm(t('stores.revokeConfirm', { label: term.label }))) return;
    try {
      const r = await call<Terminal>('POST', `/v1/terminals/${encodeURIComponent(term.id)}/${what}`, {});
      if (what === 'activation_code') setCode(r);
      terminals.reload();
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <section class="card" aria-labelledby={`store-${store.id}`}>
      <h2 id={`store-${store.id}`}>{store.name}</h2>
      {/* The till's software names the store by this id when it creates a payment. */}
      <p class="store-id">
        {t('stores.storeId')} <code data-testid="store-id">{store.id}</code> <CopyButton value={store.id} label={t('stores.copyStoreId', { store: store.name })} />
      </p>
      <Loading error={terminals.error}>
        {terminals.data &&
          (terminals.data.data.length === 0 ? (
            <p>{t('stores.noTerminalsYet')}</p>
          ) : (
            <table>
              <caption class="sr-only">{t('stores.terminalsOf', { store: store.name })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('stores.terminal')}</th>
                  <th scope="col">{t('stores.status')}</th>
                  <th scope="col">{t('stores.lastSeen')}</th>
                  <th scope="col">{t('stores.created')}</th>
                  {canWrite && <th scope="col">{t('stores.actions')}</th>}
                </tr>
              </thead>
              <tbody>
                {terminals.data.data.map((term) => (
                  <tr key={term.id}>
                    <td>
                      {term.label}
                      <br />
                      <code class="small">{term.id}</code>
                    </td>
                    <td>
                      <Badge text={term.status} />
                    </td>
                    <td>{when(term.last_seen_at)}</td>
                    <td>{when(term.created)}</td>
                    {canWrite && (
                      <td class="actions">
                        {term.status === 'pending' && (
                          <button type="button" onClick={() => act(term, 'activation_code')}>
                            {t('stores.newCode')}<span class="sr-only"> {t('stores.codeFor', { label: term.label })}</span>
                          </button>
                        )}
                        {term.status !== 'revoked' && (
                          <button type="button" class="danger" onClick={() => act(term, 'revoke')}>
                            {t('stores.revoke')}<span class="sr-only"> {term.label}</span>
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
      {code?.activation_code && <ShownOnce label={t('stores.newActivationCodeFor', { label: code.label })} value={code.activation_code} note={t('stores.earlierCodesNoLonger')} />}
    </section>
  );
}
