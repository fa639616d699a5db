/**
 * Domain code throws DomainError and never speaks HTTP. The `kind` says what went wrong in
 * general terms; the http module alone maps kinds (and, where needed, codes) to status codes.
 * `code` is stable and documented: clients branch on it, so never rename one.
 */
export type ErrorKind =
  | 'invalid' // the request is malformed or a value is out of range
  | 'unprocessable' // well-formed, but the content cannot be used (no face in the image, ...)
  | 'unauthorized' // no or wrong credentials
  | 'forbidden' // credentials are fine but may not do this
  | 'not_found'
  | 'conflict' // state does not allow it (already refunded, idempotency key reused, ...)
  | 'too_large'
  | 'busy' // overloaded: try again later
  | 'unavailable'; // a dependency is down

export class DomainError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly details: Record<string, unknown> | undefined;
  constructor(kind: ErrorKind, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'DomainError';
    this.kind = kind;
    this.code = code;
    this.details = details;
  }
}

export function isDomainError(e: unknown): e is DomainError {
  return e instanceof DomainError;
}
