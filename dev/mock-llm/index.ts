/**
 * Local OpenAI-compatible chat-completions server.
 *
 * Two uses:
 *  - tests: a model that can be slow, fail, cut off mid-stream or omit usage, driven per request
 *    through `enqueue()` / `setDefaults()`;
 *  - `npm run dev` with no model configured (`simulated: true`): streams a reply that is clearly
 *    labelled as simulated, so nobody mistakes it for real medical output.
 *
 * Fault directives may also be written into the LAST user message, so a developer can trigger
 * faults by hand from the mini-program or curl against `npm run dev`:
 *
 *   [[mock:status=500]]       answer with HTTP 500 (any 4xx/5xx; 429 adds retry-after)
 *   [[mock:cut=3]]            destroy the socket after 3 content chunks
 *   [[mock:delay=2000]]       wait 2000 ms before headers / first chunk
 *   [[mock:chunkdelay=50]]    wait 50 ms between chunks
 *   [[mock:chunk=8]]          8 characters per chunk
 *   [[mock:nousage]]          never send usage
 *   [[mock:usage=choice]]     streamed usage inside choices[0].usage, as Moonshot (Kimi) sends it
 *   [[mock:hang]]             accept the request and never answer
 *   [[mock:json=report]]      (JSON mode) answer the sample lab report (the default)
 *   [[mock:json=notreport]]   (JSON mode) answer {"isLabReport": false, …}
 *   [[mock:json=broken]]      (JSON mode) answer text that is not JSON
 *
 * JSON mode: a request with `response_format: { type: "json_object" }` (lab-report extraction,
 * see API.md's model contract) is answered with a JSON object instead of the health answer: by
 * default a small sample lab report (SAMPLE_LAB_REPORT). Directives are read from every user and
 * system message in JSON mode, since the extraction's user text is written by the server; set
 * `json` per request (enqueue) or for all (setDefaults, `--json` on the CLI) to pick the answer.
 *
 * Several may be combined, in separate tags or one: `[[mock:delay=500 cut=2]]`.
 * Precedence: a queued behaviour (enqueue) is used alone and ignores directives; otherwise
 * directives override the defaults field by field.
 *
 * The emergency classifier (lib/safety/classifier.ts: a system prompt carrying CLASSIFIER_TAG) is
 * answered apart: it never takes a queued behaviour or the defaults, is recorded in `classifications`
 * (not `requests`), and answers by a test marker in the user message:
 *
 *   [[triage:emergency:cardiac]]   {"emergency":true,"category":"cardiac"} (any category, even unknown)
 *   [[triage:unreadable]]          text that is not JSON
 *   (no marker)                    {"emergency":false,"category":null}
 *
 * `[[mock:...]]` directives still apply to it (e.g. `[[mock:delay=5000]]` to test its timeout).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type MockBehavior = {
  /** Text to stream; default: a fixed Chinese health answer (labelled when `simulated`). */
  reply?: string;
  /** Characters per delta chunk (default 4). */
  chunkSize?: number;
  /** Delay between chunks (default 0; 15 when `simulated`). */
  chunkDelayMs?: number;
  /** Delay before headers, i.e. before the first chunk. */
  firstTokenDelayMs?: number;
  /** Answer with this HTTP error and an OpenAI-style error body; 429 carries retry-after. */
  status?: number;
  /** Destroy the socket after N content chunks (no finish_reason, no [DONE]). */
  cutAfterChunks?: number;
  /** Never send usage, even if stream_options.include_usage. */
  omitUsage?: boolean;
  /**
   * Where streamed usage goes: `chunk` (OpenAI: a last chunk with empty choices and top-level
   * usage, only with stream_options.include_usage) or `choice` (Moonshot: in choices[0].usage of
   * the finishing chunk, whatever stream_options say).
   */
  usageIn?: 'chunk' | 'choice';
  /** Accept the request and never answer. */
  hang?: boolean;
  /** The answer to a JSON-mode request (response_format json_object); default `report`. */
  json?: MockJsonMode;
};

export type MockJsonMode = 'report' | 'notreport' | 'broken';

/** The lab report the stand-in "reads" from any image: real-world printed forms on purpose. */
export const SAMPLE_LAB_REPORT = {
  isLabReport: true,
  takenAt: '2026-11-20',
  institution: '模拟医院检验科',
  items: [
    {
      name: '葡萄糖',
      code: 'GLU',
      valueText: '6.8↑',
      unit: 'mmol/L',
      referenceRangeText: '3.9-6.1',
      flag: null,
    },
    {
      name: '糖化血红蛋白',
      code: null,
      valueText: '6.1',
      unit: '%',
      referenceRangeText: '4.0～6.0',
      flag: 'H',
    },
    { name: '谷丙转氨酶', code: 'ALT', valueText: '25', unit: 'U/L', referenceRangeText: '9-50', flag: null },
    {
      name: '白细胞计数',
      code: 'WBC',
      valueText: '3.2',
      unit: '10^9/L',
      referenceRangeText: '3.5-9.5',
      flag: null,
    },
    {
      name: '高密度脂蛋白胆固醇',
      code: 'HDL-C',
      valueText: '1.2',
      unit: 'mmol/L',
      referenceRangeText: '≥ 1.04',
      flag: null,
    },
    { name: '尿蛋白', code: 'PRO', valueText: '阴性', unit: null, referenceRangeText: '阴性', flag: null },
  ],
};

const NOT_A_REPORT = { isLabReport: false, takenAt: null, institution: null, items: [] };
const BROKEN_JSON = '{"isLabReport": true, "items": [{"name": "葡萄糖", "valueText": "6.8"';

export function jsonReply(mode: MockJsonMode | undefined): string {
  if (mode === 'broken') return BROKEN_JSON;
  return JSON.stringify(mode === 'notreport' ? NOT_A_REPORT : SAMPLE_LAB_REPORT);
}

export type RecordedRequest = {
  path: string;
  /** Request headers; `authorization` is replaced by a marker so secrets never land in test output. */
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body; the raw text when it was not JSON; undefined when empty. */
  body: unknown;
  at: number;
  /** True when the client closed the connection before the response ended. */
  aborted: boolean;
};

export type MockLlm = {
  baseURL: string;
  requests: RecordedRequest[];
  /** Requests of the emergency classifier (kept apart so chat tests see only their own). */
  classifications: RecordedRequest[];
  enqueue(...b: MockBehavior[]): void;
  setDefaults(b: MockBehavior): void;
  reset(): void;
  close(): Promise<void>;
};

export type StartMockLlmOptions = {
  host?: string;
  port?: number;
  defaults?: MockBehavior;
  simulated?: boolean;
};

export const SIMULATED_LABEL = '【本地模拟回复，非真实模型】';

export const MOCK_MODELS = ['mock-chat', 'mock-vision', 'mock-mini'] as const;

const REDACTED = '[redacted]';

// Fixed, generic and non-diagnostic on purpose: it may be shown to a human during development.
const HEALTH_ANSWER =
  '这是开发环境中的模拟回答，用于联调流式输出。一般建议：保持规律作息，均衡饮食，适量运动，注意补充水分。' +
  '如果症状持续、加重，或出现胸痛、呼吸困难、高热不退、意识改变等情况，请及时就医，由专业医生面诊评估。' +
  '以上内容仅供参考，不能替代医生的诊断和治疗。';

export function defaultReply(imageCount: number, simulated: boolean): string {
  const label = simulated ? SIMULATED_LABEL : '';
  // Makes a vision flow visibly exercised even though nothing looks at the pixels.
  const images = imageCount > 0 ? `已收到 ${imageCount} 张图片（模拟模式不会识别图片内容）。` : '';
  return `${label}${images}${HEALTH_ANSWER}`;
}

// CJK ideographs, kana, hangul and full-width punctuation: roughly one token each.
const CJK = /[\u2E80-\u9FFF\uAC00-\uD7AF\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFFEF]/gu;
const IMAGE_TOKENS = 85;
const MESSAGE_OVERHEAD_TOKENS = 4;

/** Deterministic token estimate: CJK chars count 1 each, other text ~4 chars per token. */
export function estimateTokens(text: string): number {
  const cjk = text.match(CJK)?.length ?? 0;
  const rest = text.replace(CJK, '').length;
  return cjk + Math.ceil(rest / 4);
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type ContentSummary = { text: string; images: number };

function summarizeContent(content: unknown): ContentSummary {
  if (typeof content === 'string') return { text: content, images: 0 };
  if (!Array.isArray(content)) return { text: '', images: 0 };
  let text = '';
  let images = 0;
  for (const part of content) {
    if (!isObject(part)) continue;
    if (part.type === 'text' && typeof part.text === 'string') text += part.text;
    else if (part.type === 'image_url') images += 1;
  }
  return { text, images };
}

function messagesOf(body: Json): Json[] {
  return Array.isArray(body.messages) ? body.messages.filter(isObject) : [];
}

function promptTokens(messages: Json[]): number {
  let total = 0;
  for (const m of messages) {
    const { text, images } = summarizeContent(m.content);
    total += MESSAGE_OVERHEAD_TOKENS + estimateTokens(text) + images * IMAGE_TOKENS;
  }
  return total;
}

function countImages(messages: Json[]): number {
  return messages.reduce((n, m) => n + summarizeContent(m.content).images, 0);
}

const DIRECTIVE_TAG = /\[\[mock:([^\]]*)\]\]/g;

/** Same value as CLASSIFIER_TAG in lib/safety/classifier.ts (the stand-in does not import app code). */
export const CLASSIFIER_TAG = 'triage-classifier/v1';
const TRIAGE_MARKER = /\[\[triage:(emergency:([a-z_]+)|unreadable)\]\]/;

function isClassifierRequest(messages: Json[]): boolean {
  return messages.some(
    (m) => m.role === 'system' && summarizeContent(m.content).text.includes(CLASSIFIER_TAG),
  );
}

/** The classifier's answer for a user message, by its `[[triage:...]]` marker (see the file header). */
export function classifierReply(text: string): string {
  const m = TRIAGE_MARKER.exec(text);
  if (m?.[1] === 'unreadable') return 'I think this might be an emergency.';
  if (m?.[2]) return JSON.stringify({ emergency: true, category: m[2] });
  return JSON.stringify({ emergency: false, category: null });
}

function toCount(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
}

/** Parses `[[mock:...]]` directives (see the file header); unknown keys are ignored. */
export function parseDirectives(text: string): MockBehavior | undefined {
  let found = false;
  const b: MockBehavior = {};
  for (const tag of text.matchAll(DIRECTIVE_TAG)) {
    found = true;
    for (const item of (tag[1] ?? '').split(/[\s,;]+/)) {
      if (item === '') continue;
      const eq = item.indexOf('=');
      const key = (eq === -1 ? item : item.slice(0, eq)).toLowerCase();
      const value = eq === -1 ? undefined : item.slice(eq + 1);
      const n = toCount(value);
      switch (key) {
        case 'status':
          if (n !== undefined && n >= 400 && n <= 599) b.status = n;
          break;
        case 'cut':
          if (n !== undefined) b.cutAfterChunks = n;
          break;
        case 'delay':
          if (n !== undefined) b.firstTokenDelayMs = n;
          break;
        case 'chunkdelay':
          if (n !== undefined) b.chunkDelayMs = n;
          break;
        case 'chunk':
          if (n !== undefined && n > 0) b.chunkSize = n;
          break;
        case 'nousage':
          b.omitUsage = true;
          break;
        case 'usage':
          if (value === 'choice' || value === 'chunk') b.usageIn = value;
          break;
        case 'hang':
          b.hang = true;
          break;
        case 'json':
          if (value === 'report' || value === 'notreport' || value === 'broken') b.json = value;
          break;
      }
    }
  }
  return found ? b : undefined;
}

function lastUserText(messages: Json[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role === 'user') return summarizeContent(m.content).text;
  }
  return '';
}

/** Every message's text, for JSON-mode directives. */
function allText(messages: Json[]): string {
  return messages.map((m) => summarizeContent(m.content).text).join('\n');
}

function errorType(status: number): { type: string; code: string | null; message: string } {
  if (status === 429)
    return { type: 'rate_limit_error', code: 'rate_limit_exceeded', message: 'Mock rate limit reached.' };
  if (status === 401)
    return { type: 'authentication_error', code: 'invalid_api_key', message: 'Mock: invalid API key.' };
  if (status >= 500) return { type: 'server_error', code: null, message: `Mock upstream error (${status}).` };
  return { type: 'invalid_request_error', code: null, message: `Mock request error (${status}).` };
}

function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Json = {}): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message?: string): void {
  const e = errorType(status);
  // retry-after lets the service's backoff logic be tested against a realistic 429.
  const headers: Json = status === 429 ? { 'retry-after': '1' } : {};
  sendJson(
    res,
    status,
    { error: { message: message ?? e.message, type: e.type, param: null, code: e.code } },
    headers,
  );
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function chunksOf(text: string, size: number): string[] {
  // Split by code point so surrogate pairs (emoji) are never torn apart.
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

export async function startMockLlm(opts: StartMockLlmOptions = {}): Promise<MockLlm> {
  const simulated = opts.simulated ?? false;
  const base: Required<Pick<MockBehavior, 'chunkSize' | 'chunkDelayMs' | 'firstTokenDelayMs'>> = {
    chunkSize: 4,
    chunkDelayMs: simulated ? 15 : 0,
    firstTokenDelayMs: 0,
  };
  let defaults: MockBehavior = { ...opts.defaults };
  const queue: MockBehavior[] = [];
  const requests: RecordedRequest[] = [];
  const classifications: RecordedRequest[] = [];
  let seq = 0;
  let closing = false;
  // Lets close() end pending delays and hanging requests at once.
  const shutdown = new AbortController();

  const pick = (messages: Json[], jsonMode: boolean): MockBehavior => {
    const queued = queue.shift();
    if (queued) return { ...base, ...defaults, ...queued };
    const text = jsonMode ? allText(messages) : lastUserText(messages);
    return { ...base, ...defaults, ...parseDirectives(text) };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const headers: RecordedRequest['headers'] = { ...req.headers };
    if (headers.authorization !== undefined) headers.authorization = REDACTED;
    const record: RecordedRequest = { path, headers, body: undefined, at: Date.now(), aborted: false };
    requests.push(record);

    // Set when we end the response ourselves (cut, shutdown) so it is not blamed on the client.
    let selfClosed = false;
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished && !selfClosed && !closing) record.aborted = true;
      gone.abort();
    });
    const signal = AbortSignal.any([gone.signal, shutdown.signal]);
    const wait = async (ms: number): Promise<boolean> => {
      if (ms > 0) await sleep(ms, undefined, { signal }).catch(() => undefined);
      return !signal.aborted;
    };

    const raw = await readBody(req);
    if (raw !== '') {
      try {
        record.body = JSON.parse(raw);
      } catch {
        record.body = raw;
        if (req.method === 'POST' && path === '/v1/chat/completions') {
          sendError(res, 400, 'Mock: request body is not valid JSON.');
          return;
        }
      }
    }

    if (req.method === 'GET' && path === '/v1/models') {
      const created = Math.floor(Date.now() / 1000);
      sendJson(res, 200, {
        object: 'list',
        data: MOCK_MODELS.map((id) => ({ id, object: 'model', created, owned_by: 'mock-llm' })),
      });
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      sendJson(res, 404, {
        error: {
          message: `Mock: no route ${req.method} ${path}`,
          type: 'not_found',
          param: null,
          code: null,
        },
      });
      return;
    }

    const body = isObject(record.body) ? record.body : {};
    const messages = messagesOf(body);
    const classifier = isClassifierRequest(messages);
    if (classifier) {
      requests.splice(requests.indexOf(record), 1);
      classifications.push(record);
    }
    // JSON mode other than the triage classifier: lab-report extraction.
    const format = isObject(body.response_format) ? body.response_format : {};
    const jsonMode = !classifier && format.type === 'json_object';
    const b = classifier
      ? {
          ...base,
          ...parseDirectives(lastUserText(messages)),
          reply: classifierReply(lastUserText(messages)),
        }
      : pick(messages, jsonMode);
    if (b.hang) return;
    if (!(await wait(b.firstTokenDelayMs ?? 0))) return;
    if (b.status !== undefined) {
      sendError(res, b.status);
      return;
    }

    const model = typeof body.model === 'string' ? body.model : MOCK_MODELS[0];
    const id = `chatcmpl-mock-${++seq}`;
    const created = Math.floor(Date.now() / 1000);
    const reply = b.reply ?? (jsonMode ? jsonReply(b.json) : defaultReply(countImages(messages), simulated));
    const pTokens = promptTokens(messages);
    const usage = (completion: string) => {
      const c = estimateTokens(completion);
      return { prompt_tokens: pTokens, completion_tokens: c, total_tokens: pTokens + c };
    };
    // Resolves once the bytes reach the socket: http corks writes until the next tick, and
    // destroying before that would silently drop chunks the caller believes were sent.
    let flushed: Promise<void> = Promise.resolve();
    const send = (data: string) => {
      flushed = new Promise((resolve) => res.write(data, () => resolve()));
    };
    const cut = async () => {
      await flushed;
      selfClosed = true;
      res.destroy();
    };

    if (body.stream !== true) {
      // A non-streaming cut can only mean "connection reset before any answer".
      if (b.cutAfterChunks !== undefined) return cut();
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: reply, refusal: null },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        ...(b.omitUsage ? {} : { usage: usage(reply) }),
      });
      return;
    }

    const streamOptions = isObject(body.stream_options) ? body.stream_options : {};
    const includeUsage = streamOptions.include_usage === true && !b.omitUsage;
    const frame = (choices: unknown[], extra: Json = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra })}\n\n`;
    const delta = (d: Json, finish: string | null) => [
      { index: 0, delta: d, logprobs: null, finish_reason: finish },
    ];

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    // Real providers also open with an empty role-only delta.
    send(frame(delta({ role: 'assistant', content: '' }, null), includeUsage ? { usage: null } : {}));

    const pieces = chunksOf(reply, Math.max(1, b.chunkSize ?? base.chunkSize));
    let sent = '';
    for (let i = 0; i < pieces.length; i++) {
      if (b.cutAfterChunks !== undefined && i >= b.cutAfterChunks) return cut();
      if (i > 0 && !(await wait(b.chunkDelayMs ?? 0))) return;
      const piece = pieces[i] ?? '';
      sent += piece;
      send(frame(delta({ content: piece }, null), includeUsage ? { usage: null } : {}));
    }
    if (b.cutAfterChunks !== undefined && pieces.length >= b.cutAfterChunks) return cut();

    if (b.usageIn === 'choice') {
      const finishing = delta({}, 'stop').map((c) => (b.omitUsage ? c : { ...c, usage: usage(sent) }));
      send(frame(finishing));
    } else {
      send(frame(delta({}, 'stop'), includeUsage ? { usage: null } : {}));
      if (includeUsage) send(frame([], { usage: usage(sent) }));
    }
    res.end('data: [DONE]\n\n');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // Never let a mock bug crash the test process; surface it as a 500 instead.
      if (!res.headersSent) sendError(res, 500, `Mock internal error: ${String(err)}`);
      else res.destroy();
    });
  });

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;

  return {
    baseURL: `http://${urlHost}:${port}/v1`,
    requests,
    classifications,
    enqueue: (...b: MockBehavior[]) => {
      queue.push(...b);
    },
    setDefaults: (b: MockBehavior) => {
      defaults = { ...b };
    },
    reset: () => {
      // Cleared in place so callers holding `requests` keep a live view.
      requests.length = 0;
      classifications.length = 0;
      queue.length = 0;
      defaults = { ...opts.defaults };
    },
    close: async () => {
      if (closing) return;
      closing = true;
      shutdown.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hanging and keep-alive sockets would otherwise keep close() waiting forever.
        server.closeAllConnections();
      });
    },
  };
}
