/** The shopper fields a membership programme may ask for, in the order every screen lists them. */
export const MEMBER_FIELDS = ['name', 'phone', 'birthday', 'gender', 'email'] as const;
export type MemberField = (typeof MEMBER_FIELDS)[number];

export const MEMBER_FIELD_LABELS: Record<MemberField, string> = { name: 'Name', phone: 'Phone number', birthday: 'Birthday', gender: 'Gender', email: 'E-mail' };
