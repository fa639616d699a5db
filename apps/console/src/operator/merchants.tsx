/**
 * Merchants for the operator's admins: list, create, suspend, reactivate and close (after a
 * confirmation that says what closing does), invite the owner by e-mail, and one merchant's
 * overview: live volume, fees, terminals, disputes and risk events, and its platform fee rate.
 */
import { useState } from 'preact/hooks';
import { Alert, Badge, ConfirmDialog, Field, Loading, Select, money, useAttempt, useLoad, when } from '../ui.tsx';
import { i18n, t } from '../messages.ts';
import type { OpsSession } from './app.tsx';
import { FeesSection } from './fees.tsx';
import { opsCall } from './ops-api.ts';

interface Merchant {
  id: string;
  name: string;
  status: 'active' | 'suspended' | 'closed';
  created_at: string;
  closed_at: string | null;
}

interface Figures {
  payments: { count: number; amount: string };
  refunds: { count: number; amount: string };
  fees: string;
}

interface Overview {
  volume: { currency: string; all_time: Figures; last_30_days: Figures }[];
  terminals: { active: number; pending: number; revoked: number; last_seen_at: string | null };
  disputes: { open: number; total: number };
  risk: {
    last_30_days: { step_ups: number; refusals: number; wrong_factors: number; disputes: number };
    recent: { id: string; kind: string; code: string; reasons: string[]; at: string }[];
  };
}

interface Invitation {
  id: string;
  email: string;
  status: string;
  created_at: string;
  expires_at: string;
}

const ms = (iso: string): number => Date.parse(iso);
// Sums arrive as decimal strings of minor units (exact on the server); shown as the rest of the console shows money.
const amount = (minor: string, currency: string): string => money(Number(minor), currency.toUpperCase());

function OverviewSection({ session, id, version }: { session: OpsSession; id: string; version: number }) {
  const { data, error } = useLoad(() => opsCall<Overview>(session.token, 'GET', `/v1/operator/merchants/${encodeURIComponent(id)}/overview`), [id, version]);
  if (!data) return <Loading error={error} />;
  const r = data.risk.last_30_days;
  return (
    <section aria-labelledby="overview-title">
      <h2 id="overview-title">{t('ov.title')}</h2>
      {data.volume.length === 0 && <p>{t('ov.noVolume')}</p>}
      {data.volume.map((v) => {
        const row = (label: string, f: (x: Figures) => string) => (
          <tr>
            <th scope="row">{label}</th>
            <td>{f(v.last_30_days)}</td>
            <td>{f(v.all_time)}</td>
          </tr>
        );
        return (
          <table key={v.currency} data-currency={v.currency}>
            <caption>{t('ov.volumeIn', { currency: v.currency.toUpperCase() })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('ov.figure')}</th>
                <th scope="col">{t('ov.last30')}</th>
                <th scope="col">{t('ov.allTime')}</th>
              </tr>
            </thead>
            <tbody>
              {row(t('ov.payments'), (x) => t('ov.countAmount', { amount: amount(x.payments.amount, v.currency), count: x.payments.count }))}
              {row(t('ov.refunds'), (x) => t('ov.countAmount', { amount: amount(x.refunds.amount, v.currency), count: x.refunds.count }))}
              {row(t('ov.fees'), (x) => amount(x.fees, v.currency))}
            </tbody>
          </table>
        );
      })}
      <h3>{t('ov.terminals')}</h3>
      <p>
        {t('ov.terminalCounts', { active: data.terminals.active, pending: data.terminals.pending, revoked: data.terminals.revoked })}{' '}
        {data.terminals.last_seen_at ? t('ov.lastSeen', { when: when(ms(data.terminals.last_seen_at)) }) : t('ov.neverSeen')}
      </p>
      <h3>{t('ov.disputes')}</h3>
      <p>{t('ov.disputeCounts', { open: data.disputes.open, total: data.disputes.total })}</p>
      <h3>{t('ov.risk')}</h3>
      <p>{t('ov.riskCounts', { stepUps: r.step_ups, refusals: r.refusals, wrongFactors: r.wrong_factors, disputes: r.disputes })}</p>
      {data.risk.recent.length === 0 ? (
        <p>{t('ov.noRisk')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('ov.when')}</th>
              <th scope="col">{t('ov.kind')}</th>
              <th scope="col">{t('ov.detail')}</th>
            </tr>
          </thead>
          <tbody>
            {data.risk.recent.map((e) => (
              <tr key={e.id}>
                <td>{when(ms(e.at))}</td>
                <td>{i18n.lookup(`ov.kind.${e.kind}`) ?? e.kind}</td>
                <td>
                  <code>{[e.code, ...e.reasons].join(', ')}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Closing is final, so the button first shows what it does; the server's refusal (money still owed, a payout open) is shown as it says it. */
function CloseMerchant({ session, merchant, onClosed }: { session: OpsSession; merchant: Merchant; onClosed: () => void }) {
  const [asking, setAsking] = useState(false);
  const act = useAttempt();
  const close = () =>
    void act.attempt(async () => {
      await opsCall(session.token, 'POST', `/v1/operator/merchants/${encodeURIComponent(merchant.id)}/closure`, {});
      setAsking(false);
      onClosed();
    });
  return (
    <div class="close-merchant">
      {asking ? (
        <ConfirmDialog
          id="close"
          title={t('merch.closeConfirmTitle', { name: merchant.name })}
          confirm={t('merch.closeConfirm')}
          cancel={t('merch.cancel')}
          onConfirm={close}
          onCancel={() => {
            setAsking(false);
            act.setError('');
          }}
        >
          <p>{t('merch.closeConfirmText')}</p>
        </ConfirmDialog>
      ) : (
        <p>
          <button type="button" onClick={() => setAsking(true)}>
            {t('merch.close')}
          </button>{' '}
          <span class="hint">{t('merch.closeHint')}</span>
        </p>
      )}
      <Alert text={act.error} />
    </div>
  );
}

function MerchantDetail({ session, id }: { session: OpsSession; id: string }) {
  const { data, error, reload } = useLoad(() => opsCall<Merchant & { invitations: Invitation[] }>(session.token, 'GET', `/v1/operator/merchants/${encodeURIComponent(id)}`), [id]);
  const [email, setEmail] = useState('');
  const [hours, setHours] = useState('24');
  const [done, setDone] = useState('');
  const [version, setVersion] = useState(0);
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
      {data.status === 'active' && (
        <p>
          <button type="button" onClick={() => changeStatus('suspension')}>
            {t('merch.suspend')}
          </button>{' '}
          <span class="hint">{t('merch.suspendHint')}</span>
        </p>
      )}
      {data.status === 'suspended' && (
        <>
          <p>
            <button type="button" onClick={() => changeStatus('reactivation')}>
              {t('merch.reactivate')}
            </button>
          </p>
          <CloseMerchant
            session={session}
            merchant={data}
            onClosed={() => {
              setDone(t('merch.closedDone', { name: data.name }));
              reload();
              setVersion((v) => v + 1);
            }}
          />
        </>
      )}
      {data.status === 'closed' && data.closed_at && <p>{t('merch.closedOn', { when: when(ms(data.closed_at)) })}</p>}
      <OverviewSection session={session} id={id} version={version} />
      <FeesSection session={session} merchantId={id} />
      {data.status !== 'closed' && (
        <>
          <h2>{t('merch.inviteOwner')}</h2>
          <form onSubmit={invite}>
            <Field id="invite-email" label={t('merch.ownerEmail')} type="email" value={email} onInput={setEmail} required />
            <Select id="invite-hours" label={t('merch.linkWorksFor')} value={hours} onChange={setHours} options={[['1', t('merch.oneHour')], ['24', t('merch.oneDay')]]} />
            <button type="submit" class="primary">
              {t('merch.sendInvitation')}
            </button>
          </form>
        </>
      )}
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
