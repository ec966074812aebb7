// The model client's completeJson against the local stand-in's JSON mode: the request asks for a
// JSON object, the stand-in answers the sample report, "not a report", broken JSON or an error, by
// queued behaviour or by [[mock:json=…]] / [[mock:status=…]] directives.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MockLlm, SAMPLE_LAB_REPORT, startMockLlm } from '../../dev/mock-llm/index.js';
import { loadConfig } from '../../lib/config/index.js';
import { createLlm } from '../../lib/llm/client.js';
import type { Llm } from '../../lib/llm/types.js';
import { extractionMessages } from '../../lib/records/extract.js';
import { testEnv } from '../helpers/harness.js';

let mock: MockLlm;
let llm: Llm;
const IMAGE = { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,AAAA' } };

beforeAll(async () => {
  mock = await startMockLlm();
  llm = createLlm(
    loadConfig(testEnv({ OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 'test', LLM_MAX_RETRIES: '0' })),
  );
});
afterAll(() => mock?.close());
beforeEach(() => mock.reset());

const ask = (extra = '') =>
  llm.completeJson({
    model: 'mock-vision',
    messages: [...extractionMessages([IMAGE]), ...(extra ? [{ role: 'user' as const, content: extra }] : [])],
    signal: new AbortController().signal,
  });

describe('completeJson against the stand-in', () => {
  it('sends response_format json_object without streaming; the stand-in answers the sample report', async () => {
    const r = await ask();
    expect(JSON.parse(r)).toEqual(SAMPLE_LAB_REPORT);
    const body = mock.requests[0]?.body as Record<string, unknown>;
    expect(body.response_format).toEqual({ type: 'json_object' });
    expect(body.stream).toBe(false);
  });

  it('queued behaviours: not a report, broken JSON', async () => {
    mock.enqueue({ json: 'notreport' }, { json: 'broken' });
    expect(JSON.parse(await ask())).toMatchObject({ isLabReport: false, items: [] });
    const broken = await ask();
    expect(() => JSON.parse(broken)).toThrow();
  });

  it('directives in any message of a JSON-mode request', async () => {
    const report: { isLabReport?: unknown } = JSON.parse(await ask('[[mock:json=notreport]]'));
    expect(report.isLabReport).toBe(false);
    const broken = await ask('[[mock:json=broken]]');
    expect(() => JSON.parse(broken)).toThrow();
    await expect(ask('[[mock:status=500]]')).rejects.toMatchObject({
      name: 'LlmError',
      code: 'UPSTREAM_ERROR',
      status: 500,
    });
  });

  it('a 500 and a timeout become LlmErrors', async () => {
    mock.enqueue({ status: 500 });
    await expect(ask()).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', status: 500 });
    mock.enqueue({ firstTokenDelayMs: 2_000 });
    await expect(
      llm.completeJson({
        model: 'mock-vision',
        messages: extractionMessages([IMAGE]),
        signal: new AbortController().signal,
        timeoutMs: 200,
      }),
    ).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
  });
});
