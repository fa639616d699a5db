/** Merchants for the operator's admins: list, create, suspend and reactivate, invite the owner by e-mail. */
import { useState } from 'preact/hooks';
import { Alert, Badge, Field, Loading, Select, useAttempt, useLoad, when } from '../ui.tsx';
import { t } from '../messages.ts';
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
      setDone(t('merch.invitationSent', { email: i.email, until: when(ms(i.expires_at)) }));
      setEmail('');
      reload();
    });
  };
  const changeStatus = (action: 'suspension' | 'reactivation') =>
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
        <a href="#/ops/merchants">{t('merch.all')}</a>
      </p>
      <h1>
        {data.name} <Badge text={data.status} />
      </h1>
      <p>
        <code>{data.id}</code>
        {t('merch.createdOn', { when: when(ms(data.created_at)) })}
      </p>
      {data.status === 'active' ? (
        <p>
          <button type="button" onClick={() => changeStatus('suspension')}>
            {t('merch.suspend')}
          </button>{' '}
          <span class="hint">{t('merch.suspendHint')}</span>
        </p>
      ) : (
        <p>
          <button type="button" onClick={() => changeStatus('reactivation')}>
            {t('merch.reactivate')}
          </button>
        </p>
      )}
      <h2>{t('merch.inviteOwner')}</h2>
      <form onSubmit={invite}>
        <Field id="invite-email" label={t('merch.ownerEmail')} type="email" value={email} onInput={setEmail} required />
        <Select id="invite-hours" label={t('merch.linkWorksFor')} value={hours} onChange={setHours} options={[['1', t('merch.oneHour')], ['24', t('merch.oneDay')]]} />
        <button type="submit" class="primary">
          {t('merch.sendInvitation')}
        </button>
      </form>
      <Alert text={act.error} />
      {done && <p role="status">{done}</p>}
      <h2>{t('merch.invitations')}</h2>
      {data.invitations.length === 0 ? (
        <p>{t('merch.noneYet')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('merch.eMail')}</th>
              <th scope="col">{t('merch.sent')}</th>
              <th scope="col">{t('merch.worksUntil')}</th>
              <th scope="col">{t('merch.status')}</th>
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
                      {t('merch.withdraw')}
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
      <h1>{t('merch.merchants')}</h1>
      <form onSubmit={create} class="inline">
        <Field id="merchant-name" label={t('merch.newName')} value={name} onInput={setName} required />
        <button type="submit" class="primary">
          {t('merch.create')}
        </button>
      </form>
      <Alert text={act.error} />
      <Loading error={error}>
        {data && (
          <table>
            <thead>
              <tr>
                <th scope="col">{t('merch.name')}</th>
                <th scope="col">{t('merch.id')}</th>
                <th scope="col">{t('merch.status')}</th>
                <th scope="col">{t('merch.created')}</th>
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
