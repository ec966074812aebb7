// Malformed ids answer 404 like unknown ones, every route that takes a body documents 413 and
// 415, and refusals never echo what the caller sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorEnvelope } from '../../client/index.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import type { OpenApiDoc } from '../helpers/openapi.js';

const UNKNOWN = '0b0f7c9e-3f1e-4a43-9a55-2c8f3b1d6e21';
const MALFORMED = ['not-an-id', 'a%00b', 'x'.repeat(80), `${UNKNOWN}x`, '%E4%BD%A0%E5%A5%BD'];

describe('ids, documented refusals, no echo', () => {
  let h: Harness;
  let token: string;
  beforeAll(async () => {
    h = await createHarness();
    token = (await h.user('contract')).token;
  });
  afterAll(() => h?.close());

  const routes: [string, (id: string) => string, unknown?][] = [
    ['GET', (id) => `/conversations/${id}`],
    ['PATCH', (id) => `/conversations/${id}`, { title: 't' }],
    ['DELETE', (id) => `/conversations/${id}`],
    ['GET', (id) => `/conversations/${id}/messages`],
    ['GET', (id) => `/uploads/${id}`],
    ['DELETE', (id) => `/uploads/${id}`],
    ['POST', (id) => `/uploads/${id}/complete`],
    ['GET', (id) => `/conversations/${UNKNOWN}/messages/${id}/stream`],
    ['POST', (id) => `/conversations/${id}/messages/${UNKNOWN}/stop`],
  ];

  it.each(routes)('%s a malformed {id} answers 404 like an unknown id', async (method, path, body) => {
    const unknown = await h.call(method, path(UNKNOWN), { token, body });
    expect(unknown.status).toBe(404);
    for (const id of MALFORMED) {
      const r = await h.call<ErrorEnvelope>(method, path(id), { token, body });
      expect([r.status, r.json.error.code], `${method} ${id}`).toEqual([404, 'NOT_FOUND']);
      expect(r.text).not.toContain(id.slice(0, 20));
    }
  });

  it('a malformed id still needs a token first', async () => {
    expect((await h.call('GET', '/conversations/not-an-id')).status).toBe(401);
  });

  it('every operation that can carry a body documents 413, and 415 unless it is a DELETE', async () => {
    const doc = (await h.call<OpenApiDoc>('GET', '/openapi.json')).json;
    const missing: string[] = [];
    let checked = 0;
    for (const [path, item] of Object.entries(
      doc.paths as Record<string, Record<string, { responses: object }>>,
    )) {
      for (const [method, op] of Object.entries(item)) {
        if (!['post', 'put', 'patch', 'delete'].includes(method)) continue;
        checked += 1;
        const codes = Object.keys(op.responses);
        if (!codes.includes('413')) missing.push(`${method} ${path} 413`);
        if (method !== 'delete' && !codes.includes('415')) missing.push(`${method} ${path} 415`);
      }
    }
    expect(checked).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it('the documented 413 and 415 are real on a route that had not listed them', async () => {
    const big = await h.call('POST', '/users/me/consents', {
      token,
      raw: JSON.stringify({ version: 'v'.repeat(1024 * 1024 + 10), accepted: true }),
      headers: { 'content-type': 'application/json' },
    });
    expect(big.status).toBe(413);
    const text = await h.call('POST', '/users/me/consents', {
      token,
      raw: 'accepted',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
  });

  it('the consent refusal does not echo the version sent', async () => {
    const version = '<img src=x onerror=alert(1)>';
    const r = await h.call<ErrorEnvelope>('POST', '/users/me/consents', {
      token,
      body: { version, accepted: true },
    });
    expect(r.status).toBe(422);
    expect(r.text).not.toContain('<img');
    expect(r.json.error.message).toContain(h.rt.config.CONSENT_VERSION);
  });
});
