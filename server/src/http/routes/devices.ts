/**
 * Terminals over HTTP: the merchant-facing endpoints (create, list, revoke, new activation code)
 * and the device-facing ones (activation, `me`), plus the device-signature check that guards
 * every route under /device/ except activation, whichever route file declares it.
 */
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import type { AuthenticatedDevice, DevicesService, Terminal } from '../../devices/index.ts';
import { DomainError } from '../../platform/index.ts';
import { requireAuth } from '../auth.ts';
import { idParams } from '../schemas.ts';
import type { AppServices } from '../types.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The terminal behind a signed device request (routes under /device/). */
    device: AuthenticatedDevice | null;
    /** The exact body bytes of a signed device request, which its signature covers. */
    deviceBody: Buffer | null;
  }
}

export const DEVICE_PREFIX = '/device/';
const SIGNED =
  'Signed by the device, not by an API key: Facepay-Device-Id, Facepay-Timestamp, Facepay-Nonce and Facepay-Signature ' +
  'over method, target, timestamp, nonce and body digest, as docs/device-protocol.md describes.';
export const ACTIVATE_PATH = '/device/v1/activate';

/** Whether a route needs a device signature: everything under /device/ but activation. */
function isSignedDeviceRoute(request: FastifyRequest): boolean {
  const url = request.routeOptions.url;
  return url !== undefined && url.startsWith(DEVICE_PREFIX) && url !== ACTIVATE_PATH;
}

/** The terminal of a signed device request; for route files that add /device/ routes. */
export function requireDevice(request: FastifyRequest): AuthenticatedDevice {
  const d = request.device;
  if (!d) throw new Error(`route ${request.routeOptions.url} reads the device but is not under ${DEVICE_PREFIX}`);
  return d;
}

export function terminalResource(t: Terminal): Record<string, unknown> {
  return {
    id: t.id,
    object: 'terminal',
    store: t.storeId,
    label: t.label,
    status: t.status,
    algorithm: t.algorithm,
    key_thumbprint: t.keyThumbprint,
    created: t.createdAt,
    activated_at: t.activatedAt,
    revoked_at: t.revokedAt,
    last_seen_at: t.lastSeenAt,
  };
}

const terminalIdParams = idParams;
const storeParams = {
  type: 'object',
  required: ['store_id'],
  properties: { store_id: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

/**
 * The device-signature check, in the order that costs an attacker most and the server least:
 * headers, clock and terminal are checked before a byte of the body is read (a request without
 * them is refused at once, however large its body), then the body is read into memory up to the
 * route's limit, then the signature over those exact bytes and the nonce, and only then does
 * Fastify parse the JSON. A body that is not signed by an active terminal is never parsed.
 */
function guardDeviceRoutes(app: FastifyInstance, devices: DevicesService | undefined): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    if (!isSignedDeviceRoute(request)) return payload;
    const service = available(devices);
    const pending = await service.precheck({
      method: request.method,
      // The raw request target, exactly as the device signed it (Fastify's url is not decoded).
      path: request.url,
      headers: request.headers,
    });
    const limit = request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit ?? 1024 * 1024;
    const tooLarge = (): DomainError => new DomainError('too_large', 'body_too_large', `the body is larger than this endpoint accepts (${limit} bytes)`);
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limit) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of payload) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += b.length;
      if (size > limit) throw tooLarge();
      chunks.push(b);
    }
    request.deviceBody = Buffer.concat(chunks);
    request.device = await service.verify(pending, request.deviceBody);
    const replay = new PassThrough();
    replay.end(request.deviceBody);
    return replay;
  });

  // A route whose request never reached preParsing (none does today) is checked here, with no body.
  app.addHook('preHandler', async (request) => {
    if (!isSignedDeviceRoute(request) || request.device !== null) return;
    request.device = await available(devices).authenticate({
      method: request.method,
      path: request.url,
      headers: request.headers,
      body: request.deviceBody ?? new Uint8Array(0),
    });
  });
}

/** Without the devices service no device route may run: fail closed rather than unauthenticated. */
function available(devices: DevicesService | undefined): DevicesService {
  if (devices === undefined) throw new DomainError('unavailable', 'devices_unavailable', 'this server does not serve device requests');
  return devices;
}

/** Activation is the one unsigned device request: a code and a public key fit in far less. */
export const ACTIVATE_BODY_LIMIT = 4096;

export function registerDeviceRoutes(app: FastifyInstance, services: AppServices): void {
  app.decorateRequest('device', null);
  app.decorateRequest('deviceBody', null);
  guardDeviceRoutes(app, services.devices);
  // A suspended merchant's terminals are refused like its keys (after the signature, so the check costs an attacker a signature).
  app.addHook('preHandler', async (request) => {
    if (request.device) await services.merchants.assertActive(request.device.merchantId);
  });
  const devices = services.devices;
  if (devices === undefined) return;
  const { merchants } = services;

  app.post('/v1/terminals', {
    config: { auth: 'devices:write' },
    schema: {
      tags: ['Terminals'],
      summary: 'Create a terminal in a store',
      description:
        'The answer holds, this once, the activation code to type on the terminal (valid 24 hours, single use). ' +
        'See docs/device-protocol.md for what the terminal does with it.',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['store'],
        properties: {
          store: { type: 'string', minLength: 1, maxLength: 128, description: 'Id of one of your stores.' },
          label: { type: 'string', minLength: 1, maxLength: 100, description: 'A name for people, e.g. "Till 2".' },
        },
      },
    } as FastifySchema,
    handler: async (request) => {
      const b = request.body as { store: string; label?: string };
      const { terminal, activation } = await devices.createTerminal({
        merchantId: requireAuth(request).merchantId,
        storeId: b.store,
        ...(b.label !== undefined ? { label: b.label } : {}),
      });
      return { ...terminalResource(terminal), activation_code: activation.code, activation_code_expires_at: activation.expiresAt };
    },
  });

  app.get('/v1/stores/:store_id/terminals', {
    config: { auth: 'devices:read' },
    schema: { tags: ['Terminals'], summary: 'List the terminals of a store, oldest first', params: storeParams } as FastifySchema,
    handler: async (request) => {
      const list = await devices.listTerminals(requireAuth(request).merchantId, (request.params as { store_id: string }).store_id);
      return { object: 'list', data: list.map(terminalResource), has_more: false, next_cursor: null };
    },
  });

  app.get('/v1/terminals/:id', {
    config: { auth: 'devices:read' },
    schema: { tags: ['Terminals'], summary: 'Retrieve a terminal', params: terminalIdParams } as FastifySchema,
    handler: async (request) => terminalResource(await devices.getTerminal(requireAuth(request).merchantId, (request.params as { id: string }).id)),
  });

  app.post('/v1/terminals/:id/activation_code', {
    config: { auth: 'devices:write' },
    schema: {
      tags: ['Terminals'],
      summary: 'Issue a new activation code for a terminal not yet activated (earlier codes stop working)',
      params: terminalIdParams,
    } as FastifySchema,
    handler: async (request) => {
      const { terminal, activation } = await devices.issueActivationCode(requireAuth(request).merchantId, (request.params as { id: string }).id);
      return { ...terminalResource(terminal), activation_code: activation.code, activation_code_expires_at: activation.expiresAt };
    },
  });

  app.post('/v1/terminals/:id/revoke', {
    config: { auth: 'devices:write' },
    schema: { tags: ['Terminals'], summary: 'Revoke a terminal: its requests are refused at once, for good', params: terminalIdParams } as FastifySchema,
    handler: async (request) => terminalResource(await devices.revokeTerminal(requireAuth(request).merchantId, (request.params as { id: string }).id)),
  });

  app.post(ACTIVATE_PATH, {
    bodyLimit: ACTIVATE_BODY_LIMIT,
    schema: {
      tags: ['Device protocol'],
      summary: 'Register a terminal\'s public key with its activation code (not signed)',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'public_key'],
        properties: {
          code: { type: 'string', minLength: 1, maxLength: 32 },
          public_key: {
            description: 'A public JWK (EC P-256 or OKP Ed25519), or DER SPKI in base64url, or PEM.',
            oneOf: [{ type: 'object' }, { type: 'string', minLength: 1, maxLength: 2048 }],
          },
        },
      },
    } as FastifySchema,
    handler: async (request) => {
      const b = request.body as { code: string; public_key: unknown };
      const { terminal, serverTime } = await devices.activate({ code: b.code, publicKey: b.public_key });
      return {
        device_id: terminal.id,
        merchant_id: terminal.merchantId,
        store_id: terminal.storeId,
        algorithm: terminal.algorithm,
        key_thumbprint: terminal.keyThumbprint,
        server_time: serverTime,
      };
    },
  });

  app.get('/device/v1/me', {
    schema: {
      tags: ['Device protocol'],
      summary: 'The terminal making this signed request, as the platform sees it',
      description: SIGNED,
    } as FastifySchema,
    handler: async (request) => {
      const device = requireDevice(request);
      const terminal = await devices.deviceTerminal(device);
      const store = await merchants.getStore(device.merchantId, device.storeId);
      // A store may name its currency in its metadata; else the shoppers' wallets' currency, which
      // face and pay-code payments spend (a terminal that guessed one would charge in the wrong money).
      const named = store.metadata.currency;
      const currency = named !== undefined && /^[A-Za-z]{3}$/.test(named) ? named.toLowerCase() : services.walletCurrency;
      return {
        ...terminalResource(terminal),
        terminal_id: terminal.id,
        merchant_id: terminal.merchantId,
        store_id: terminal.storeId,
        name: terminal.label,
        store_name: store.name,
        currency,
        server_time: devices.now(),
      };
    },
  });
}
