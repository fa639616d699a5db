/**
 * Calls to the operator API (`/v1/operator/...`) with an operator session token, which the console
 * holds in memory only (a reload signs out), never in storage or a cookie.
 */
import { ApiError } from '../api.ts';

export interface OperatorMe {
  id: string;
  name: string;
  email: string;
  role: 'desk' | 'admin';
}

async function send(token: string | undefined, method: string, path: string, body?: unknown, key?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (key) headers['idempotency-key'] = key;
  return fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}

async function fail(r: Response): Promise<never> {
  const text = await r.text();
  let e: { code?: string; message?: string; details?: Record<string, unknown> } = {};
  try {
    e = ((JSON.parse(text) as { error?: typeof e }).error ?? {}) as typeof e;
  } catch {
    e = {};
  }
  throw new ApiError(r.status, e.code ?? `http_${r.status}`, e.message ?? r.statusText, e.details);
}

export async function opsCall<T>(token: string | undefined, method: string, path: string, body?: unknown, key?: string): Promise<T> {
  const r = await send(token, method, path, body, key);
  if (!r.ok) return fail(r);
  const text = await r.text();
  return (text === '' ? {} : JSON.parse(text)) as T;
}

/** Fetches a file the operator API serves (it needs the bearer token, so a plain link cannot) and saves it. */
export async function opsDownload(token: string, path: string, filename: string): Promise<void> {
  const r = await send(token, 'GET', path);
  if (!r.ok) return fail(r);
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
