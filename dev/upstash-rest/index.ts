/**
 * Local Upstash-compatible REST endpoint over a plain Redis (ioredis), for dev and tests.
 *
 *   POST /            body: ["SET", "k", "v"]           → { result } | { error }
 *   POST /pipeline    body: [["SET","k","v"], ["GET","k"]] → [{ result } | { error }, …] (not atomic)
 *   POST /multi-exec  body: same as /pipeline             → same, run in MULTI/EXEC
 *   Authorization: Bearer <token> (401 otherwise).
 *   `Upstash-Encoding: base64` → every string in results is base64-encoded, recursively; @upstash/redis
 *   always sends it and decodes results, so plain strings would come back garbled.
 *
 * EVAL/EVALSHA/SCRIPT LOAD get Upstash's `#!lua flags=allow-key-locking` shebang stripped (plain Redis
 * rejects it) with the original SHA1 mapped to the rewritten script, as real Upstash would accept it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type ChainableCommander, Redis } from 'ioredis';
import { isNoScriptError, ScriptCompat } from '../../lib/ratelimit/lua-compat.js';

export interface UpstashRestOptions {
  redisUrl: string;
  token: string;
  /** Default 0 (ephemeral port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface UpstashRestServer {
  url: string;
  close(): Promise<void>;
}

type CommandArgs = [string, ...string[]];
type Reply = { result: unknown } | { error: string };

const MAX_BODY_BYTES = 8 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function parseCommand(value: unknown): CommandArgs {
  if (!Array.isArray(value) || value.length === 0)
    throw new HttpError(400, 'ERR command must be a non-empty array');
  const args = value.map((v) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw new HttpError(400, 'ERR command arguments must be strings, numbers or booleans');
  });
  const [name, ...rest] = args;
  if (name === undefined) throw new HttpError(400, 'ERR empty command');
  return [name, ...rest];
}

function parseCommandList(value: unknown): CommandArgs[] {
  if (!Array.isArray(value)) throw new HttpError(400, 'ERR pipeline body must be an array of commands');
  return value.map(parseCommand);
}

/** Recursively turns an ioredis buffer reply into Upstash's JSON shape. */
function encode(value: unknown, base64: boolean): unknown {
  if (Buffer.isBuffer(value)) return base64 ? value.toString('base64') : value.toString('utf8');
  if (typeof value === 'string') return base64 ? Buffer.from(value).toString('base64') : value;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map((v) => encode(v, base64));
  if (value instanceof Error) return encode(value.message, base64);
  // ioredis turns HGETALL into an object even in buffer mode; Upstash answers a flat array.
  if (typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [encode(k, base64), encode(v, base64)]);
  return encode(String(value), base64);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'ERR request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

export async function startUpstashRest(opts: UpstashRestOptions): Promise<UpstashRestServer> {
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1 });
  // Errors reach callers as command failures; the listener only stops ioredis from logging each one.
  redis.on('error', () => {});
  const compat = new ScriptCompat();

  /** Rewrites script commands for plain Redis; returns the command to send and a NOSCRIPT fallback. */
  function rewrite(cmd: CommandArgs): { args: CommandArgs; fallback?: CommandArgs; reply?: unknown } {
    const [rawName, ...rest] = cmd;
    const name = rawName.toLowerCase();
    const [first, ...tail] = rest;
    if (first === undefined) return { args: cmd };
    if (name === 'eval' || name === 'eval_ro') {
      return { args: [rawName, compat.prepare(first).script, ...tail] };
    }
    if (name === 'evalsha' || name === 'evalsha_ro') {
      const known = compat.lookup(first);
      if (!known) return { args: cmd };
      const evalName = name === 'evalsha' ? 'eval' : 'eval_ro';
      return { args: [rawName, known.sha, ...tail], fallback: [evalName, known.script, ...tail] };
    }
    if (name === 'script' && first.toLowerCase() === 'load' && tail[0] !== undefined) {
      const prepared = compat.prepare(tail[0]);
      // Clients call EVALSHA with the SHA of what they sent, which lookup() maps back.
      return { args: [rawName, first, prepared.script], reply: prepared.originalSha };
    }
    return { args: cmd };
  }

  async function execOne(cmd: CommandArgs): Promise<unknown> {
    const { args, fallback, reply } = rewrite(cmd);
    try {
      const result = await redis.callBuffer(...args);
      return reply ?? result;
    } catch (error) {
      if (fallback && isNoScriptError(error)) return redis.callBuffer(...fallback);
      throw error;
    }
  }

  async function execOneReply(cmd: CommandArgs, base64: boolean): Promise<Reply> {
    try {
      return { result: encode(await execOne(cmd), base64) };
    } catch (error) {
      return { error: errorMessage(error) };
    }
  }

  // Inside MULTI there is no NOSCRIPT fallback: an unknown EVALSHA fails like it would on Redis.
  async function execMulti(cmds: CommandArgs[], base64: boolean): Promise<Reply[]> {
    let tx: ChainableCommander = redis.multi();
    const overrides: unknown[] = [];
    for (const cmd of cmds) {
      const { args, reply } = rewrite(cmd);
      overrides.push(reply);
      tx = tx.callBuffer(...args);
    }
    const results = await tx.exec();
    if (!results) throw new HttpError(400, 'EXECABORT Transaction discarded');
    return results.map(([error, result], i): Reply => {
      if (error) return { error: errorMessage(error) };
      return { result: encode(overrides[i] ?? result, base64) };
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.authorization !== `Bearer ${opts.token}`) {
      send(res, 401, { error: 'Unauthorized' });
      return;
    }
    if (req.method !== 'POST') throw new HttpError(405, 'ERR only POST is supported');
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
    if (path !== '/' && path !== '/pipeline' && path !== '/multi-exec')
      throw new HttpError(404, 'ERR not found');
    const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw new HttpError(400, 'ERR invalid JSON body');
    }
    if (path === '/') {
      const reply = await execOneReply(parseCommand(body), base64);
      send(res, 'error' in reply ? 400 : 200, reply);
    } else if (path === '/pipeline') {
      const cmds = parseCommandList(body);
      send(res, 200, await Promise.all(cmds.map((cmd) => execOneReply(cmd, base64))));
    } else {
      send(res, 200, await execMulti(parseCommandList(body), base64));
    }
  }

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      send(res, error instanceof HttpError ? error.status : 500, { error: errorMessage(error) });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
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
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    close: () => {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Keep-alive sockets would hold server.close() open indefinitely.
        for (const socket of sockets) socket.destroy();
        await closed;
        await redis.quit().catch(() => redis.disconnect());
      })();
      return closing;
    },
  };
}
