// The object-storage interface the rest of the service codes against. lib/storage/index.ts
// implements it on @aws-sdk/client-s3 (Tencent COS, Sealos object storage, any S3).
// Object keys: users/<userId>/<fileId> — one prefix per user, so an account's objects can be
// listed and removed together.

export type PresignedPost = { url: string; fields: Record<string, string>; expiresAt: Date };
export type PresignedPut = { url: string; headers: Record<string, string>; expiresAt: Date };
export type ObjectHead = { size: number; contentType: string | undefined };

export interface Storage {
  /** The browser/wx.uploadFile form for exactly this key, content type and size range. */
  presignPost(opts: {
    key: string;
    contentType: string;
    maxBytes: number;
    expiresSeconds: number;
  }): Promise<PresignedPost>;
  presignPut(opts: {
    key: string;
    contentType: string;
    size: number;
    expiresSeconds: number;
  }): Promise<PresignedPut>;
  /** A short-lived read URL. */
  presignGet(key: string, expiresSeconds: number): Promise<string>;
  head(key: string): Promise<ObjectHead | null>;
  getBytes(key: string, maxBytes: number): Promise<Uint8Array | null>;
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Removes every object under a prefix; answers how many went. */
  deletePrefix(prefix: string): Promise<number>;
  ping(): Promise<void>;
}

export const userPrefix = (userId: string) => `users/${userId}/`;
export const objectKey = (userId: string, fileId: string) => `${userPrefix(userId)}${fileId}`;
