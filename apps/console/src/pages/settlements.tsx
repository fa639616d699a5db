import { useState } from 'preact/hooks';
import { call, type List, type Settlement } from '../api.ts';
import { CategoryChart } from '../charts.tsx';
import type { Session } from '../session.ts';
import { Badge, Loading, money, Stat, useLoad, minorPerMajor } from '../ui.tsx';
import { t } from '../messages.ts';

const STATUS = {
  closed: 'settle.statusClosed',
  carried: 'settle.statusCarried',
  in_payout: 'settle.statusInPayout',
  paid: 'settle.statusPaid',
} as const satisfies Record<Settlement['status'], string>;

/** The last 30 local days, oldest first, with 0 for a day without a statement. */
function last30(rows: Settlement[]): { labels: string[]; net: number[] } {
  const byDay = new Map<string, number>();
  for (const r of rows) byDay.set(r.day, (byDay.get(r.day) ?? 0) + r.net);
  const labels: string[] = [];
  const net: number[] = [];
  // Up to yesterday, the last day that can have closed.
  const end = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`) - 86_400_000;
  for (let i = 29; i >= 0; i--) {
    const d = new Date(end - i * 86_400_000).toISOString().slice(0, 10);
    labels.push(d.slice(5));
    net.push(byDay.get(d) ?? 0);
  }
  return { labels, net };
}

export function SettlementsPage({ session }: { session: Session }) {
  const list = useLoad(() => call<List<Settlement>>('GET', '/v1/settlements?limit=100'));
  const balance = useLoad(() => call<{ currency: string; payable: number }>('GET', '/v1/settlements/balance'));
  const [open, setOpen] = useState<Settlement | undefined>(undefined);
  const show = async (id: string): Promise<void> => setOpen(await call<Settlement>('GET', `/v1/settlements/${encodeURIComponent(id)}`));
  const rows = list.data?.data ?? [];
  const currency = rows[0]?.currency ?? balance.data?.currency ?? session.currency ?? 'eur';
  const m = (v: number): string => money(v, currency);
  const chart = last30(rows);
  return (
    <>
      <h1>{t('settle.settlements')}</h1>
      <p class="hint">
        {t('settle.intro')}
      </p>
      <Loading error={list.error || balance.error}>
        <section class="stats" aria-label={t('settle.balance')}>
          {balance.data && <Stat label={t('settle.payableNow')} value={m(balance.data.payable)} sub={t('settle.payableSub')} />}
          <Stat label={t('settle.statements')} value={String(rows.length)} sub={t('settle.last100')} />
        </section>
        <section class="charts">
          <CategoryChart title={t('settle.netPerDayLast')} labels={chart.labels} yFormat={m} yStep={minorPerMajor(currency)} series={[{ label: t('settle.net'), values: chart.net, color: '#2f5d9e', bars: true, format: m }]} />
        </section>
        <p>
          <a class="button" href="/v1/settlements/export.csv" download>
            {t('settle.downloadStatementsAsCsv')}
          </a>
        </p>
        <table>
          <caption>{t('settle.statementsNewestFirst')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('settle.day')}</th>
              <th scope="col">{t('settle.gross')}</th>
              <th scope="col">{t('settle.coupons')}</th>
              <th scope="col">{t('settle.refunds')}</th>
              <th scope="col">{t('settle.fees')}</th>
              <th scope="col">{t('settle.carriedIn')}</th>
              <th scope="col">{t('settle.net')}</th>
              <th scope="col">{t('settle.status')}</th>
              <th scope="col">{t('settle.transfers')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <th scope="row">
                  <button type="button" class="link" onClick={() => void show(r.id)}>
                    {r.day}
                  </button>
                </th>
                <td>{m(r.gross)}</td>
                <td>{m(r.coupon_discounts)}</td>
                <td>{m(r.refunds)}</td>
                <td>{m(r.platform_fees)}</td>
                <td>{m(r.carried_in)}</td>
                <td>{m(r.net)}</td>
                <td>
                  <Badge text={t(STATUS[r.status])} />
                </td>
                <td>
                  <a href={`/v1/settlements/${encodeURIComponent(r.id)}/csv`} download>
                    {t('settle.csvCount', { n: r.transfer_count })}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {rows.length === 0 && <p>{t('settle.noStatementYetThe')}</p>}
        {open && (
          <section aria-label={t('settle.statementOf', { day: open.day })}>
            <h2>{t('settle.statementOf', { day: open.day })}</h2>
            <p class="hint">{t('settle.transfersSum', { n: open.transfer_count, carried: m(open.carried_in), net: m(open.net) })}</p>
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('settle.transfer')}</th>
                  <th scope="col">{t('settle.kind')}</th>
                  <th scope="col">{t('settle.amount')}</th>
                </tr>
              </thead>
              <tbody>
                {(open.transfers ?? []).map((tr) => (
                  <tr key={tr.id}>
                    <td>{tr.id}</td>
                    <td>{tr.code.replace(/_/g, ' ')}</td>
                    <td>{m(tr.amount)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        )}
      </Loading>
    </>
  );
}
