// Images for vision-chat: checked before any model call, then handed to the model as data URLs
// (read through storage) or as short-lived signed URLs the provider fetches. Loads neither sharp
// nor the upload signers: only the files table and Storage's read side.
import type { FileRow } from '../db/schema.js';
import { AppError, notFound } from '../errors.js';
import type { ImagePart } from '../llm/types.js';
import { errorFields } from '../logger.js';
import type { Runtime } from '../runtime.js';
import { ObjectTooLargeError } from '../storage/errors.js';
import { getOwnFiles } from './files.js';

/** Re-encoding may grow an already well-compressed PNG a little past the upload limit. */
const readLimit = (rt: Runtime) => rt.config.UPLOAD_MAX_BYTES * 2;

/**
 * The caller's images, in the order given. Unknown ids and other users' images are 404 (the same
 * answer); images not ready, deleted, not chat images, or already sent in another conversation 422.
 */
export async function checkChatImages(
  rt: Runtime,
  userId: string,
  ids: readonly string[],
  conversationId: string | undefined,
): Promise<FileRow[]> {
  const rows = await getOwnFiles(await rt.db(), userId, [...new Set(ids)]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const found = ids.map((id) => byId.get(id));
  if (found.some((r) => !r)) throw notFound('image');
  const images = found.filter((r): r is FileRow => r !== undefined);
  // Which image is wrong goes in details as its position, never as the caller's own text.
  images.forEach((r, i) => {
    const details = [{ path: `imageIds.${i}`, code: r.status !== 'ready' ? r.status : 'invalid' }];
    if (r.status !== 'ready') {
      throw new AppError(
        'UNPROCESSABLE',
        `image is ${r.status === 'pending' ? 'not completed' : 'deleted'}`,
        {
          details,
        },
      );
    }
    if (r.purpose !== 'chat-image')
      throw new AppError('UNPROCESSABLE', 'image is not a chat image', { details });
    // Deleting a conversation deletes its images: one image belongs to one conversation.
    if (r.conversationId && r.conversationId !== conversationId) {
      throw new AppError('UNPROCESSABLE', 'image belongs to another conversation', { details });
    }
    // Likewise an image read as a lab report belongs to the report.
    if (r.labReportId) throw new AppError('UNPROCESSABLE', 'image belongs to a lab report', { details });
  });
  return images;
}

/** The image_url parts for the model, per VISION_IMAGE_MODE. */
export async function imagePartsFor(rt: Runtime, images: readonly FileRow[]): Promise<ImagePart[]> {
  if (!images.length) return [];
  let storage: Awaited<ReturnType<Runtime['storage']>>;
  try {
    storage = await rt.storage();
  } catch (err) {
    rt.log.error({ ...errorFields(err) }, 'object storage is not available');
    throw new AppError('SERVICE_UNAVAILABLE', 'image storage is not available', { cause: err });
  }
  const part = async (r: FileRow): Promise<ImagePart> => {
    if (rt.config.VISION_IMAGE_MODE === 'url') {
      return {
        type: 'image_url',
        image_url: { url: await storage.presignGet(r.key, rt.config.READ_URL_TTL_SECONDS) },
      };
    }
    const bytes = await storage.getBytes(r.key, readLimit(rt));
    // Ready in the table but gone from the bucket: as good as deleted.
    if (!bytes) throw new AppError('UNPROCESSABLE', 'an image is no longer stored');
    const type = r.contentType ?? r.declaredContentType;
    return {
      type: 'image_url',
      image_url: { url: `data:${type};base64,${Buffer.from(bytes).toString('base64')}` },
    };
  };
  try {
    return await Promise.all(images.map(part));
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (err instanceof ObjectTooLargeError)
      throw new AppError('UNPROCESSABLE', 'an image is too large to send');
    rt.log.error({ fileIds: images.map((r) => r.id), ...errorFields(err) }, 'reading images failed');
    throw new AppError('SERVICE_UNAVAILABLE', 'image storage is not available', { cause: err });
  }
}
