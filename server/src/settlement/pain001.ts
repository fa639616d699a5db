/**
 * An ISO 20022 pain.001.001.09 customer credit transfer initiation for SEPA (the EPC's SCT
 * customer-to-bank profile): one payment instruction from the operator's account, one credit
 * transfer per payout item. Built by hand: it is a fixed, small shape, and the tests validate
 * the output against the published XSD.
 */
import { amountAsDecimal } from '../platform/index.ts';
import type { PayoutItem } from './types.ts';

export interface Pain001Input {
  messageId: string;
  createdAt: number;
  /** The requested execution date, YYYY-MM-DD. */
  executionDate: string;
  debtor: { name: string; iban: string; bic: string | null };
  items: readonly PayoutItem[];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** SEPA's Latin character set: accents dropped, anything else becomes a space. */
export function sepaText(s: string, max: number): string {
  const t = s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9/\-?:().,'+ ]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max)
    .trim();
  return t.length > 0 ? t : 'NOTPROVIDED';
}

/** Minor units of euros as the file writes them (SEPA credit transfers are in euros only). */
export function decimalAmount(minor: number): string {
  return amountAsDecimal(minor, 'eur');
}

export function buildPain001(p: Pain001Input): string {
  const total = p.items.reduce((s, i) => s + BigInt(i.amount), 0n);
  const ctrl = decimalAmount(Number(total));
  const created = new Date(p.createdAt).toISOString().slice(0, 19);
  const agent = p.debtor.bic ? `<BICFI>${p.debtor.bic}</BICFI>` : '<Othr><Id>NOTPROVIDED</Id></Othr>';
  const txs = p.items
    .map(
      (i) => `
      <CdtTrfTxInf>
        <PmtId><InstrId>${esc(i.id.slice(0, 35))}</InstrId><EndToEndId>${esc(i.id.slice(0, 35))}</EndToEndId></PmtId>
        <Amt><InstdAmt Ccy="${i.currency.toUpperCase()}">${decimalAmount(i.amount)}</InstdAmt></Amt>${i.bic ? `
        <CdtrAgt><FinInstnId><BICFI>${i.bic}</BICFI></FinInstnId></CdtrAgt>` : ''}
        <Cdtr><Nm>${esc(sepaText(i.holderName, 70))}</Nm></Cdtr>
        <CdtrAcct><Id><IBAN>${i.iban}</IBAN></Id></CdtrAcct>
        <RmtInf><Ustrd>${esc(sepaText(i.kind === 'merchant' ? `Facepay settlement ${i.id}` : `Facepay wallet withdrawal ${i.partyId}`, 140))}</Ustrd></RmtInf>
      </CdtTrfTxInf>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>${esc(p.messageId.slice(0, 35))}</MsgId>
      <CreDtTm>${created}</CreDtTm>
      <NbOfTxs>${p.items.length}</NbOfTxs>
      <CtrlSum>${ctrl}</CtrlSum>
      <InitgPty><Nm>${esc(sepaText(p.debtor.name, 70))}</Nm></InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>${esc(p.messageId.slice(0, 35))}</PmtInfId>
      <PmtMtd>TRF</PmtMtd>
      <NbOfTxs>${p.items.length}</NbOfTxs>
      <CtrlSum>${ctrl}</CtrlSum>
      <PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>
      <ReqdExctnDt><Dt>${p.executionDate}</Dt></ReqdExctnDt>
      <Dbtr><Nm>${esc(sepaText(p.debtor.name, 70))}</Nm></Dbtr>
      <DbtrAcct><Id><IBAN>${p.debtor.iban}</IBAN></Id></DbtrAcct>
      <DbtrAgt><FinInstnId>${agent}</FinInstnId></DbtrAgt>
      <ChrgBr>SLEV</ChrgBr>${txs}
    </PmtInf>
  </CstmrCdtTrfInitn>
</Document>
`;
}
