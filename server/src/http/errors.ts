import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isDomainError, type ErrorKind } from '../platform/index.ts';

/**
 * The one place where errors become HTTP statuses. Domain errors map by kind, with a few codes
 * that clients expect on a particular status (a declined payment is 402, as at card processors).
 */
const KIND_STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unprocessable: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  busy: 429,
  unavailable: 503,
};

const CODE_STATUS: Record<string, number> = {
  insufficient_funds: 402,
  shopper_payment_limit_exceeded: 402,
  shopper_daily_limit_exceeded: 402,
};

/** Fastify's own errors, by their code, to ours. */
const FASTIFY_ERRORS: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json', message: 'the body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json', message: 'the body is empty but the content type is JSON' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'body_too_large', message: 'the body is larger than this endpoint accepts' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', message: 'send JSON with content-type application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_content_length', message: 'content-length does not match the body' },
  FST_ERR_BAD_URL: { status: 400, code: 'invalid_url', message: 'the URL is malformed' },
};

export interface ErrorBody {
  error: { code: string; message: string; request_id: string; retryable?: boolean; param?: string; details?: Record<string, unknown> };
}

/**
 * 5xx codes that say this server is not set up for the request (a switched-off module, a missing
 * key): sending it again changes nothing until an operator acts, so a client must not loop on them.
 */
export const NOT_RETRYABLE_5XX: ReadonlySet<string> = new Set([
  'face_engine_off',
  'enrolment_unavailable',
  'devices_unavailable',
  'face_engine_failed',
  'face_calibration_missing',
  'master_key_missing',
  'data_key_missing',
]);

/**
 * Whether the same request may succeed if sent again unchanged: every 408, 425 and 429, and every
 * 5xx but those above. Error bodies carry it as `error.retryable`, and the device SDK follows it.
 */
export function isRetryable(status: number, code: string): boolean {
  if (status === 408 || status === 425 || status === 429) return true;
  return status >= 500 && !NOT_RETRYABLE_5XX.has(code);
}

export function statusForKind(kind: ErrorKind, code?: string): number {
  return (code !== undefined ? CODE_STATUS[code] : undefined) ?? KIND_STATUS[kind];
}

export function errorBody(request: FastifyRequest, code: string, message: string, extra: { param?: string; details?: Record<string, unknown> } = {}): ErrorBody {
  return { error: { code, message, request_id: request.id, ...extra } };
}

/** Validation messages from Ajv name the parameter; keep that as `param` so clients can point at the field. */
function validationError(err: FastifyError): { param: string; message: string } {
  const v = err.validation?.[0];
  const context = err.validationContext ?? 'body';
  if (!v) return { param: context, message: err.message };
  const missing = (v.params as { missingProperty?: string; additionalProperty?: string } | undefined) ?? {};
  const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const field = missing.missingProperty ?? missing.additionalProperty;
  const param = [path, field].filter((p) => p !== undefined && p !== '').join('.') || context;
  if (missing.additionalProperty !== undefined) return { param, message: `unknown parameter ${param}` };
  if (missing.missingProperty !== undefined) return { param, message: `missing required parameter ${param}` };
  return { param, message: `${param} ${v.message ?? 'is invalid'}` };
}

export function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isDomainError(err)) {
    const status = statusForKind(err.kind, err.code);
    if (status >= 500) request.log.warn({ code: err.code }, err.message);
    return reply.code(status).send(errorBody(request, err.code, err.message, err.details ? { details: err.details } : {}));
  }
  const fe = err as FastifyError;
  if (fe.validation) {
    const { param, message } = validationError(fe);
    return reply.code(400).send(errorBody(request, 'parameter_invalid', message, { param }));
  }
  const known = fe.code !== undefined ? FASTIFY_ERRORS[fe.code] : undefined;
  if (known) return reply.code(known.status).send(errorBody(request, known.code, known.message ?? fe.message));
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return reply.code(fe.statusCode).send(errorBody(request, 'bad_request', fe.message));
  }
  request.log.error({ err }, 'unhandled error');
  return reply.code(500).send(errorBody(request, 'internal_error', 'something went wrong on our side; the request id helps us find it'));
}
