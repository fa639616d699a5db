/** JSON schemas shared by route files; they validate requests and feed the OpenAPI document. */
export const metadataSchema = {
  type: 'object',
  description: 'Up to 20 string values under keys of at most 40 characters, yours to use.',
  maxProperties: 20,
  additionalProperties: { type: 'string', maxLength: 500 },
} as const;

export const amountSchema = {
  type: 'integer',
  minimum: 1,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'In minor units (cents): 1050 is 10.50.',
} as const;

export const currencySchema = { type: 'string', pattern: '^[a-zA-Z]{3}$', description: 'ISO 4217 code, e.g. usd.' } as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

/** Query strings stay strings (no type coercion anywhere), so numbers are checked by pattern and parsed. */
export function listQuery(extra: Record<string, unknown> = {}) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'string', pattern: '^(100|[1-9][0-9]?)$', description: 'Page size, 1 to 100 (default 10).' },
      cursor: { type: 'string', maxLength: 128, description: 'The next_cursor of the previous page.' },
      ...extra,
    },
  } as const;
}

export function pageArgs(q: unknown): { limit: number; cursor: string | undefined } {
  const query = (q ?? {}) as { limit?: string; cursor?: string };
  return { limit: query.limit === undefined ? 10 : Number(query.limit), cursor: query.cursor };
}

export function listBody<T>(page: { data: T[]; hasMore: boolean; nextCursor: string | null }, map: (t: T) => unknown) {
  return { object: 'list', data: page.data.map(map), has_more: page.hasMore, next_cursor: page.nextCursor };
}

/**
 * A domain object's keys in the API's snake_case, all the way down (arrays and nested objects);
 * values are left as they are. For objects whose keys are all plain identifiers (rewards, events).
 */
export function snakeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snakeKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeKeys(x)]));
}

/** The inverse for request bodies: `min_spend` becomes `minSpend`. */
export function camelKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), camelKeys(x)]));
}
