/** The merchant's membership programme: its name, benefits, the fields it asks, currency and time zone. */
import { DomainError } from '../platform/index.ts';
import type { ProgrammeRow } from './repo.ts';
import { MEMBER_FIELDS, checkTimeZone, isMemberField, type MemberField } from './rules.ts';
import type { Programme } from './types.ts';
import { toProgramme, checkCurrency, type MembersContext } from './shared.ts';

export function programmeOps(ctx: MembersContext) {
  const { repo, clock, mustProgramme } = ctx;
  return {
    // ---- programme (merchant side) ----

    async setProgramme(
      merchantId: string,
      input: { name: string; benefits: string; fields: string[]; currency: string; timeZone: string },
    ): Promise<Programme> {
      const name = input.name.trim();
      if (name.length === 0 || name.length > 80) throw new DomainError('invalid', 'programme_name_invalid', 'Name the programme (up to 80 characters).');
      const benefits = input.benefits.trim();
      if (benefits.length > 2000) throw new DomainError('invalid', 'benefits_too_long', 'Describe the benefits in up to 2000 characters.');
      const fields: MemberField[] = [];
      for (const f of input.fields) {
        if (!isMemberField(f)) throw new DomainError('invalid', 'field_unknown', `Unknown field ${f}; ask among ${MEMBER_FIELDS.join(', ')}.`);
        if (!fields.includes(f)) fields.push(f);
      }
      fields.sort((a, b) => MEMBER_FIELDS.indexOf(a) - MEMBER_FIELDS.indexOf(b));
      const now = clock.now().getTime();
      const existing = await repo.programme(merchantId);
      const row: ProgrammeRow = {
        merchant_id: merchantId,
        name,
        benefits,
        fields: fields.join(','),
        currency: checkCurrency(input.currency),
        time_zone: checkTimeZone(input.timeZone),
        created_at: existing?.created_at ?? now,
        updated_at: now,
      };
      await repo.upsertProgramme(row);
      return toProgramme(row);
    },

    async programme(merchantId: string): Promise<Programme> {
      return toProgramme(await mustProgramme(merchantId));
    },
  };
}
