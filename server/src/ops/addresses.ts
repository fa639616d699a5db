import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

/**
 * The addresses people should open, for the start banner. Listening on every interface
 * (0.0.0.0 or ::), that is each non-internal IPv4 address (what a tablet on the shop's Wi-Fi can
 * reach) plus localhost; otherwise the one host listened on.
 */
export function reachableHosts(host: string, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string[] {
  if (host !== '0.0.0.0' && host !== '::') return [host];
  const out = ['localhost'];
  for (const list of Object.values(interfaces)) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal && !out.includes(i.address)) out.push(i.address);
  }
  return out;
}

/** `scheme://host:port`, bracketing IPv6 literals. */
export function originOf(scheme: 'http' | 'https', host: string, port: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  const defaultPort = scheme === 'https' ? 443 : 80;
  return `${scheme}://${h}${port === defaultPort ? '' : `:${port}`}`;
}
