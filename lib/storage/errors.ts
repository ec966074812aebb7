// Storage failures callers tell apart. Kept out of index.ts so catching them loads no SDK.

/** The object is bigger than the caller allowed itself to read. */
export class ObjectTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`object exceeds ${maxBytes} bytes`);
    this.name = 'ObjectTooLargeError';
  }
}

/** Object storage is not configured (no S3_ENDPOINT / S3_BUCKET / keys). */
export class StorageNotConfiguredError extends Error {
  constructor(missing: string[]) {
    super(`object storage is not configured: ${missing.join(', ')}`);
    this.name = 'StorageNotConfiguredError';
  }
}
