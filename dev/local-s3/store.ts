import { createHash, randomUUID } from 'node:crypto';
import type { ReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

export interface ObjectMeta {
  key: string;
  contentType: string;
  size: number;
  etag: string;
  lastModified: string;
  /** Body files get a fresh name per write, so the sidecar rename is the single commit point. */
  bodyFile: string;
}

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');
const isEnoent = (e: unknown): boolean => (e as NodeJS.ErrnoException).code === 'ENOENT';

/** Write to a temp file, fsync, then rename: readers see the old file or the new one, never a torn one. */
async function writeAtomic(target: string, data: Buffer | string): Promise<void> {
  const tmp = path.join(path.dirname(target), `.tmp-${randomUUID()}`);
  const fh = await open(tmp, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, target).catch(async (e: unknown) => {
    await rm(tmp, { force: true });
    throw e;
  });
}

export class DiskStore {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly root: string) {}

  static validBucketName(bucket: string): boolean {
    return BUCKET_RE.test(bucket);
  }

  private dir(bucket: string): string {
    return path.join(this.root, bucket);
  }

  private metaPath(bucket: string, key: string): string {
    return path.join(this.dir(bucket), `${hashKey(key)}.json`);
  }

  /** Serialises writers of one key so an overwrite never deletes the body another writer just committed. */
  private async withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.locks.set(id, settled);
    try {
      return await next;
    } finally {
      if (this.locks.get(id) === settled) this.locks.delete(id);
    }
  }

  async hasBucket(bucket: string): Promise<boolean> {
    if (!DiskStore.validBucketName(bucket)) return false;
    return stat(this.dir(bucket)).then(
      (s) => s.isDirectory(),
      () => false,
    );
  }

  /** Returns false when the bucket already existed. */
  async createBucket(bucket: string): Promise<boolean> {
    await mkdir(this.root, { recursive: true });
    try {
      await mkdir(this.dir(bucket));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  }

  /** Drops temp files and bodies no sidecar points at: the leftovers of a crash mid-write. */
  async sweep(bucket: string): Promise<void> {
    const names = await readdir(this.dir(bucket));
    const live = new Set((await this.list(bucket)).map((m) => m.bodyFile));
    const stale = names.filter((n) => n.startsWith('.tmp-') || (n.endsWith('.bin') && !live.has(n)));
    await Promise.all(stale.map((n) => rm(path.join(this.dir(bucket), n), { force: true })));
  }

  async head(bucket: string, key: string): Promise<ObjectMeta | undefined> {
    try {
      return JSON.parse(await readFile(this.metaPath(bucket, key), 'utf8')) as ObjectMeta;
    } catch (e) {
      if (isEnoent(e)) return undefined;
      throw e;
    }
  }

  async get(bucket: string, key: string): Promise<{ meta: ObjectMeta; stream: ReadStream } | undefined> {
    // A concurrent overwrite may unlink the body between reading the sidecar and opening it: retry once.
    for (let attempt = 0; attempt < 2; attempt++) {
      const meta = await this.head(bucket, key);
      if (!meta) return undefined;
      try {
        const fh = await open(path.join(this.dir(bucket), meta.bodyFile), 'r');
        return { meta, stream: fh.createReadStream() };
      } catch (e) {
        if (!isEnoent(e)) throw e;
      }
    }
    return undefined;
  }

  async put(bucket: string, key: string, body: Buffer, contentType: string): Promise<ObjectMeta> {
    return this.withLock(`${bucket}/${key}`, async () => {
      const meta: ObjectMeta = {
        key,
        contentType,
        size: body.length,
        etag: createHash('md5').update(body).digest('hex'),
        lastModified: new Date().toISOString(),
        bodyFile: `${hashKey(key)}.${randomUUID()}.bin`,
      };
      const old = await this.head(bucket, key);
      await writeAtomic(path.join(this.dir(bucket), meta.bodyFile), body);
      await writeAtomic(this.metaPath(bucket, key), JSON.stringify(meta));
      if (old) await rm(path.join(this.dir(bucket), old.bodyFile), { force: true });
      return meta;
    });
  }

  async delete(bucket: string, key: string): Promise<void> {
    await this.withLock(`${bucket}/${key}`, async () => {
      const old = await this.head(bucket, key);
      if (!old) return;
      await rm(this.metaPath(bucket, key), { force: true });
      await rm(path.join(this.dir(bucket), old.bodyFile), { force: true });
    });
  }

  /** All objects sorted by UTF-8 byte order of the key, as S3 lists them. */
  async list(bucket: string): Promise<ObjectMeta[]> {
    const names = (await readdir(this.dir(bucket))).filter((n) => n.endsWith('.json'));
    const metas: ObjectMeta[] = [];
    for (const name of names) {
      try {
        metas.push(JSON.parse(await readFile(path.join(this.dir(bucket), name), 'utf8')) as ObjectMeta);
      } catch (e) {
        if (!isEnoent(e)) throw e;
      }
    }
    return metas.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  }
}
