import { DomainError, type ErrorKind } from '../platform/index.ts';

/**
 * Every code the devices module throws, with its kind. docs/device-protocol.md lists the same
 * codes and a test holds the two together, because device makers branch on these strings.
 */
export const DEVICE_ERROR_CODES = {
  device_auth_missing: 'unauthorized',
  device_auth_malformed: 'invalid',
  device_timestamp_stale: 'unauthorized',
  device_unknown: 'unauthorized',
  device_not_activated: 'forbidden',
  device_revoked: 'forbidden',
  device_signature_invalid: 'unauthorized',
  device_nonce_reused: 'unauthorized',
  device_nonce_limit: 'busy',
  activation_code_invalid: 'unauthorized',
  activation_code_used: 'unauthorized',
  activation_code_expired: 'unauthorized',
  device_key_invalid: 'invalid',
  device_key_unsupported: 'invalid',
  device_key_in_use: 'conflict',
  store_not_found: 'not_found',
  terminal_not_found: 'not_found',
  terminal_not_pending: 'conflict',
  terminal_label_invalid: 'invalid',
} as const satisfies Record<string, ErrorKind>;

export type DeviceErrorCode = keyof typeof DEVICE_ERROR_CODES;

export function deviceError(code: DeviceErrorCode, message: string, details?: Record<string, unknown>): DomainError {
  return new DomainError(DEVICE_ERROR_CODES[code], code, message, details);
}
