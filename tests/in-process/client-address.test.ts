// Per-IP limits key on the address the deployment vouches for: the socket unless a trusted proxy
// header is configured (or Vercel's own on Vercel). Rotating forwarding headers dodges nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressKey, fromForwardingHeader, normaliseIp } from '../../lib/http/client-address.js';
import { createHarness, type Harness, testEnv } from '../helpers/harness.js';

const LIMIT = 3;

function limitedEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const base = testEnv();
  const table: Record<string, unknown> = JSON.parse(base.RATE_LIMITS as string);
  table['login:ip'] = { limit: LIMIT };
  return { RATE_LIMITS: JSON.stringify(table), ...extra };
}

/** A login with a bad code: 401 once past the per-IP limit's check, 429 when the limit refuses. */
async function attempt(url: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(`${url}/api/v1/users/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ code: 'not-a-code' }),
  });
  await res.arrayBuffer();
  return res.status;
}

async function statuses(url: string, headers: (i: number) => Record<string, string>, n: number) {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await attempt(url, headers(i)));
  return out;
}

const rotating = (i: number) => ({
  'x-forwarded-for': `198.51.100.${i + 1}`,
  'x-real-ip': `198.51.100.${i + 1}`,
  'x-vercel-forwarded-for': `198.51.100.${i + 1}`,
});

describe('client address without any trusted header (npm start, npm run dev)', () => {
  let h: Harness;
  let url: string;
  beforeAll(async () => {
    h = await createHarness({ env: limitedEnv() });
    url = (await h.listen()).url;
  });
  afterAll(() => h?.close());

  it('rotating X-Forwarded-For, X-Real-IP and Vercel headers does not dodge the login limit', async () => {
    expect(await statuses(url, rotating, LIMIT + 2)).toEqual([401, 401, 401, 429, 429]);
  });

  it('clients without an address do not share one bucket', async () => {
    // In-process calls have no socket: each gets its own key instead of one shared "unknown".
    const out: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      out.push((await h.call('POST', '/users/login', { body: { code: 'not-a-code' } })).status);
    }
    expect(out).toEqual(Array(LIMIT + 2).fill(401));
    expect(h.logs.filter((l) => l.includes('without a client address'))).toHaveLength(1);
  });
});

describe('client address behind a configured proxy', () => {
  let h: Harness;
  let url: string;
  beforeAll(async () => {
    h = await createHarness({
      env: limitedEnv({ TRUST_PROXY_HEADER: 'X-Forwarded-For', TRUST_PROXY_HOPS: '2' }),
    });
    url = (await h.listen()).url;
  });
  afterAll(() => h?.close());

  it('takes the entry TRUST_PROXY_HOPS from the right; what the client prepends is ignored', async () => {
    // Two proxies: the outer one appended the client (203.0.113.7), the inner one the outer's address.
    const spoofed = (i: number) => ({ 'x-forwarded-for': `192.0.2.${i}, 203.0.113.7, 10.0.0.2` });
    expect(await statuses(url, spoofed, LIMIT + 1)).toEqual([401, 401, 401, 429]);
    // Another client behind the same proxies has its own bucket.
    expect(await attempt(url, { 'x-forwarded-for': '203.0.113.8, 10.0.0.2' })).toBe(401);
  });

  it('a request that skipped the proxies is keyed by its socket', async () => {
    const short = (i: number) => ({ 'x-forwarded-for': `192.0.2.${i + 50}` });
    expect(await statuses(url, short, LIMIT + 1)).toEqual([401, 401, 401, 429]);
  });
});

describe('client address on Vercel', () => {
  let h: Harness;
  let url: string;
  beforeAll(async () => {
    h = await createHarness({ env: limitedEnv({ VERCEL: '1' }) });
    url = (await h.listen()).url;
  });
  afterAll(() => h?.close());

  it("trusts Vercel's own x-vercel-forwarded-for, not X-Forwarded-For", async () => {
    const viaVercel = (i: number) => ({
      'x-vercel-forwarded-for': '203.0.113.9',
      'x-forwarded-for': `192.0.2.${i}`,
    });
    expect(await statuses(url, viaVercel, LIMIT + 1)).toEqual([401, 401, 401, 429]);
    expect(await attempt(url, { 'x-vercel-forwarded-for': '203.0.113.10' })).toBe(401);
  });
});

describe('address parsing', () => {
  it('normalises addresses and refuses anything else', () => {
    expect(normaliseIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normaliseIp(' [2001:DB8::1] ')).toBe('2001:db8::1');
    expect(normaliseIp('fe80::1%eth0')).toBe('fe80::1');
    expect(normaliseIp('unknown')).toBeUndefined();
    expect(normaliseIp('1.2.3.4:80')).toBeUndefined();
  });

  it('keys IPv6 by its /64 so one subscriber cannot rotate through its prefix', () => {
    expect(addressKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('203.0.113.1')).toBe('203.0.113.1');
  });

  it('reads the forwarding header from the right', () => {
    expect(fromForwardingHeader('1.1.1.1, 2.2.2.2', 1)).toBe('2.2.2.2');
    expect(fromForwardingHeader('1.1.1.1, 2.2.2.2', 2)).toBe('1.1.1.1');
    expect(fromForwardingHeader('2.2.2.2', 2)).toBeUndefined();
    expect(fromForwardingHeader('1.1.1.1, garbage', 1)).toBeUndefined();
  });
});
