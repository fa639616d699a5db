/** Merchants for the operator's admins: list, create, suspend and reactivate, invite the owner by e-mail. */
import { useState } from 'preact/hooks';
import { Alert, Badge, Field, Loading, Select, useAttempt, useLoad, when } from '../ui.tsx';
import type { OpsSession } from './app.tsx';
import { opsCall } from './ops-api.ts';

interface Merchant {
  id: string;
  name: string;
  status: 'active' | 'suspended';
  created_at: string;
}

interface Invitation {
  id: string;
  email: string;
  status: string;
  created_at: string;
  expires_at: string;
}

const ms = (iso: string): number => Date.parse(iso);

function MerchantDetail({ session, id }: { session: OpsSession; id: string }) {
  const { data, error, reload } = useLoad(() => opsCall<Merchant & { invitations: Invitation[] }>(session.token, 'GET', `/v1/operator/merchants/${encodeURIComponent(id)}`), [id]);
  const [email, setEmail] = useState('');
  const [hours, setHours] = useState('24');
  const [done, setDone] = useState('');
  const act = useAttempt();
  if (!data) return <Loading error={error} />;
  const invite = (e: Event) => {
    e.preventDefault();
    setDone('');
    void act.attempt(async () => {
      const i = await opsCall<Invitation>(session.token, 'POST', `/v1/operator/merchants/${encodeURIComponent(id)}/invitations`, { email, valid_hours: Number(hours) });
      setDone(`Invitation sent to ${i.email}; the link works once, until ${when(ms(i.expires_at))}.`);
      setEmail('');
      reload();
    });
  };
  const setStatus = (action: 'suspension' | 'reactivation') =>
    void act.attempt(async () => {
      await opsCall(session.token, 'POST', `/v1/operator/merchants/${encodeURIComponent(id)}/${action}`, {});
      reload();
    });
  const revoke = (inv: Invitation) =>
    void act.attempt(async () => {
      await opsCall(session.token, 'POST', `/v1/operator/merchants/${encodeURIComponent(id)}/invitations/${encodeURIComponent(inv.id)}/revocation`, {});
      reload();
    });
  return (
    <section>
      <p>
        <a href="#/ops/merchants">All merchants</a>
      </p>
      <h1>
        {data.name} <Badge text={data.status} />
      </h1>
      <p>
        <code>{data.id}</code>, created {when(ms(data.created_at))}.
      </p>
      {data.status === 'active' ? (
        <p>
          <button type="button" onClick={() => setStatus('suspension')}>
            Suspend merchant
          </button>{' '}
          <span class="hint">Its API keys, console logins and terminals stop working at once.</span>
        </p>
      ) : (
        <p>
          <button type="button" onClick={() => setStatus('reactivation')}>
            Reactivate merchant
          </button>
        </p>
      )}
      <h2>Invite the owner</h2>
      <form onSubmit={invite}>
        <Field id="invite-email" label="Owner's e-mail" type="email" value={email} onInput={setEmail} required />
        <Select id="invite-hours" label="The link works for" value={hours} onChange={setHours} options={[['1', 'one hour'], ['24', 'one day']]} />
        <button type="submit" class="primary">
          Send invitation
        </button>
      </form>
      <Alert text={act.error} />
      {done && <p role="status">{done}</p>}
      <h2>Invitations</h2>
      {data.invitations.length === 0 ? (
        <p>None yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">E-mail</th>
              <th scope="col">Sent</th>
              <th scope="col">Works until</th>
              <th scope="col">Status</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {data.invitations.map((i) => (
              <tr key={i.id}>
                <td>{i.email}</td>
                <td>{when(ms(i.created_at))}</td>
                <td>{when(ms(i.expires_at))}</td>
                <td>
                  <Badge text={i.status} />
                </td>
                <td>
                  {i.status === 'pending' && (
                    <button type="button" class="link" onClick={() => revoke(i)}>
                      Withdraw
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function MerchantsPage({ session, id }: { session: OpsSession; id: string | undefined }) {
  const { data, error, reload } = useLoad(() => opsCall<{ data: Merchant[] }>(session.token, 'GET', '/v1/operator/merchants?limit=100'), []);
  const [name, setName] = useState('');
  const act = useAttempt();
  if (id) return <MerchantDetail session={session} id={id} />;
  const create = (e: Event) => {
    e.preventDefault();
    void act.attempt(async () => {
      const m = await opsCall<Merchant>(session.token, 'POST', '/v1/operator/merchants', { name });
      setName('');
      reload();
      location.hash = `#/ops/merchants/${encodeURIComponent(m.id)}`;
    });
  };
  return (
    <section>
      <h1>Merchants</h1>
      <form onSubmit={create} class="inline">
        <Field id="merchant-name" label="New merchant's name" value={name} onInput={setName} required />
        <button type="submit" class="primary">
          Create merchant
        </button>
      </form>
      <Alert text={act.error} />
      <Loading error={error}>
        {data && (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Id</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {data.data.map((m) => (
                <tr key={m.id}>
                  <td>
                    <a href={`#/ops/merchants/${encodeURIComponent(m.id)}`}>{m.name}</a>
                  </td>
                  <td>
                    <code>{m.id}</code>
                  </td>
                  <td>
                    <Badge text={m.status} />
                  </td>
                  <td>{when(ms(m.created_at))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loading>
    </section>
  );
}
