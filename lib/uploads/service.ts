// Uploads: the phone sends the image straight to object storage with a signed form, then asks us
// to complete it. Completing trusts nothing the client said: size, type and content are read back
// from storage, the image is decoded and re-encoded without metadata, and only then is it ready.
import type { Ctx } from '../context.js';
import type { FileRow } from '../db/schema.js';
import { AppError, notFound } from '../errors.js';
import { errorFields } from '../logger.js';
import type { Runtime } from '../runtime.js';
import { ObjectTooLargeError, StorageNotConfiguredError } from '../storage/errors.js';
import { objectKey, type Storage } from '../storage/types.js';
import {
  closedWindowKeys,
  deletePendingRows,
  expiredPending,
  getOwnFile,
  insertPendingFile,
  markDeleted,
  markReady,
  stagingKey,
} from './files.js';
import { CONTENT_TYPES, normaliseContentType } from './image.js';
import type { CompletedUpload, CreateUploadInput, UploadInfo, UploadTicket } from './schemas.js';

/** Pending uploads are removed this long after their form expired (a slow network's last chance). */
export const PENDING_GRACE_MS = 60 * 60 * 1000;
/** Completing is refused well before cleanup may run, so the two never race. */
const COMPLETE_GRACE_MS = PENDING_GRACE_MS / 2;

/**
 * Staging copies re-uploaded after completion are swept for files whose window closed within this
 * span before the grace cut-off, so the sweep must run at least this often (the cron runs daily).
 */
export const STAGING_SWEEP_LOOKBACK_MS = 48 * 60 * 60 * 1000;

/** Storage trouble is an outage of a dependency, not a bug: 503, logged without keys or URLs. */
export async function storageOf(rt: Runtime): Promise<Storage> {
  try {
    return await rt.storage();
  } catch (err) {
    if (err instanceof StorageNotConfiguredError) {
      rt.log.error({ errorType: err.name }, 'object storage is not configured');
      throw new AppError('SERVICE_UNAVAILABLE', 'file storage is not available', { cause: err });
    }
    throw err;
  }
}

async function io<T>(rt: Runtime, op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError || err instanceof ObjectTooLargeError) throw err;
    rt.log.error({ op, ...errorFields(err) }, 'object storage call failed');
    throw new AppError('SERVICE_UNAVAILABLE', 'file storage is not available', { cause: err });
  }
}

export async function supportedType(contentType: string): Promise<string | undefined> {
  const type = normaliseContentType(contentType);
  const kind = CONTENT_TYPES[type];
  if (!kind) return undefined;
  if (kind === 'heif') {
    // Loads sharp, but only for HEIC requests.
    const { heicSupported } = await import('./image.js');
    if (!(await heicSupported())) return undefined;
  }
  return type;
}

/** POST /uploads: a pending file row, then a signed form (and a PUT URL) for its staging key. */
export async function createUpload(
  ctx: Ctx,
  input: Pick<CreateUploadInput, 'contentType' | 'size' | 'purpose'>,
): Promise<UploadTicket> {
  const { rt, userId } = ctx;
  const contentType = await supportedType(input.contentType);
  if (!contentType) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'only JPEG, PNG and WebP images can be uploaded');
  }
  const maxBytes = rt.config.UPLOAD_MAX_BYTES;
  if (input.size > maxBytes) {
    throw new AppError('PAYLOAD_TOO_LARGE', `images may be at most ${maxBytes} bytes`);
  }
  const storage = await storageOf(rt);
  const id = crypto.randomUUID();
  const key = objectKey(userId, id);
  const ttl = rt.config.UPLOAD_URL_TTL_SECONDS;
  const now = rt.now();
  // The row exists before any form does: nothing can reach the bucket that cleanup cannot find.
  await insertPendingFile(await rt.db(), {
    id,
    userId,
    key,
    purpose: input.purpose,
    contentType,
    size: input.size,
    uploadExpiresAt: new Date(now.getTime() + ttl * 1000),
    now,
  });
  const target = stagingKey(key);
  const [post, put] = await io(rt, 'presign', () =>
    Promise.all([
      storage.presignPost({ key: target, contentType, maxBytes, expiresSeconds: ttl }),
      storage.presignPut({ key: target, contentType, size: input.size, expiresSeconds: ttl }),
    ]),
  );
  return {
    fileId: id,
    method: 'POST',
    url: post.url,
    fields: post.fields,
    expiresAt: post.expiresAt.toISOString(),
    maxBytes,
    put: { url: put.url, headers: put.headers },
  };
}

function completed(row: FileRow): CompletedUpload {
  return {
    id: row.id,
    status: 'ready',
    contentType: row.contentType ?? row.declaredContentType,
    size: row.size ?? 0,
    width: row.width ?? 0,
    height: row.height ?? 0,
  };
}

const uploadNotFound = () => notFound('upload');

/** POST /uploads/{id}/complete: the stored bytes checked and cleaned, then the file is ready. */
export async function completeUpload(ctx: Ctx, { id: fileId }: { id: string }): Promise<CompletedUpload> {
  const { rt, userId } = ctx;
  const db = await rt.db();
  const row = await getOwnFile(db, userId, fileId);
  if (!row || row.status === 'deleted') throw uploadNotFound();
  if (row.status === 'ready') return completed(row);

  const storage = await storageOf(rt);
  const staging = stagingKey(row.key);
  const maxBytes = rt.config.UPLOAD_MAX_BYTES;
  // A concurrent complete may have finished (and removed the staging copy) meanwhile.
  const nothingStored = async (): Promise<CompletedUpload> => {
    const now = await getOwnFile(db, userId, fileId);
    if (now?.status === 'ready') return completed(now);
    if (!now || now.status === 'deleted') throw uploadNotFound();
    throw new AppError('CONFLICT', 'nothing has been uploaded for this file yet');
  };
  const refuse = async (reason: 'size' | 'too-large' | 'type' | 'decode'): Promise<never> => {
    await io(rt, 'delete', () => storage.delete(staging));
    rt.log.info({ fileId, reason }, 'upload refused');
    throw new AppError(
      'UNPROCESSABLE',
      reason === 'size' || reason === 'too-large'
        ? 'the stored file is not the declared size'
        : 'the stored file is not a supported image',
    );
  };

  // Past this, cleanup may be removing the objects: the phone must start a new upload.
  if (rt.now().getTime() > row.uploadExpiresAt.getTime() + COMPLETE_GRACE_MS) {
    throw new AppError('CONFLICT', 'the upload window has passed; please upload again');
  }

  const head = await io(rt, 'head', () => storage.head(staging));
  if (!head) return nothingStored();
  // The declared size was already held to the limit, so a bigger object is "not the declared size": 422.
  if (head.size > maxBytes) return await refuse('too-large');
  if (head.size !== row.declaredSize) return await refuse('size');

  let bytes: Uint8Array | null;
  try {
    bytes = await io(rt, 'get', () => storage.getBytes(staging, maxBytes));
  } catch (err) {
    // Replaced by a bigger file between HEAD and GET.
    if (err instanceof ObjectTooLargeError) return await refuse('too-large');
    throw err;
  }
  if (!bytes) return nothingStored();
  if (bytes.length !== row.declaredSize) return await refuse('size');

  const image = await import('./image.js');
  const kind = image.sniffImage(bytes);
  if (!kind || !(await supportedType(`image/${kind === 'heif' ? 'heic' : kind}`))) {
    return await refuse('type');
  }
  let clean: Awaited<ReturnType<typeof image.cleanImage>>;
  try {
    clean = await image.cleanImage(bytes, kind);
  } catch (err) {
    if (err instanceof image.NotAnImageError) return await refuse('decode');
    throw err;
  }

  await io(rt, 'put', () => storage.put(row.key, clean.bytes, clean.contentType));
  const ready = await markReady(db, userId, fileId, {
    contentType: clean.contentType,
    size: clean.bytes.length,
    width: clean.width,
    height: clean.height,
    now: rt.now(),
  });
  if (!ready) {
    const now = await getOwnFile(db, userId, fileId);
    if (now?.status === 'ready') return completed(now);
    // Deleted while we worked: what we just wrote must not outlive it.
    await io(rt, 'delete', () => storage.delete(row.key));
    throw uploadNotFound();
  }
  // Only after the row is ready: a concurrent complete that then finds no staging copy sees `ready`.
  await io(rt, 'delete', () => storage.delete(staging));
  return completed(ready);
}

/** GET /uploads/{id}: the caller's upload, with a short-lived read URL once it is ready. */
export async function getUpload(ctx: Ctx, { id: fileId }: { id: string }): Promise<UploadInfo> {
  const { rt, userId } = ctx;
  const row = await getOwnFile(await rt.db(), userId, fileId);
  if (!row || row.status === 'deleted') throw uploadNotFound();
  let url: string | null = null;
  let urlExpiresAt: string | null = null;
  if (row.status === 'ready') {
    const ttl = rt.config.READ_URL_TTL_SECONDS;
    const storage = await storageOf(rt);
    urlExpiresAt = new Date(Date.now() + ttl * 1000).toISOString();
    url = await io(rt, 'presign', () => storage.presignGet(row.key, ttl));
  }
  return {
    id: row.id,
    status: row.status,
    purpose: row.purpose,
    contentType: row.contentType ?? row.declaredContentType,
    size: row.size ?? row.declaredSize,
    width: row.width,
    height: row.height,
    createdAt: row.createdAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
    url,
    urlExpiresAt,
  };
}

async function removeObjects(rt: Runtime, storage: Storage, rows: Pick<FileRow, 'key'>[]): Promise<void> {
  const keys = rows.flatMap((r) => [r.key, stagingKey(r.key)]);
  for (let i = 0; i < keys.length; i += 8) {
    await io(rt, 'delete', () => Promise.all(keys.slice(i, i + 8).map((k) => storage.delete(k))));
  }
}

/**
 * DELETE /uploads/{id}: removes the object (and any staging copy) first, then marks the row: a
 * failure leaves it retryable.
 */
export async function deleteUpload(ctx: Ctx, { id: fileId }: { id: string }): Promise<void> {
  const { rt, userId } = ctx;
  const db = await rt.db();
  const row = await getOwnFile(db, userId, fileId);
  if (!row) throw uploadNotFound();
  if (row.status === 'deleted') return;
  await removeObjects(rt, await storageOf(rt), [row]);
  await markDeleted(db, userId, [row.id]);
}

/**
 * The retention job's part for uploads: pending uploads never completed, their upload window
 * closed more than an hour before `now`, lose their objects and rows; staging copies a client
 * re-uploaded after completing are removed too (`stagingSwept` counts the keys swept, present or not).
 */
export async function cleanupPendingUploads(
  rt: Runtime,
  now: Date = rt.now(),
): Promise<{ pendingRemoved: number; stagingSwept: number }> {
  const db = await rt.db();
  // Storage only when there is something to remove: a quiet run needs no bucket.
  let storage: Storage | undefined;
  const bucket = async () => {
    storage ??= await storageOf(rt);
    return storage;
  };
  const cutoff = new Date(now.getTime() - PENDING_GRACE_MS);
  let pendingRemoved = 0;
  for (;;) {
    const batch = await expiredPending(db, cutoff, 200);
    if (!batch.length) break;
    await removeObjects(rt, await bucket(), batch);
    pendingRemoved += await deletePendingRows(
      db,
      batch.map((r) => r.id),
    );
    if (batch.length < 200) break;
  }
  let stagingSwept = 0;
  const from = new Date(cutoff.getTime() - STAGING_SWEEP_LOOKBACK_MS);
  for (let after = ''; ; ) {
    const batch = await closedWindowKeys(db, from, cutoff, after, 500);
    const keys = batch.map((r) => stagingKey(r.key));
    const s = keys.length ? await bucket() : undefined;
    for (let i = 0; s && i < keys.length; i += 8) {
      await io(rt, 'delete', () => Promise.all(keys.slice(i, i + 8).map((k) => s.delete(k))));
    }
    stagingSwept += keys.length;
    const last = batch.at(-1);
    if (!last || batch.length < 500) break;
    after = last.id;
  }
  if (pendingRemoved || stagingSwept) rt.log.info({ pendingRemoved, stagingSwept }, 'uploads cleaned up');
  return { pendingRemoved, stagingSwept };
}
