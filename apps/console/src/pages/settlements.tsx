import { useState } from 'preact/hooks';
import { call, type List, type Settlement } from '../api.ts';
import { CategoryChart } from '../charts.tsx';
import type { Session } from '../session.ts';
import { Badge, Loading, money, Stat, useLoad } from '../ui.tsx';

const STATUS: Record<Settlement['status'], string> = {
  closed: 'to be paid out',
  carried: 'carried to the next day',
  in_payout: 'in a payout',
  paid: 'paid out',
};

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
      <h1>Settlements</h1>
      <p class="hint">
        One statement per day in your time zone, closed after midnight. Net is what is paid out to your bank account; a day whose net is not
        above zero (refunds after a payout) is carried into the next statement.
      </p>
      <Loading error={list.error || balance.error}>
        <section class="stats" aria-label="Balance">
          {balance.data && <Stat label="Payable now" value={m(balance.data.payable)} sub="owed to you: closed days not yet paid out, and today so far" />}
          <Stat label="Statements" value={String(rows.length)} sub="the last 100" />
        </section>
        <section class="charts">
          <CategoryChart title="Net per day, last 30 days" labels={chart.labels} yFormat={m} series={[{ label: 'Net', values: chart.net, color: '#2f5d9e', bars: true, format: m }]} />
        </section>
        <p>
          <a class="button" href="/v1/settlements/export.csv" download>
            Download statements as CSV
          </a>
        </p>
        <table>
          <caption>Statements, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Gross</th>
              <th scope="col">Coupons</th>
              <th scope="col">Refunds</th>
              <th scope="col">Fees</th>
              <th scope="col">Carried in</th>
              <th scope="col">Net</th>
              <th scope="col">Status</th>
              <th scope="col">Transfers</th>
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
                  <Badge text={STATUS[r.status]} />
                </td>
                <td>
                  <a href={`/v1/settlements/${encodeURIComponent(r.id)}/csv`} download>
                    CSV ({r.transfer_count})
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {rows.length === 0 && <p>No statement yet: the first closes after the first day with live payments.</p>}
        {open && (
          <section aria-label={`Statement of ${open.day}`}>
            <h2>Statement of {open.day}</h2>
            <p class="hint">
              {open.transfer_count} transfers; their sum plus {m(open.carried_in)} carried in is the net, {m(open.net)}.
            </p>
            <table>
              <thead>
                <tr>
                  <th scope="col">Transfer</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Amount</th>
                </tr>
              </thead>
              <tbody>
                {(open.transfers ?? []).map((t) => (
                  <tr key={t.id}>
                    <td>{t.id}</td>
                    <td>{t.code.replace(/_/g, ' ')}</td>
                    <td>{m(t.amount)}</td>
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
