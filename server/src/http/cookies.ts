import type { FastifyReply, FastifyRequest } from 'fastify';

/** The value of one cookie of the request, if sent. */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k !== name) continue;
    // A malformed value (a stray %, a NUL) is treated as no cookie: the caller is simply not signed in.
    try {
      const value = decodeURIComponent(v.join('='));
      return value.includes('\0') ? undefined : value;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Sets (or, with null, clears) a session cookie: HttpOnly so page scripts never hold the token,
 * SameSite=Strict so another site cannot send it, Secure behind HTTPS.
 */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, name: string, token: string | null, maxAgeSeconds: number): void {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  const value = token === null ? `${name}=; Max-Age=0` : `${name}=${encodeURIComponent(token)}; Max-Age=${maxAgeSeconds}`;
  reply.header('set-cookie', `${value}; Path=/; HttpOnly; SameSite=Strict${secure}`);
}
