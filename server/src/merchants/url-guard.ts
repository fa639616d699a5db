/**
 * Keeps webhook deliveries from reaching the inside of the network (SSRF): a target host must
 * resolve only to public unicast addresses, both when the endpoint is registered and when each
 * delivery connects. The delivery connects to the very address that was checked, so a DNS answer
 * that changes between the check and the connection (rebinding) cannot switch it.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { DomainError } from '../platform/index.ts';
import type { WebhookPoster } from './webhook-types.ts';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address a host name resolves to. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * True only for global unicast: refuses loopback, RFC 1918, unique-local fc00::/7, link-local,
 * unspecified, CGNAT 100.64/10, multicast, broadcast, reserved and documentation ranges, and the
 * IPv4-mapped IPv6 form of any of them.
 */
export function isPublicAddress(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return false;
  let addr = ipaddr.parse(ip);
  if (addr instanceof ipaddr.IPv6 && addr.isIPv4MappedAddress()) addr = addr.toIPv4Address();
  return addr.range() === 'unicast';
}

function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

function notPublic(host: string): DomainError {
  return new DomainError('invalid', 'webhook_url_not_public', `webhook host ${host} does not resolve to a public address`);
}

/** The address to connect to for `hostname`, after checking that every address it resolves to is public. */
export async function resolvePublic(hostname: string, resolver: Resolver): Promise<ResolvedAddress> {
  const host = bareHost(hostname);
  if (ipaddr.isValid(host)) {
    if (!isPublicAddress(host)) throw notPublic(host);
    return { address: host, family: host.includes(':') ? 6 : 4 };
  }
  let addrs: ResolvedAddress[];
  try {
    addrs = await resolver(host);
  } catch {
    throw new DomainError('invalid', 'webhook_url_unresolvable', `webhook host ${host} does not resolve`);
  }
  // One private answer is enough to refuse: the client could pick any of them.
  if (addrs.length === 0 || addrs.some((a) => !isPublicAddress(a.address))) throw notPublic(host);
  return addrs[0]!;
}

/**
 * Posts with node:http(s), never following redirects. Unless `allowPrivate` (tests and
 * development), the socket connects through a lookup that returns only a checked public address.
 */
export function guardedPoster(opts: { allowPrivate: boolean; resolver: Resolver }): WebhookPoster {
  const lookup: LookupFunction = (hostname, options, callback) => {
    resolvePublic(hostname, opts.resolver).then(
      (a) => (options.all ? callback(null, [a]) : callback(null, a.address, a.family)),
      (e: Error) => callback(e as NodeJS.ErrnoException, '', 0),
    );
  };
  return async (url, body, headers, timeoutMs) => {
    const u = new URL(url);
    // Node connects to an IP literal without calling `lookup`, so literals are checked here.
    if (!opts.allowPrivate && ipaddr.isValid(bareHost(u.hostname))) await resolvePublic(u.hostname, opts.resolver);
    const mod = u.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        u,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          signal: AbortSignal.timeout(timeoutMs),
          ...(opts.allowPrivate ? {} : { lookup }),
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };
}
