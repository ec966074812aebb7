// The mini-program client's compliance parts against a scripted transport: `event: replace` replaces
// everything shown of the answer, and the complaint calls build the contract's requests.
import { describe, expect, it } from 'vitest';
import { type ChatEvent, createClient, memoryTokenStore, type TransportRequest } from '../../client/index.js';

const BASE = 'https://api.test';
const enc = new TextEncoder();

function client(answer: (req: TransportRequest) => { status: number; body: string; type?: string }) {
  const requests: TransportRequest[] = [];
  const respond = async (req: TransportRequest) => {
    requests.push(req);
    const a = answer(req);
    return { status: a.status, headers: { 'content-type': a.type ?? 'application/json' }, text: a.body };
  };
  const c = createClient({
    baseUrl: BASE,
    tokens: memoryTokenStore({ accessToken: 'acc', refreshToken: 'refresh-0123456789' }),
    transport: {
      request: respond,
      stream: async (req, sink) => {
        const res = await respond(req);
        sink.onHeaders({ status: res.status, headers: res.headers });
        // Event by event, as the network would cut it.
        for (const part of res.text.split(/(?<=\n\n)/)) sink.onChunk(enc.encode(part));
        return { status: res.status, headers: res.headers };
      },
      upload: async () => ({ status: 204, headers: {}, text: '' }),
    },
  });
  return { c, requests };
}

const NOTICE = '抱歉，这条内容未通过内容安全检查，无法回答。';

describe('event: replace', () => {
  it('replaces everything shown of the answer; the result is the replacement', async () => {
    const sse =
      'event: meta\ndata: {"conversationId":"c1","userMessageId":"m1","assistantMessageId":"m2"}\n\n' +
      'event: delta\ndata: {"text":"先说一段"}\n\n' +
      'event: delta\ndata: {"text":"然后出问题的内容"}\n\n' +
      `event: replace\ndata: ${JSON.stringify({ text: NOTICE })}\n\n` +
      'event: done\ndata: {"assistantMessageId":"m2","finishReason":"blocked","usage":{"promptTokens":3,"completionTokens":9}}\n\n';
    const { c } = client(() => ({ status: 200, body: sse, type: 'text/event-stream' }));
    // What a page would show, driven by the events alone.
    let shown = '';
    const events: ChatEvent[] = [];
    const r = await c.textChat(
      { content: '问题' },
      {
        onEvent: (e) => {
          events.push(e);
          if (e.event === 'delta') shown += e.data.text;
          if (e.event === 'replace') shown = e.data.text;
        },
      },
    );
    expect(events.map((e) => e.event)).toEqual(['meta', 'delta', 'delta', 'replace', 'done']);
    expect(shown).toBe(NOTICE);
    expect(r).toMatchObject({ text: NOTICE, finishReason: 'blocked' });
  });

  it('a replace without text is ignored like any unknown event', async () => {
    const sse =
      'event: meta\ndata: {"conversationId":"c1","userMessageId":"m1","assistantMessageId":"m2"}\n\n' +
      'event: delta\ndata: {"text":"正常回答"}\n\n' +
      'event: replace\ndata: {}\n\n' +
      'event: done\ndata: {"assistantMessageId":"m2","finishReason":"stop","usage":{"promptTokens":1,"completionTokens":1}}\n\n';
    const { c } = client(() => ({ status: 200, body: sse, type: 'text/event-stream' }));
    expect((await c.textChat({ content: '问题' })).text).toBe('正常回答');
  });
});

describe('complaints', () => {
  it('builds the contract’s URLs and bodies', async () => {
    const { c, requests } = client(() => ({ status: 200, body: '{}' }));
    await c.complaints.file({ messageId: 'm2', category: 'harmful', description: '有害' });
    await c.complaints.list();
    await c.complaints.adminList({ status: 'open', limit: 10 });
    await c.complaints.answer('c/1', { status: 'resolved', resolution: '已处理' });
    expect(requests.map((r) => `${r.method} ${r.url.slice(`${BASE}/api/v1`.length)}`)).toEqual([
      'POST /users/me/complaints',
      'GET /users/me/complaints',
      'GET /logs/complaints?status=open&limit=10',
      'PATCH /logs/complaints/c%2F1',
    ]);
    expect(JSON.parse(String(requests[0]?.body))).toEqual({
      messageId: 'm2',
      category: 'harmful',
      description: '有害',
    });
    expect(JSON.parse(String(requests[3]?.body))).toEqual({ status: 'resolved', resolution: '已处理' });
    for (const r of requests) expect(r.headers.authorization).toBe('Bearer acc');
  });
});
