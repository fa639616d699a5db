/**
 * Disputes: shoppers who said "This wasn't me" about a payment. Each can be refunded in full
 * (through the same refund as the payments page, so a cashier's limit holds) or closed without a
 * refund, both after a confirmation.
 */
import { useState } from 'preact/hooks';
import { call, qs, type Dispute, type List } from '../api.ts';
import type { Session } from '../session.ts';
import { Alert, Badge, Loading, money, Select, useAttempt, useLoad, when } from '../ui.tsx';

const STATUSES = [
  ['open', 'Open'],
  ['', 'Any status'],
  ['refunded', 'Refunded'],
  ['closed', 'Closed'],
] as const;

const METHOD: Record<Dispute['payment_method'], string> = { face: 'Face', pay_code: 'Pay code', other: 'Other' };

export function DisputesPage({ session }: { session: Session }) {
  const [status, setStatus] = useState<string>('open');
  const [cursors, setCursors] = useState<string[]>([]);
  const [done, setDone] = useState('');
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(() => call<List<Dispute>>('GET', `/v1/disputes${qs({ status, limit: 20, cursor })}`), [status, cursor]);
  const { error, attempt } = useAttempt();
  const act = (d: Dispute, what: 'refund' | 'close') =>
    attempt(async () => {
      const question =
        what === 'refund'
          ? `Refund the shopper what is left of ${money(d.amount, d.currency)} for ${d.payment_intent}? The money goes back at once.`
          : `Close this dispute without a refund? The shopper is told.`;
      if (!confirm(question)) return;
      setDone('');
      const after = await call<Dispute>('POST', `/v1/disputes/${encodeURIComponent(d.id)}/${what}`, {});
      setDone(what === 'refund' ? `Refunded ${d.payment_intent}.` : `Closed the dispute of ${after.payment_intent}.`);
      page.reload();
    });
  const write = session.can('payments:write');
  return (
    <>
      <h1>Disputes</h1>
      <p class="hint">
        A shopper who did not make a payment reports it from the receipt in their inbox. For a face payment their face pay is frozen at
        once; refunding gives back everything not yet refunded.
      </p>
      <Select
        id="dispute-status"
        label="Status"
        value={status}
        onChange={(v) => {
          setStatus(v);
          setCursors([]);
        }}
        options={STATUSES}
      />
      <Alert text={error} />
      {done && <p role="status">{done}</p>}
      <Loading error={page.error}>
        {page.data && (
          <>
            <table>
              <caption class="sr-only">Disputes, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Payment</th>
                  <th scope="col">Amount</th>
                  <th scope="col">Paid by</th>
                  <th scope="col">Status</th>
                  <th scope="col">Reported</th>
                  {write && <th scope="col">Action</th>}
                </tr>
              </thead>
              <tbody>
                {page.data.data.map((d) => (
                  <tr key={d.id}>
                    <td>
                      <a href={`#/payments/${encodeURIComponent(d.payment_intent)}`}>{d.payment_intent}</a>
                      <br />
                      <code class="small">{d.id}</code>
                    </td>
                    <td class="num">{money(d.amount, d.currency)}</td>
                    <td>{METHOD[d.payment_method]}</td>
                    <td>
                      <Badge text={d.status} />
                    </td>
                    <td>{when(d.created)}</td>
                    {write && (
                      <td>
                        {d.status === 'open' && (
                          <>
                            <button type="button" class="primary" aria-label={`Refund the dispute of ${d.payment_intent}`} onClick={() => void act(d, 'refund')}>
                              Refund
                            </button>{' '}
                            <button type="button" aria-label={`Close the dispute of ${d.payment_intent}`} onClick={() => void act(d, 'close')}>
                              Close
                            </button>
                          </>
                        )}
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
            {page.data.data.length === 0 && <p>No disputes{status ? ` that are ${status}` : ''}.</p>}
            <p class="pager">
              {cursors.length > 0 && (
                <button type="button" onClick={() => setCursors(cursors.slice(0, -1))}>
                  Newer
                </button>
              )}
              {page.data.has_more && page.data.next_cursor && (
                <button type="button" onClick={() => setCursors([...cursors, page.data!.next_cursor!])}>
                  Older
                </button>
              )}
            </p>
          </>
        )}
      </Loading>
    </>
  );
}
