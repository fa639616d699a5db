/**
 * Disputes: shoppers who said "This wasn't me" about a payment. Each can be refunded in full
 * (through the same refund as the payments page, so a cashier's limit holds) or closed without a
 * refund, both after a confirmation.
 */
import { useState } from 'preact/hooks';
import { call, qs, type Dispute, type List } from '../api.ts';
import type { Session } from '../session.ts';
import { Alert, Badge, Loading, money, Select, useAttempt, useLoad, when } from '../ui.tsx';
import { methodText } from '@facepay/web-common';
import { i18n, t } from '../messages.ts';

const STATUSES = () =>
  [
    ['open', t('disp.statusOpen')],
    ['', t('disp.anyStatus')],
    ['refunded', t('disp.statusRefunded')],
    ['closed', t('disp.statusClosed')],
  ] as const;

const METHOD = (m: Dispute['payment_method']): string => (m === 'other' ? t('disp.methodOther') : methodText(i18n, m));

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
          ? t('disp.refundConfirm', { amount: money(d.amount, d.currency), payment: d.payment_intent })
          : t('disp.closeConfirm');
      if (!confirm(question)) return;
      setDone('');
      const after = await call<Dispute>('POST', `/v1/disputes/${encodeURIComponent(d.id)}/${what}`, {});
      setDone(what === 'refund' ? t('disp.refunded', { payment: d.payment_intent }) : t('disp.closed', { payment: after.payment_intent }));
      page.reload();
    });
  const write = session.can('payments:write');
  return (
    <>
      <h1>{t('disp.disputes')}</h1>
      <p class="hint">
        {t('disp.intro')}
      </p>
      <Select
        id="dispute-status"
        label={t('disp.status')}
        value={status}
        onChange={(v) => {
          setStatus(v);
          setCursors([]);
        }}
        options={STATUSES()}
      />
      <Alert text={error} />
      {done && <p role="status">{done}</p>}
      <Loading error={page.error}>
        {page.data && (
          <>
            <table>
              <caption class="sr-only">{t('disp.disputesNewestFirst')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('disp.payment')}</th>
                  <th scope="col">{t('disp.amount')}</th>
                  <th scope="col">{t('disp.paidBy')}</th>
                  <th scope="col">{t('disp.status')}</th>
                  <th scope="col">{t('disp.reported')}</th>
                  {write && <th scope="col">{t('disp.action')}</th>}
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
                    <td>{METHOD(d.payment_method)}</td>
                    <td>
                      <Badge text={d.status} />
                    </td>
                    <td>{when(d.created)}</td>
                    {write && (
                      <td>
                        {d.status === 'open' && (
                          <>
                            <button type="button" class="primary" aria-label={t('disp.refundLabel', { payment: d.payment_intent })} onClick={() => void act(d, 'refund')}>
                              {t('disp.refund')}
                            </button>{' '}
                            <button type="button" aria-label={t('disp.closeLabel', { payment: d.payment_intent })} onClick={() => void act(d, 'close')}>
                              {t('disp.close')}
                            </button>
                          </>
                        )}
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
            {page.data.data.length === 0 && <p>{status ? t('disp.noDisputesStatus', { status: STATUSES().find(([v]) => v === status)?.[1] ?? status }) : t('disp.noDisputesAny')}</p>}
            <p class="pager">
              {cursors.length > 0 && (
                <button type="button" onClick={() => setCursors(cursors.slice(0, -1))}>
                  {t('disp.newer')}
                </button>
              )}
              {page.data.has_more && page.data.next_cursor && (
                <button type="button" onClick={() => setCursors([...cursors, page.data!.next_cursor!])}>
                  {t('disp.older')}
                </button>
              )}
            </p>
          </>
        )}
      </Loading>
    </>
  );
}
