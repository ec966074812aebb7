// The caller's address for per-IP limits. Only what this deployment vouches for is believed:
// the TCP peer (the socket), Vercel's own header on Vercel, or a proxy header the operator names
// with the number of proxies in front of the server. Anything else in the request is the caller's
// own say-so, and believing it would let a client rotate X-Forwarded-For to dodge the login limit.
import { isIP } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { AppContext } from './app.js';

export type AddressTrust = {
  /** Set by the platform on Vercel deployments and `vercel dev`. */
  vercel: boolean;
  /** A forwarding header the deployment's proxy sets (e.g. x-forwarded-for), lower case. */
  header?: string;
  /** How many trusted proxies append to that header; the client is that many entries from the right. */
  hops: number;
};

/** A bare IP, IPv4-mapped IPv6 unwrapped; undefined when the text is not an address. */
export function normaliseIp(raw: string | undefined): string | undefined {
  let ip = raw?.trim();
  if (!ip) return undefined;
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  const zone = ip.indexOf('%');
  if (zone > 0) ip = ip.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) ip = mapped[1];
  return isIP(ip) ? ip.toLowerCase() : undefined;
}

/**
 * The limiter key of an address. An IPv6 subscriber usually holds a whole /64 and can pick a new
 * address from it for every request, so IPv6 addresses share their /64's bucket.
 */
export function addressKey(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`;
}

/** The entry `hops` places from the right of a comma-separated forwarding header. */
export function fromForwardingHeader(value: string | undefined, hops: number): string | undefined {
  if (!value) return undefined;
  const entries = value.split(',').map((s) => s.trim());
  if (hops < 1 || entries.length < hops) return undefined;
  return normaliseIp(entries[entries.length - hops]);
}

function socketAddress(c: AppContext): string | undefined {
  try {
    // Present under @hono/node-server (`npm start`, `npm run dev`); absent for in-process fetch.
    return normaliseIp(getConnInfo(c).remote.address);
  } catch {
    return undefined;
  }
}

/** The caller's address, or undefined when nothing trustworthy names one. */
export function clientAddress(c: AppContext, trust: AddressTrust): string | undefined {
  if (trust.vercel) {
    // Vercel's edge overwrites these; the socket is only Vercel's own proxy.
    const v =
      fromForwardingHeader(c.req.header('x-vercel-forwarded-for'), 1) ??
      fromForwardingHeader(c.req.header('x-real-ip'), 1);
    if (v) return v;
  }
  if (trust.header) {
    const v = fromForwardingHeader(c.req.header(trust.header), trust.hops);
    if (v) return v;
    // No (or too short a) header: the request did not come through the proxy, so its peer is real.
  }
  return socketAddress(c);
}
