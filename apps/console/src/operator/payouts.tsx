/**
 * Money out, for the operator's admins: shoppers' withdrawals to approve or reject, and payout runs
 * (make one, download its ISO 20022 pain.001 file for the bank, then mark it sent or returned).
 */
import { useState } from 'preact/hooks';
import { Alert, Badge, Loading, money, useAttempt, useLoad, when } from '../ui.tsx';
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
      setDone(`${money(w.amount, w.currency)} for ${w.holder_name} ${action === 'approval' ? 'approved: the next payout run pays it' : 'rejected: the money is back in the wallet'}.`);
      reload();
    });
  const makeRun = () =>
    void act.attempt(async () => {
      const r = await opsCall<Run>(session.token, 'POST', '/v1/operator/payouts', { currency: 'eur' }, runKey);
      setRunKey(`console-run-${crypto.randomUUID()}`);
      setDone(`Payout run ${r.id}: ${r.item_count} transfers, ${money(r.total, r.currency)}. Download its file for the bank.`);
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
          <th scope="col">Asked</th>
          <th scope="col">Holder</th>
          <th scope="col">IBAN</th>
          <th scope="col">Amount</th>
          <th scope="col">Status</th>
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
                  Approve
                </button>{' '}
                <button type="button" class="link" onClick={() => decide(w, 'rejection')}>
                  Reject
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
      <h1>Withdrawals &amp; payouts</h1>
      <Alert text={act.error} />
      {done && <p role="status">{done}</p>}
      <h2>Withdrawals waiting for a decision</h2>
      <Loading error={pending.error}>{pending.data && (pending.data.data.length === 0 ? <p>None.</p> : table(pending.data.data, true))}</Loading>
      <h2>Approved, for the next run</h2>
      <Loading error={approved.error}>{approved.data && (approved.data.data.length === 0 ? <p>None.</p> : table(approved.data.data, false))}</Loading>
      <h2>Payout runs</h2>
      <p>
        <button type="button" class="primary" onClick={makeRun}>
          Make a payout run
        </button>{' '}
        <span class="hint">Pays every merchant's closed statements and every approved withdrawal, once.</span>
      </p>
      <Loading error={runs.error}>
        {runs.data &&
          (runs.data.data.length === 0 ? (
            <p>No run yet.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Made</th>
                  <th scope="col">Transfers</th>
                  <th scope="col">Total</th>
                  <th scope="col">Status</th>
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
                          Download pain.001 file
                        </button>
                      )}
                      {r.status === 'ready' && (
                        <>
                          {' '}
                          <button type="button" onClick={() => mark(r, 'sent')}>
                            Mark sent
                          </button>{' '}
                          <button type="button" class="link" onClick={() => mark(r, 'returned')}>
                            Mark returned
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
