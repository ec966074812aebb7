import { randomUUID } from 'node:crypto';
import { Redis as UpstashRedis } from '@upstash/redis';
import { Redis as IORedis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpstashRest, type UpstashRestServer } from '../../dev/upstash-rest/index.js';
import { sha1 } from '../../lib/ratelimit/lua-compat.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOKEN = `tok-${randomUUID()}`;
const P = `test:ratelimit-rest:${randomUUID()}:`;

let rest: UpstashRestServer;
let raw: IORedis;
let client: UpstashRedis;

beforeAll(async () => {
  raw = new IORedis(REDIS_URL, { maxRetriesPerRequest: 1 });
  rest = await startUpstashRest({ redisUrl: REDIS_URL, token: TOKEN });
  client = new UpstashRedis({ url: rest.url, token: TOKEN, retry: false, enableTelemetry: false });
});

afterAll(async () => {
  await rest?.close();
  if (raw) {
    const keys = await raw.keys(`${P}*`);
    if (keys.length > 0) await raw.del(...keys);
    await raw.quit();
  }
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${rest.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

describe('local Upstash REST endpoint', () => {
  it('rejects a missing or wrong bearer token with 401', async () => {
    const none = await fetch(`${rest.url}/`, { method: 'POST', body: JSON.stringify(['PING']) });
    expect(none.status).toBe(401);
    const wrong = await post('/', ['PING'], { authorization: 'Bearer nope' });
    expect(wrong).toEqual({ status: 401, body: { error: 'Unauthorized' } });
  });

  it('answers { result } plain, and base64-encodes strings recursively when asked', async () => {
    await raw.rpush(`${P}list`, 'héllo', 'wörld');
    expect(await post('/', ['LRANGE', `${P}list`, 0, -1])).toEqual({
      status: 200,
      body: { result: ['héllo', 'wörld'] },
    });
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    expect(await post('/', ['LRANGE', `${P}list`, 0, -1], { 'upstash-encoding': 'base64' })).toEqual({
      status: 200,
      body: { result: [b64('héllo'), b64('wörld')] },
    });
    expect(await post('/', ['LLEN', `${P}list`], { 'upstash-encoding': 'base64' })).toEqual({
      status: 200,
      body: { result: 2 },
    });
    expect(await post('/', ['GET', `${P}missing`])).toEqual({ status: 200, body: { result: null } });
  });

  it('answers Redis errors as { error } with 400', async () => {
    const res = await post('/', ['INCR', `${P}list-not-int`, 'extra']);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: expect.stringContaining('wrong number of arguments') });
  });

  it('round-trips values through @upstash/redis (auto-pipelined, base64)', async () => {
    // 'abcd1234' is itself valid base64: a server ignoring Upstash-Encoding would hand back garbage.
    const [setOk, value, plain, count, hash] = await Promise.all([
      client.set(`${P}s`, 'ünïcödé ✓'),
      client.get<string>(`${P}s`),
      client.set(`${P}b`, 'abcd1234').then(() => client.get<string>(`${P}b`)),
      client.incrby(`${P}n`, 5),
      client.hset(`${P}h`, { a: 'x', b: 'y' }).then(() => client.hgetall(`${P}h`)),
    ]);
    expect(setOk).toBe('OK');
    expect(value).toBe('ünïcödé ✓');
    expect(plain).toBe('abcd1234');
    expect(count).toBe(5);
    expect(hash).toEqual({ a: 'x', b: 'y' });
    expect(await raw.get(`${P}s`)).toBe('ünïcödé ✓');
  });

  it('serves /pipeline with per-command results and errors', async () => {
    const res = await post('/pipeline', [['SET', `${P}p`, 'v'], ['GET', `${P}p`], ['NOT_A_COMMAND']]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { result: 'OK' },
      { result: 'v' },
      { error: expect.stringContaining('unknown command') },
    ]);
  });

  it('serves /multi-exec atomically through @upstash/redis', async () => {
    const result = await client.multi().set(`${P}m`, 'a').append(`${P}m`, 'b').get(`${P}m`).exec();
    expect(result).toEqual(['OK', 2, 'ab']);
  });

  it('accepts Upstash-only script shebangs via EVAL and maps EVALSHA to the rewritten script', async () => {
    const script = `#!lua flags=allow-key-locking\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`;
    await expect(client.evalsha(sha1(`${script}\n-- ${P}`), [`${P}e`], [1])).rejects.toThrow(/NOSCRIPT/);
    const unique = `${script}\n-- ${P}`;
    expect(await client.eval(unique, [`${P}e`], [2])).toBe(2);
    // The original SHA now resolves, as it would on Upstash.
    expect(await client.evalsha(sha1(unique), [`${P}e`], [3])).toBe(5);
    const loaded = await post('/', ['SCRIPT', 'LOAD', `${unique}\n-- again`]);
    expect(loaded).toEqual({ status: 200, body: { result: sha1(`${unique}\n-- again`) } });
    expect(await client.evalsha(sha1(`${unique}\n-- again`), [`${P}e`], [1])).toBe(6);
  });
});
