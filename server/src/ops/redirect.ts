import { createServer, type Server } from 'node:http';

/** A Host header we are willing to echo into a Location: a name or address, an optional port. */
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(:\d{1,5})?$/;

export interface RedirectOptions {
  /** The HTTPS port to send clients to. */
  httpsPort: number;
  /** Where a Host header is missing or odd. */
  fallbackHost: string;
  /** Paths answered here instead of redirected (the CA certificate, which a tablet needs before it trusts HTTPS). */
  files?: Record<string, { type: string; body: Buffer }>;
}

/**
 * The plain-HTTP listener beside HTTPS: every request is sent to the same host and path over
 * https (308 keeps the method and body), except the CA certificate, which a tablet must be able
 * to fetch before it trusts the HTTPS side. It never runs the API itself.
 */
export function createRedirectServer(opts: RedirectOptions): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').startsWith('/') ? (req.url ?? '/') : '/';
    const file = opts.files?.[path.split('?')[0]!];
    if (file !== undefined && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return;
    }
    const given = req.headers.host;
    const name = given !== undefined && HOST.test(given) ? given.replace(/:\d+$/, '') : opts.fallbackHost;
    const port = opts.httpsPort === 443 ? '' : `:${opts.httpsPort}`;
    res.writeHead(308, { location: `https://${name}${port}${path}`, 'content-type': 'text/plain; charset=utf-8' });
    res.end('This server speaks HTTPS.\n');
  });
}
