import { XMLParser } from 'fast-xml-parser';
import { DomainError } from '../platform/index.ts';
import { parseRfReference } from './reference.ts';

/** One booked credit of a camt.053 / camt.054 statement. */
export interface BankCredit {
  /** The bank's id of the entry (AcctSvcrRef), else `<statement id>#<entry number or position>`: the dedupe key. */
  entryRef: string;
  statementId: string;
  /** Minor units (2 decimals assumed, as for EUR and USD). */
  amount: number;
  currency: string;
  /** The RF creditor reference found in the remittance information, if any. */
  reference: string | null;
  bookedOn: string | null;
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function minor(text: unknown): number {
  const s = String(text).trim();
  if (!/^\d{1,15}(\.\d{1,2})?$/.test(s)) throw new DomainError('invalid', 'statement_amount_invalid', `amount ${s} is not a decimal with at most 2 places`);
  const [whole, frac = ''] = s.split('.');
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'));
}

function findReference(ntry: Record<string, unknown>): string | null {
  // The structured creditor reference first, then any unstructured remittance text that holds one.
  const texts: string[] = [];
  const walk = (v: unknown): void => {
    if (v === null || v === undefined) return;
    if (typeof v === 'object') for (const x of Object.values(v as object)) walk(x);
    else texts.push(String(v));
  };
  walk((ntry.NtryDtls as Record<string, unknown> | undefined) ?? {});
  for (const t of texts) {
    const direct = parseRfReference(t);
    if (direct) return direct;
    for (const m of t.toUpperCase().matchAll(/RF\d{2}[A-Z0-9 ]{1,30}/g)) {
      for (let end = m[0].length; end > 4; end--) {
        const r = parseRfReference(m[0].slice(0, end));
        if (r) return r;
      }
    }
  }
  return null;
}

/** The closing booked balance (CLBD) a camt.053 statement states for the account. */
export interface BankBalance {
  statementId: string;
  currency: string;
  /** Signed minor units: a debit (overdrawn) balance is negative. */
  amount: number;
  /** The balance's date (Dt/Dt, or the date part of Dt/DtTm). */
  asOf: string;
}

function camtRoot(xml: string): Record<string, any> {
  let doc: Record<string, any>;
  try {
    doc = new XMLParser({ removeNSPrefix: true, ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false }).parse(xml, true);
  } catch {
    throw new DomainError('invalid', 'statement_unreadable', 'the file is not well-formed XML');
  }
  const root = doc.Document?.BkToCstmrStmt ?? doc.Document?.BkToCstmrDbtCdtNtfctn;
  if (!root) throw new DomainError('invalid', 'statement_unsupported', 'expected an ISO 20022 camt.053 or camt.054 document');
  return root as Record<string, any>;
}

/** The closing booked balances of a camt.053 file (a camt.054 notification has none). */
export function parseCamtBalances(xml: string): BankBalance[] {
  const out: BankBalance[] = [];
  for (const stmt of list<Record<string, any>>(camtRoot(xml).Stmt)) {
    const statementId = String(stmt.Id ?? '');
    for (const bal of list<Record<string, any>>(stmt.Bal)) {
      const code = bal.Tp?.CdOrPrtry?.Cd ?? bal.Tp?.CdOrPrtry?.Prtry;
      if (code !== 'CLBD') continue;
      const amt = bal.Amt;
      const currency = String(typeof amt === 'object' ? amt['@Ccy'] : '').toLowerCase();
      if (!/^[a-z]{3}$/.test(currency)) throw new DomainError('invalid', 'statement_currency_missing', 'a balance amount has no Ccy');
      const value = minor(typeof amt === 'object' ? amt['#text'] : amt);
      const asOf = String(bal.Dt?.Dt ?? bal.Dt?.DtTm ?? '').slice(0, 10);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf)) throw new DomainError('invalid', 'statement_balance_date_missing', 'a closing balance has no date');
      out.push({ statementId, currency, amount: bal.CdtDbtInd === 'DBIT' ? -value : value, asOf });
    }
  }
  return out;
}

/** The booked credits of a camt.053 (BkToCstmrStmt) or camt.054 (BkToCstmrDbtCdtNtfctn) file. */
export function parseCamt(xml: string): BankCredit[] {
  const root = camtRoot(xml);
  const out: BankCredit[] = [];
  for (const stmt of [...list(root.Stmt), ...list(root.Ntfctn)]) {
    const statementId = String(stmt.Id ?? '');
    if (!statementId) throw new DomainError('invalid', 'statement_id_missing', 'a statement has no Id');
    list<Record<string, any>>(stmt.Ntry).forEach((ntry, n) => {
      if (ntry.CdtDbtInd !== 'CRDT') return;
      const status = ntry.Sts?.Cd ?? ntry.Sts;
      if (status !== undefined && status !== 'BOOK') return;
      const amt = ntry.Amt;
      const value = typeof amt === 'object' ? amt['#text'] : amt;
      const currency = String(typeof amt === 'object' ? amt['@Ccy'] : '').toLowerCase();
      if (!/^[a-z]{3}$/.test(currency)) throw new DomainError('invalid', 'statement_currency_missing', 'an entry amount has no Ccy');
      const svcr = ntry.AcctSvcrRef ? String(ntry.AcctSvcrRef) : null;
      out.push({
        entryRef: svcr ?? `${statementId}#${ntry.NtryRef ?? n + 1}`,
        statementId,
        amount: minor(value),
        currency,
        reference: findReference(ntry),
        bookedOn: ntry.BookgDt?.Dt ?? ntry.BookgDt?.DtTm ?? null,
      });
    });
  }
  return out;
}
