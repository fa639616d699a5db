/**
 * Money in, for the operator's admins: import a bank statement (camt.053 or camt.054 XML, as the
 * bank's online banking exports it), resolve each credit nobody's reference matched (to a
 * shopper's RF payment reference, or sent back to the payer; the server applies each once), and
 * read the reconciliation: the float of all wallets against the bank's balance.
 */
import { useState } from 'preact/hooks';
import { Alert, Field, Loading, Stat, money, useAttempt, useLoad } from '../ui.tsx';
import type { OpsSession } from './app.tsx';
import { opsCall } from './ops-api.ts';

interface Unmatched {
  entry_ref: string;
  statement_id: string;
  amount: number;
  currency: string;
  reference: string | null;
}

interface Line {
  currency: string;
  float: string;
  wallets: number;
  bank: { balance: string; as_of: string; statement_id: string } | null;
  difference: string | null;
  unmatched: { count: number; total: string };
  merchant_payable: string;
  platform_fees: string;
  funded_by_rail: Record<string, string>;
}

const amount = (minor: string, currency: string): string => money(Number(minor), currency);

function Resolve({ session, entry, onDone }: { session: OpsSession; entry: Unmatched; onDone: (text: string) => void }) {
  const [reference, setReference] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const act = useAttempt();
  const path = `/v1/operator/funding/unmatched/${encodeURIComponent(entry.entry_ref)}`;
  const run = (fn: () => Promise<void>) =>
    void act.attempt(async () => {
      setBusy(true);
      try {
        await fn();
      } finally {
        setBusy(false);
      }
    });
  const assign = (e: Event) => {
    e.preventDefault();
    run(async () => {
      const who = await opsCall<{ shopper_id: string; name: string | null }>(session.token, 'GET', `/v1/operator/funding/references/${encodeURIComponent(reference.replace(/\s+/g, ''))}`);
      await opsCall(session.token, 'POST', `${path}/assignment`, { shopper_id: who.shopper_id });
      onDone(`${money(entry.amount, entry.currency)} credited to ${who.name ?? who.shopper_id} (${entry.entry_ref}).`);
    });
  };
  const sendBack = (e: Event) => {
    e.preventDefault();
    run(async () => {
      await opsCall(session.token, 'POST', `${path}/return`, { note });
      onDone(`${money(entry.amount, entry.currency)} (${entry.entry_ref}) marked as returned to the payer.`);
    });
  };
  const id = entry.entry_ref.replace(/[^A-Za-z0-9_-]/g, '_');
  return (
    <div class="resolve">
      <form onSubmit={assign} class="inline">
        <Field id={`assign-${id}`} label="Shopper's payment reference (RF…)" value={reference} onInput={setReference} required />
        <button type="submit" disabled={busy}>
          Credit this shopper
        </button>
      </form>
      <form onSubmit={sendBack} class="inline">
        <Field id={`return-${id}`} label="Or send it back: why" value={note} onInput={setNote} required />
        <button type="submit" disabled={busy}>
          Mark returned
        </button>
      </form>
      <Alert text={act.error} />
    </div>
  );
}

export function MoneyPage({ session }: { session: OpsSession }) {
  const unmatched = useLoad(() => opsCall<{ data: Unmatched[] }>(session.token, 'GET', '/v1/operator/funding/unmatched'), []);
  const rec = useLoad(() => opsCall<{ currencies: Line[]; notes: string[] }>(session.token, 'GET', '/v1/operator/funding/reconciliation'), []);
  const [file, setFile] = useState<File>();
  const [done, setDone] = useState('');
  const act = useAttempt();
  const reload = () => {
    unmatched.reload();
    rec.reload();
  };
  const upload = (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setDone('');
    void act.attempt(async () => {
      const r = await opsCall<{ credited: number; unmatched: number; duplicates: number }>(session.token, 'POST', '/v1/operator/funding/statements', { xml: await file.text() });
      setDone(`Imported ${file.name}: ${r.credited} credited to wallets, ${r.unmatched} to resolve by hand, ${r.duplicates} already imported before.`);
      reload();
    });
  };
  return (
    <section>
      <h1>Bank &amp; reconciliation</h1>
      <h2>Import a bank statement</h2>
      <form onSubmit={upload}>
        <p class="field">
          <label for="statement-file">camt.053 or camt.054 file (XML)</label>
          <input id="statement-file" type="file" accept=".xml,application/xml,text/xml" required onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0])} />
          <small class="hint">Importing the same file again credits nothing twice.</small>
        </p>
        <button type="submit" class="primary" disabled={!file}>
          Import
        </button>
      </form>
      <Alert text={act.error} />
      {done && <p role="status">{done}</p>}
      <h2>Credits to resolve by hand</h2>
      <Loading error={unmatched.error}>
        {unmatched.data &&
          (unmatched.data.data.length === 0 ? (
            <p>None: every credit found its shopper.</p>
          ) : (
            <ul class="unmatched">
              {unmatched.data.data.map((u) => (
                <li key={u.entry_ref} data-entry={u.entry_ref}>
                  <p>
                    <strong>{money(u.amount, u.currency)}</strong>, bank entry <code>{u.entry_ref}</code> of statement <code>{u.statement_id}</code>; the payer wrote{' '}
                    {u.reference ? <q>{u.reference}</q> : 'no reference'}.
                  </p>
                  <Resolve session={session} entry={u} onDone={(text) => (setDone(text), reload())} />
                </li>
              ))}
            </ul>
          ))}
      </Loading>
      <h2>Reconciliation</h2>
      <Loading error={rec.error}>
        {rec.data && (
          <>
            {rec.data.currencies.length === 0 && <p>No money has moved yet.</p>}
            {rec.data.currencies.map((c) => (
              <div key={c.currency} class="stats" data-currency={c.currency}>
                <Stat label="Float (all wallets)" value={amount(c.float, c.currency)} sub={`${c.wallets} wallets`} />
                <Stat label="Bank balance" value={c.bank ? amount(c.bank.balance, c.currency) : '—'} sub={c.bank ? `as of ${c.bank.as_of}` : 'no statement yet'} />
                <Stat label="Bank less float" value={c.difference === null ? '—' : amount(c.difference, c.currency)} />
                <Stat label="Unmatched credits" value={amount(c.unmatched.total, c.currency)} sub={`${c.unmatched.count} waiting`} />
                <Stat label="Owed to merchants" value={amount(c.merchant_payable, c.currency)} />
                <Stat label="Platform fees" value={amount(c.platform_fees, c.currency)} />
              </div>
            ))}
            {rec.data.notes.map((n) => (
              <p class="hint" key={n}>
                {n}
              </p>
            ))}
          </>
        )}
      </Loading>
    </section>
  );
}
