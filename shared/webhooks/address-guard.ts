/**
 * The SSRF guard: a webhook URL is resolved when it is delivered to, and every address it
 * resolves to must be public. Loopback, private, link-local (cloud metadata lives there),
 * carrier-grade NAT, multicast, documentation and reserved ranges, and IPv6 translation prefixes
 * that lead into them (SIIT, local-use NAT64), are refused unless private
 * networks are explicitly allowed (WEBHOOK_ALLOW_PRIVATE_NETWORKS, for tests and closed
 * installations). The request then connects to the checked address, so a second DNS answer
 * (rebinding) cannot redirect it.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Refused ranges, IPv4 then IPv6 (IPv4-mapped and NAT64 addresses are checked as IPv4). */
const REFUSED_IPV4: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT (Alibaba's metadata service is 100.100.100.200)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
const REFUSED_IPV6: ReadonlyArray<readonly [string, number]> = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4 (embeds an arbitrary IPv4)
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215): translates into the operator's own networks
  ['fc00::', 7], // unique local (AWS metadata is fd00:ec2::254)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

const refused = new BlockList();
for (const [net, prefix] of REFUSED_IPV4) refused.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of REFUSED_IPV6) refused.addSubnet(net, prefix, 'ipv6');

/**
 * `::ffff:0:0/96`, IPv4-translated addresses of SIIT (RFC 6145): a translator turns them into
 * IPv4 packets to any address, private ones included. Checked by bytes because BlockList
 * reads `::ffff:…` prefixes as IPv4-mapped and never matches this range.
 */
const SIIT_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0];

/** Expands an IPv6 address into its 16 bytes (accepts a trailing dotted quad). */
function ipv6Bytes(address: string): number[] {
  let text = address.split('%')[0] ?? address;
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest ? rest.split(':') : [];
  const fill = rest === undefined ? [] : Array<string>(Math.max(0, 8 - headGroups.length - restGroups.length)).fill('0');
  const bytes: number[] = [];
  for (const group of [...headGroups, ...fill, ...restGroups]) {
    const value = parseInt(group || '0', 16);
    bytes.push(value >> 8, value & 0xff);
  }
  return bytes;
}

/** The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), -compatible or NAT64 address. */
export function embeddedIPv4(address: string): string | undefined {
  const b = ipv6Bytes(address);
  if (b.length !== 16) return undefined;
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const mapped = zeros(0, 10) && b[10] === 0xff && b[11] === 0xff;
  const compatible = zeros(0, 12) && !zeros(12, 16) && !(zeros(12, 15) && b[15] === 1);
  const nat64 = b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12);
  return mapped || compatible || nat64 ? b.slice(12).join('.') : undefined;
}

/** True when `address` (an IP literal) is one a webhook must never be sent to. */
export function isRefusedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return refused.check(address, 'ipv4');
  if (family === 6) {
    const bytes = ipv6Bytes(address);
    if (SIIT_PREFIX.every((byte, i) => bytes[i] === byte)) return true;
    const v4 = embeddedIPv4(address);
    if (v4) return refused.check(v4, 'ipv4');
    return refused.check(address, 'ipv6');
  }
  return true;
}

/** Why a URL was refused: its form, a host that does not resolve, or a forbidden address. */
export type RefusalKind = 'invalid' | 'unresolvable' | 'forbidden_address';

/** A URL the guard refuses; the message is safe to show the endpoint's owner. */
export class WebhookUrlRefusedError extends Error {
  override readonly name = 'WebhookUrlRefusedError';
  readonly code = 'webhook_url_refused';
  constructor(message: string, readonly kind: RefusalKind = 'invalid') {
    super(message);
  }
}

/** Resolves a host name to every address (as `dns.lookup(host, { all: true })` does). */
export type HostResolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: HostResolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** Where one attempt connects: the URL, and the checked address to dial instead of resolving again. */
export interface DeliveryTarget {
  url: URL;
  /** Host name without IPv6 brackets (for the Host header and TLS server name). */
  hostname: string;
  address: string;
  family: 4 | 6;
}

export interface GuardOptions {
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS. */
  allowPrivate: boolean;
  /** @defaultValue the system resolver */
  resolve?: HostResolver;
  /** Which addresses are refused. @defaultValue isRefusedAddress */
  isRefused?: (address: string) => boolean;
}

/** Checks what can be checked without DNS: the scheme, credentials and the shape of the URL. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlRefusedError('The URL is not valid');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookUrlRefusedError('The URL must start with http:// or https://');
  if (url.username || url.password) throw new WebhookUrlRefusedError('The URL must not carry credentials');
  if (!url.hostname) throw new WebhookUrlRefusedError('The URL has no host');
  return url;
}

/**
 * Resolves the URL's host and checks every address; returns the first. With several addresses,
 * one refused address refuses the URL: a host that mixes public and private answers is exactly
 * how rebinding attacks look.
 */
export async function resolveDeliveryTarget(raw: string, options: GuardOptions): Promise<DeliveryTarget> {
  const url = parseWebhookUrl(raw);
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const isRefused = options.isRefused ?? isRefusedAddress;
  let addresses: Array<{ address: string; family: number }>;
  if (isIP(hostname)) {
    addresses = [{ address: hostname, family: isIP(hostname) }];
  } else {
    try {
      addresses = await (options.resolve ?? systemResolver)(hostname);
    } catch (err) {
      throw new WebhookUrlRefusedError(`The host ${hostname} does not resolve (${(err as { code?: string }).code ?? 'error'})`, 'unresolvable');
    }
    if (addresses.length === 0) throw new WebhookUrlRefusedError(`The host ${hostname} does not resolve`, 'unresolvable');
  }
  if (!options.allowPrivate) {
    const bad = addresses.find((a) => isRefused(a.address));
    if (bad) {
      throw new WebhookUrlRefusedError(
        `The host ${hostname} resolves to ${bad.address}, a loopback, private, link-local or reserved address`,
        'forbidden_address',
      );
    }
  }
  const first = addresses[0] as { address: string; family: number };
  return { url, hostname, address: first.address, family: first.family === 6 ? 6 : 4 };
}
