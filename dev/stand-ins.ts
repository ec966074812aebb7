// The embedded defaults of the local commands, started for whatever is not configured in `env`,
// whose variables are then set to the stand-ins' addresses: the simulated model, the local
// S3-compatible store under DATA_DIR, and (for `npm run dev:vercel`, where every function is its
// own process) the embedded PGlite database owned by this process and served over the PostgreSQL
// protocol on loopback, since several processes cannot open one PGlite directory.
// WeChat (dev:<name> sign-in), the JWT secret and in-memory limits need no process: the
// configuration falls back to them by itself.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { startLocalS3 } from './local-s3/index.js';
import { startMockLlm } from './mock-llm/index.js';

export type StandIns = {
  /** One line per stand-in started, for the console. */
  started: string[];
  close(): Promise<void>;
};

export type StandInOptions = {
  dataDir: string;
  /** Serve the embedded database over TCP (functions in separate processes) when no DATABASE_URL. */
  databaseServer?: boolean;
};

export async function startStandIns(
  env: Record<string, string | undefined>,
  opts: StandInOptions,
): Promise<StandIns> {
  const started: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    if (!env.OPENAI_BASE_URL) {
      const llm = await startMockLlm({ simulated: true });
      env.OPENAI_BASE_URL = llm.baseURL;
      env.OPENAI_API_KEY ||= 'local-stand-in';
      started.push(`model: simulated stand-in at ${llm.baseURL}`);
      stops.push(() => llm.close());
    }

    if (!env.S3_ENDPOINT || !env.S3_BUCKET) {
      // Fresh keys each run: nothing outside this process tree can sign for the local bucket.
      const credentials = {
        accessKeyId: `local-${randomBytes(8).toString('hex')}`,
        secretAccessKey: randomBytes(30).toString('base64url'),
      };
      const region = env.S3_REGION || 'ap-guangzhou';
      const s3Dir = path.join(opts.dataDir, 's3');
      const s3 = await startLocalS3({ dataDir: s3Dir, region, credentials, buckets: ['local'] });
      Object.assign(env, {
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: 'local',
        S3_REGION: region,
        S3_ACCESS_KEY_ID: credentials.accessKeyId,
        S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        S3_FORCE_PATH_STYLE: 'true',
      });
      started.push(`object storage: local S3-compatible server at ${s3.endpoint} (data in ${s3Dir})`);
      stops.push(() => s3.close());
    }

    if (opts.databaseServer && !env.DATABASE_URL) {
      const db = await serveEmbeddedDatabase(path.join(opts.dataDir, 'pglite'));
      env.DATABASE_URL = db.url;
      started.push(`database: embedded PGlite served at ${db.url} (data in ${db.dir})`);
      stops.push(() => db.close());
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { started, close };
}

export type DatabaseServer = { url: string; dir: string; close(): Promise<void> };

/**
 * Opens (and migrates) the PGlite database in `dir` and serves it over the PostgreSQL wire
 * protocol on loopback with @electric-sql/pglite-socket: every function process connects to it
 * as to any PostgreSQL. Queries from all connections run one at a time, a transaction's own
 * queries first.
 */
export async function serveEmbeddedDatabase(dir: string, port?: number): Promise<DatabaseServer> {
  const { openDatabase } = await import('../lib/db/index.js');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const { PGlite } = await import('@electric-sql/pglite');
  const handle = await openDatabase({ driver: 'pglite', pgliteDir: dir });
  try {
    await handle.migrate();
    const client = (handle.db as unknown as { $client: unknown }).$client;
    if (!(client instanceof PGlite)) throw new Error('the embedded database is not a PGlite client');
    const listenPort = port ?? (await freePort());
    const server = new PGLiteSocketServer({
      db: client,
      host: '127.0.0.1',
      port: listenPort,
      // Every function keeps its own small pool.
      maxConnections: 100,
    });
    await server.start();
    return {
      url: `postgres://postgres@127.0.0.1:${listenPort}/postgres`,
      dir,
      close: async () => {
        await server.stop();
        await handle.close();
      },
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}
