import type { RouteOptions } from 'fastify';
import { DEVICE_ROUTE_DOCS, deviceRouteErrors } from './device-docs.ts';

const DEVICE_HEADERS = [
  ['Facepay-Device-Id', 'The device id from activation.'],
  ['Facepay-Timestamp', 'Signing time, decimal epoch milliseconds.'],
  ['Facepay-Nonce', '16 to 64 base64url characters, new for every request.'],
  ['Facepay-Signature', 'ES256 (P1363) or Ed25519 signature of the canonical string, base64url.'],
] as const;

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request', 401: 'Not authenticated', 402: 'Payment declined', 403: 'Forbidden', 404: 'Not found', 409: 'Conflict',
  413: 'Body too large', 415: 'Not JSON', 422: 'Unprocessable', 429: 'Too many requests', 500: 'Internal error', 503: 'Unavailable',
};

/** The responses of a device route: its documented answer and each error status with its codes. */
function deviceResponses(method: string, url: string): Record<string, unknown> | undefined {
  const key = `${method.toUpperCase()} ${url}`;
  const doc = DEVICE_ROUTE_DOCS[key];
  if (doc === undefined) return undefined;
  const out: Record<string, unknown> = { '200': { description: 'OK', content: { 'application/json': { schema: doc.answer } } } };
  for (const [status, codes] of Object.entries(deviceRouteErrors(key, url !== '/device/v1/activate'))) {
    out[status] = {
      description: `${STATUS_TEXT[Number(status)] ?? 'Error'}: ${codes.map((c) => `\`${c}\``).join(', ')}`,
      'x-error-codes': codes,
      content: {
        'application/json': {
          schema: {
            allOf: [
              { $ref: '#/components/schemas/Error' },
              { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string', enum: codes } } } } },
            ],
          },
        },
      },
    };
  }
  return out;
}

interface Collected {
  method: string;
  url: string;
  auth: string | undefined;
  schema: Record<string, unknown>;
}

/** Gathers every documented route (those with a schema) as it is registered. */
export class OpenApiCollector {
  private readonly routes: Collected[] = [];

  onRoute = (r: RouteOptions): void => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    if (!r.schema || methods.includes('HEAD')) return;
    for (const m of methods) {
      this.routes.push({ method: m.toLowerCase(), url: r.url, auth: (r.config as { auth?: string } | undefined)?.auth, schema: r.schema as Record<string, unknown> });
    }
  };

  document(info: { title: string; version: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes) {
      const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
      const parameters: unknown[] = [];
      for (const where of ['params', 'querystring'] as const) {
        const s = r.schema[where] as { properties?: Record<string, Record<string, unknown>>; required?: string[] } | undefined;
        for (const [name, prop] of Object.entries(s?.properties ?? {})) {
          parameters.push({
            name,
            in: where === 'params' ? 'path' : 'query',
            required: where === 'params' || (s?.required ?? []).includes(name),
            schema: prop,
            ...(prop.description ? { description: prop.description } : {}),
          });
        }
      }
      const device = r.url.startsWith('/device/');
      const signed = device && r.url !== '/device/v1/activate';
      if (signed) {
        for (const [name, description] of DEVICE_HEADERS) parameters.push({ name, in: 'header', required: true, schema: { type: 'string' }, description });
      }
      if (r.method === 'post' && r.auth !== undefined) {
        parameters.push({
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          schema: { type: 'string', maxLength: 255 },
          description: 'Retry safely: the same key and body answer the stored response; the same key with another body is 409.',
        });
      }
      const op: Record<string, unknown> = {
        tags: r.schema.tags,
        summary: r.schema.summary,
        ...(r.schema.description ? { description: r.schema.description } : {}),
        ...(parameters.length ? { parameters } : {}),
        ...(r.schema.body ? { requestBody: { required: true, content: { 'application/json': { schema: r.schema.body } } } } : {}),
        responses: (device ? deviceResponses(r.method, r.url) : undefined) ?? {
          '200': { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } },
          default: { description: 'An error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        },
        ...(r.auth !== undefined ? { security: [{ apiKey: [] }], 'x-scope': r.auth } : signed ? { security: [{ deviceSignature: [] }] } : { security: [] }),
      };
      (paths[path] ??= {})[r.method] = op;
    }
    return {
      openapi: '3.0.3',
      info: { ...info, description: 'The Facepay merchant API. Amounts are integers in minor units; times are epoch milliseconds.' },
      servers: [{ url: '/' }],
      security: [{ apiKey: [] }],
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: sk_test_... or sk_live_...' },
          deviceSignature: {
            type: 'apiKey',
            in: 'header',
            name: 'Facepay-Signature',
            description: 'A terminal signs each request with its own key (with Facepay-Device-Id, Facepay-Timestamp and Facepay-Nonce): docs/device-protocol.md.',
          },
        },
        schemas: {
          Error: {
            type: 'object',
            required: ['error'],
            properties: {
              error: {
                type: 'object',
                required: ['code', 'message', 'request_id'],
                properties: {
                  code: { type: 'string', description: 'Stable; branch on this.' },
                  message: { type: 'string', description: 'For people; may change.' },
                  request_id: { type: 'string' },
                  retryable: { type: 'boolean', description: 'Whether the same request, sent again, can succeed: true for 408, 425, 429 and 5xx other than set-up errors such as face_engine_off.' },
                  param: { type: 'string', description: 'The parameter at fault, for validation errors.' },
                  details: { type: 'object' },
                },
              },
            },
          },
        },
      },
      paths,
    };
  }
}

const esc = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function fields(schema: Record<string, unknown> | undefined): string {
  const props = (schema?.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = (schema?.required ?? []) as string[];
  if (Object.keys(props).length === 0) return '';
  const rows = Object.entries(props)
    .map(([name, p]) => {
      const type = p.enum ? (p.enum as unknown[]).join(' | ') : p.type === 'array' ? `array of ${(p.items as { type?: string })?.type ?? 'any'}` : p.type;
      return `<tr><td><code>${esc(name)}</code>${required.includes(name) ? ' <b>required</b>' : ''}</td><td>${esc(type)}</td><td>${esc(p.description)}</td></tr>`;
    })
    .join('');
  return `<table><tr><th>field</th><th>type</th><th>about</th></tr>${rows}</table>`;
}

/** A readable reference page rendered from the OpenAPI document (no client-side code). */
export function renderDocs(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<string, Record<string, Record<string, unknown>>>;
  const byTag = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = ((op.tags as string[] | undefined) ?? ['Other'])[0]!;
      const params = ((op.parameters ?? []) as { name: string; in: string; required: boolean; description?: string; schema: Record<string, unknown> }[])
        .map((p) => `<tr><td><code>${esc(p.name)}</code> (${esc(p.in)})${p.required ? ' <b>required</b>' : ''}</td><td>${esc(p.schema.type)}</td><td>${esc(p.description)}</td></tr>`)
        .join('');
      const body = (op.requestBody as { content: Record<string, { schema: Record<string, unknown> }> } | undefined)?.content['application/json']?.schema;
      const html = `<section><h3><span class="m">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>
<p>${esc(op.summary)}${op['x-scope'] ? ` <small>scope: <code>${esc(op['x-scope'])}</code></small>` : ''}</p>
${op.description ? `<p>${esc(op.description)}</p>` : ''}
${params ? `<table><tr><th>parameter</th><th>type</th><th>about</th></tr>${params}</table>` : ''}
${body ? `<h4>Body (JSON)</h4>${fields(body)}` : ''}</section>`;
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  const info = doc.info as { title: string; version: string };
  const toc = [...byTag.keys()].map((t) => `<a href="#${esc(t)}">${esc(t)}</a>`).join(' · ');
  const sections = [...byTag.entries()].map(([t, ops]) => `<h2 id="${esc(t)}">${esc(t)}</h2>${ops.join('')}`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(info.title)} reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code{background:#f3f3f3;padding:0 .2em}table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
section{border-top:1px solid #eee;padding:.3rem 0}.m{background:#234;color:#fff;padding:0 .4em;border-radius:3px;font-size:.8em}</style></head>
<body><h1>${esc(info.title)} <small>${esc(info.version)}</small></h1>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3).</p>
<h2>Conventions</h2><ul>
<li><b>Auth</b>: <code>Authorization: Bearer sk_test_...</code>. Keys are scoped and revocable; test keys cannot touch live data helpers.</li>
<li><b>Money</b>: integers in minor units; currency as a 3-letter code.</li>
<li><b>Idempotency</b>: send <code>Idempotency-Key</code> on any POST; a retry with the same key and body gets the stored answer (header <code>Idempotent-Replayed: true</code>), the same key with another body gets 409 <code>idempotency_key_reused</code>. Keys are kept 24 hours.</li>
<li><b>Errors</b>: always <code>{"error": {"code", "message", "request_id", "param"?, "details"?}}</code>; branch on <code>code</code>. 400 bad input, 401 key, 402 payment declined, 403 scope or mode, 404 not found (also another merchant's ids), 409 state or idempotency conflict, 413 body too large, 415 not JSON.</li>
<li><b>Lists</b>: <code>?limit=1..100&amp;cursor=</code>; answers <code>{"object":"list","data","has_more","next_cursor"}</code>, newest first.</li>
<li><b>Request id</b>: every answer has a <code>request-id</code> header (send <code>X-Request-Id</code> to choose it).</li>
<li><b>Webhooks</b>: verify <code>Facepay-Signature: t=...,v1=...</code> as HMAC-SHA256 of <code>t + "." + raw body</code> with the endpoint secret, and reject old timestamps.</li>
</ul><p>${toc}</p>${sections}</body></html>`;
}
