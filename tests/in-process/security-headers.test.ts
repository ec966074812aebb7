// nosniff on every answer, no-store on authenticated answers, no-cache/no-transform on streams,
// and a Content-Security-Policy on the docs page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import { createHarness, type Harness } from '../helpers/harness.js';

describe('security headers', () => {
  let h: Harness;
  let mock: MockLlm;
  let token: string;
  beforeAll(async () => {
    mock = await startMockLlm();
    h = await createHarness({
      env: { OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 't', LLM_MAX_RETRIES: '0' },
    });
    token = (await h.user('headers')).token;
  });
  afterAll(async () => {
    await h?.close();
    await mock?.close();
  });

  it('every answer carries nosniff, errors and unknown routes included', async () => {
    for (const [method, path] of [
      ['GET', '/health'],
      ['GET', '/users/me'],
      ['GET', '/nope/at/all'],
      ['GET', '/conversations/does-not-exist'],
      ['GET', '/openapi.json'],
      ['GET', '/docs'],
    ] as const) {
      const r = await h.call(method, path);
      expect(r.headers.get('x-content-type-options'), `${method} ${path}`).toBe('nosniff');
    }
    const bad = await h.call('POST', '/users/login', { raw: 'x', headers: { 'content-type': 'text/plain' } });
    expect(bad.status).toBe(415);
    expect(bad.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('authenticated JSON answers are no-store, successes and errors alike', async () => {
    for (const path of [
      '/users/me',
      '/conversations',
      '/conversations/00000000-0000-4000-8000-000000000000',
    ]) {
      const r = await h.call('GET', path, { token });
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.headers.get('cache-control'), path).toBe('no-store');
    }
    const refused = await h.call('GET', '/users/me', { token: 'not-a-token' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('cache-control')).toBe('no-store');
  });

  it('streams are no-cache, no-transform', async () => {
    mock.enqueue({ reply: '多喝水，注意休息。' });
    const r = await h.call('POST', '/text-chat', { token, body: { content: '有点口渴' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(r.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('the docs page has a Content-Security-Policy that allows no script', async () => {
    const r = await h.call('GET', '/docs');
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/script-src/);
    expect(csp).toContain("frame-ancestors 'none'");
  });
});
