// A WebSocket→TCP proxy, so the Neon serverless driver (production's driver) can talk to the
// plain PostgreSQL on this machine in tests and benchmarks. Only allow-listed targets are reached.
import net from 'node:net';
import { WebSocketServer } from 'ws';

export async function startNeonWsProxy(opts: { allow: string[]; port?: number }): Promise<{
  address: string;
  close(): Promise<void>;
}> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: opts.port ?? 0 });
  wss.on('connection', (ws, req) => {
    const target = new URL(req.url ?? '/', 'http://x').searchParams.get('address') ?? '';
    if (!opts.allow.includes(target)) {
      ws.close(1008, 'target not allowed');
      return;
    }
    const [host, port] = target.split(':');
    const socket = net.connect({ host, port: Number(port) });
    socket.setNoDelay(true);
    socket.on('data', (d) => ws.send(d));
    socket.on('close', () => ws.close());
    socket.on('error', () => ws.close());
    ws.on('message', (d: Buffer) => socket.write(d));
    ws.on('close', () => socket.destroy());
    ws.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const addr = wss.address();
  if (!addr || typeof addr === 'string') throw new Error('unexpected address');
  return {
    address: `127.0.0.1:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}
