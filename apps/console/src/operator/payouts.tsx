/**
 * Money out, for the operator's admins: shoppers' withdrawals to approve or reject, and payout runs
 * (make one, download its ISO 20022 pain.001 file for the bank, then mark it sent or returned).
 */
import { useState } from 'preact/hooks';
import { Alert, Badge, Loading, money, useAttempt, useLoad, when } from '../ui.tsx';
import { t } from '../messages.ts';
import type { OpsSession } from './app.tsx';
import { opsCall, opsDownload } from './ops-api.ts';

interface Withdrawal {
  id: string;
  shopper_id: string;
  amount: number;
  currency: string;
  iban: string;
  holder_name: string;
  status: string;
  created_at: string;
}

interface Run {
  id: string;
  currency: string;
  status: 'moving' | 'ready' | 'sent' | 'returned';
  item_count: number;
  total: number;
  created_at: number;
}

export function PayoutsPage({ session }: { session: OpsSession }) {
  const pending = useLoad(() => opsCall<{ data: Withdrawal[] }>(session.token, 'GET', '/v1/operator/withdrawals?status=pending'), []);
  const approved = useLoad(() => opsCall<{ data: Withdrawal[] }>(session.token, 'GET', '/v1/operator/withdrawals?status=approved'), []);
  const runs = useLoad(() => opsCall<{ data: Run[] }>(session.token, 'GET', '/v1/operator/payouts'), []);
  // One key per run the admin sets out to make: a double click or a retry after a lost answer makes one run.
  const [runKey, setRunKey] = useState(() => `console-run-${crypto.randomUUID()}`);
  const [done, setDone] = useState('');
  const act = useAttempt();
  const reload = () => {
    pending.reload();
    approved.reload();
    runs.reload();
  };
  const decide = (w: Withdrawal, action: 'approval' | 'rejection') =>
    void act.attempt(async () => {
      await opsCall(session.token, 'POST', `/v1/operator/withdrawals/${encodeURIComponent(w.id)}/${action}`, {});
      setDone(t(action === 'approval' ? 'payout.approved' : 'payout.rejected', { amount: money(w.amount, w.currency), holder: w.holder_name }));
      reload();
    });
  const makeRun = () =>
    void act.attempt(async () => {
      const r = await opsCall<Run>(session.token, 'POST', '/v1/operator/payouts', { currency: 'eur' }, runKey);
      setRunKey(`console-run-${crypto.randomUUID()}`);
      setDone(t('payout.runMade', { id: r.id, count: r.item_count, total: money(r.total, r.currency) }));
      reload();
    });
  const mark = (r: Run, what: 'sent' | 'returned') =>
    void act.attempt(async () => {
      await opsCall(session.token, 'POST', `/v1/operator/payouts/${encodeURIComponent(r.id)}/${what}`, {});
      reload();
    });
  const download = (r: Run) => void act.attempt(() => opsDownload(session.token, `/v1/operator/payouts/${encodeURIComponent(r.id)}/file`, `${r.id}.xml`));
  const table = (list: Withdrawal[], actions: boolean) => (
    <table>
      <thead>
        <tr>
          <th scope="col">{t('payout.asked')}</th>
          <th scope="col">{t('payout.holder')}</th>
          <th scope="col">{t('payout.iban')}</th>
          <th scope="col">{t('payout.amount')}</th>
          <th scope="col">{t('payout.status')}</th>
          {actions && <th scope="col" />}
        </tr>
      </thead>
      <tbody>
        {list.map((w) => (
          <tr key={w.id}>
            <td>{when(Date.parse(w.created_at))}</td>
            <td>{w.holder_name}</td>
            <td>
              <code>{w.iban}</code>
            </td>
            <td>{money(w.amount, w.currency)}</td>
            <td>
              <Badge text={w.status} />
            </td>
            {actions && (
              <td>
                <button type="button" onClick={() => decide(w, 'approval')}>
                  {t('payout.approve')}
                </button>{' '}
                <button type="button" class="link" onClick={() => decide(w, 'rejection')}>
                  {t('payout.reject')}
                </button>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
  return (
    <section>
      <h1>{t('payout.title')}</h1>
      <Alert text={act.error} />
      {done && <p role="status">{done}</p>}
      <h2>{t('payout.waiting')}</h2>
      <Loading error={pending.error}>{pending.data && (pending.data.data.length === 0 ? <p>{t('payout.none')}</p> : table(pending.data.data, true))}</Loading>
      <h2>{t('payout.approvedForNext')}</h2>
      <Loading error={approved.error}>{approved.data && (approved.data.data.length === 0 ? <p>{t('payout.none')}</p> : table(approved.data.data, false))}</Loading>
      <h2>{t('payout.runs')}</h2>
      <p>
        <button type="button" class="primary" onClick={makeRun}>
          {t('payout.makeRun')}
        </button>{' '}
        <span class="hint">{t('payout.makeRunHint')}</span>
      </p>
      <Loading error={runs.error}>
        {runs.data &&
          (runs.data.data.length === 0 ? (
            <p>{t('payout.noRun')}</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('payout.run')}</th>
                  <th scope="col">{t('payout.made')}</th>
                  <th scope="col">{t('payout.transfers')}</th>
                  <th scope="col">{t('payout.total')}</th>
                  <th scope="col">{t('payout.status')}</th>
                  <th scope="col" />
                </tr>
              </thead>
              <tbody>
                {runs.data.data.map((r) => (
                  <tr key={r.id} data-run={r.id}>
                    <td>
                      <code>{r.id}</code>
                    </td>
                    <td>{when(r.created_at)}</td>
                    <td>{r.item_count}</td>
                    <td>{money(r.total, r.currency)}</td>
                    <td>
                      <Badge text={r.status} />
                    </td>
                    <td>
                      {r.status !== 'moving' && (
                        <button type="button" class="link" onClick={() => download(r)}>
                          {t('payout.download')}
                        </button>
                      )}
                      {r.status === 'ready' && (
                        <>
                          {' '}
                          <button type="button" onClick={() => mark(r, 'sent')}>
                            {t('payout.markSent')}
                          </button>{' '}
                          <button type="button" class="link" onClick={() => mark(r, 'returned')}>
                            {t('payout.markReturned')}
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
      </Loading>
    </section>
  );
}
