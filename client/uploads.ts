// Images (/uploads): a ticket, the form straight to object storage (wx.uploadFile in the
// mini-program), then complete. `uploadImage` does the whole sequence.
import { ApiError } from './errors.js';
import { type Caller, type CallOptions, seg, signalOf } from './http.js';
import { abortedError, type Transport, type UploadFile } from './transport.js';
import type { CompletedUpload, CreateUploadRequest, Upload, UploadPurpose, UploadTicket } from './types.js';

export type UploadImageOptions = CallOptions & {
  /** Bytes; required for a file path (wx.chooseMedia gives `tempFiles[i].size`), a Blob knows its own. */
  size?: number;
  /** Default: the Blob's type, else guessed from the file name's extension. */
  contentType?: string;
  filename?: string;
  /** Default `chat-image`. */
  purpose?: UploadPurpose;
};

export interface UploadsClient {
  create(body: CreateUploadRequest, o?: CallOptions): Promise<UploadTicket>;
  complete(id: string, o?: CallOptions): Promise<CompletedUpload>;
  get(id: string, o?: CallOptions): Promise<Upload>;
  delete(id: string, o?: CallOptions): Promise<void>;
}

export interface UploadCalls {
  uploads: UploadsClient;
  /** The whole upload: ticket → the form straight to object storage → complete. */
  uploadImage(file: UploadFile, o?: UploadImageOptions): Promise<CompletedUpload>;
}

const IMAGE_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
};

function guessType(filename: string): string {
  const ext = filename.slice(filename.lastIndexOf('.') + 1).toLowerCase();
  return IMAGE_TYPES[ext] ?? 'application/octet-stream';
}

export function createUploads(call: Caller, transport: Transport): UploadCalls {
  const uploads: UploadsClient = {
    create: (body, o) => call.json({ method: 'POST', path: '/uploads', body, ...signalOf(o) }),
    complete: (id, o) => call.json({ method: 'POST', path: `/uploads/${seg(id)}/complete`, ...signalOf(o) }),
    get: (id, o) => call.json({ method: 'GET', path: `/uploads/${seg(id)}`, ...signalOf(o) }),
    delete: (id, o) => call.empty({ method: 'DELETE', path: `/uploads/${seg(id)}`, ...signalOf(o) }),
  };

  return {
    uploads,

    uploadImage: async (file, o = {}) => {
      const isPath = typeof file === 'string';
      const filename = o.filename ?? (isPath ? file.slice(file.lastIndexOf('/') + 1) || 'image' : 'image');
      const contentType = o.contentType || (isPath ? '' : file.type) || guessType(filename);
      const size = o.size ?? (isPath ? undefined : file.size);
      if (size === undefined) throw new TypeError('uploadImage: `size` is required for a file path');
      const purpose = o.purpose ?? 'chat-image';
      const ticket = await uploads.create({ filename, contentType, size, purpose }, o);
      if (o.signal?.aborted) throw abortedError();
      const stored = await transport.upload({
        url: ticket.url,
        fields: ticket.fields,
        file,
        filename,
        contentType,
        ...signalOf(o),
      });
      if (stored.status < 200 || stored.status >= 300) {
        throw new ApiError({
          status: stored.status,
          code: 'UPLOAD_FAILED',
          message: `object storage answered ${stored.status}`,
          requestId: '',
        });
      }
      return uploads.complete(ticket.fileId, o);
    },
  };
}
