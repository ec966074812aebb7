// A TCP proxy that adds a fixed delay each way and counts round trips, to see the service as it runs
// far from its database and Redis (Vercel hkg1 to Neon/Upstash in Singapore: 20–40 ms a round trip).
// A round trip is a turn of a connection: the client sends after the server last spoke (or first),
// so pipelined commands sent together count once and a reply split over several packets counts once.
// The delay can change while connections stay open, so one pool is measured at several distances.
import net from 'node:net';

export type LatencyProxy = {
  /** host:port to connect to instead of the target. */
  address: string;
  /** Milliseconds added in each direction (a round trip gains twice this). */
  setOneWayMs(ms: number): void;
  /** Round trips started so far, over every connection. */
  turns(): number;
  close(): Promise<void>;
};

export async function startLatencyProxy(target: string, oneWayMs = 0): Promise<LatencyProxy> {
  const [host = '127.0.0.1', port = '0'] = target.split(':');
  let delay = oneWayMs;
  let turns = 0;
  const sockets = new Set<net.Socket>();

  /** Forwards chunks after `delay`, in order (a constant delay keeps their order). */
  const forward = (from: net.Socket, to: net.Socket, onChunk: () => void) => {
    from.on('data', (chunk) => {
      onChunk();
      const send = () => {
        if (!to.destroyed) to.write(chunk);
      };
      if (delay > 0) setTimeout(send, delay);
      else send();
    });
    from.on('end', () => setTimeout(() => to.end(), delay));
    from.on('error', () => to.destroy());
    from.on('close', () => setTimeout(() => to.destroy(), delay));
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), host);
    sockets.add(client);
    sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    let serverSpoke = true;
    forward(client, upstream, () => {
      if (serverSpoke) turns++;
      serverSpoke = false;
    });
    forward(upstream, client, () => {
      serverSpoke = true;
    });
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${addr.port}`,
    setOneWayMs: (ms) => {
      delay = ms;
    },
    turns: () => turns,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
