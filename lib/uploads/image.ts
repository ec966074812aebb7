// What an uploaded file really is (magic bytes, then a full decode), and its clean re-encoding:
// EXIF orientation applied, then every metadata block (EXIF with GPS, XMP, IPTC, comments) dropped.
// sharp is imported lazily: only the uploads function ever loads it.
import type { Sharp, SharpOptions } from 'sharp';

export type ImageKind = 'jpeg' | 'png' | 'webp' | 'heif';

export const CONTENT_TYPES: Record<string, ImageKind> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/heic': 'heif',
  'image/heif': 'heif',
};

/** Common spellings phones and pickers send for the same types. */
const ALIASES: Record<string, string> = { 'image/jpg': 'image/jpeg', 'image/pjpeg': 'image/jpeg' };

export function normaliseContentType(raw: string): string {
  const t = raw.trim().toLowerCase();
  return ALIASES[t] ?? t;
}

/**
 * Decoded pixels are bounded (8,000 × 8,000): a small file can claim enormous dimensions, and a
 * function has about 1 GB of memory.
 */
export const MAX_INPUT_PIXELS = 64_000_000;

// Brands of HEVC-coded HEIF (HEIC). The generic mif1/msf1 also mark AVIF, which is not offered.
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx']);

const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to));

/** The image format the bytes start with, or undefined for anything else (PDF, script, HTML, …). */
export function sniffImage(b: Uint8Array): ImageKind | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (b.length >= 8 && png.every((x, i) => b[i] === x)) return 'png';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return 'webp';
  if (b.length >= 16 && ascii(b, 4, 8) === 'ftyp') {
    const boxSize = Math.min(b.length, ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0);
    const brands = [ascii(b, 8, 12)];
    for (let i = 16; i + 4 <= boxSize; i += 4) brands.push(ascii(b, i, i + 4));
    if (brands.some((x) => HEIC_BRANDS.has(x))) return 'heif';
  }
  return undefined;
}

type SharpFn = (input?: Uint8Array, options?: SharpOptions) => Sharp;
type SharpModule = SharpFn & {
  format: Record<string, { input?: { fileSuffix?: string[] } } | undefined>;
  cache(on: boolean): unknown;
};

let loaded: Promise<SharpModule> | undefined;

function loadSharp(): Promise<SharpModule> {
  loaded ??= import('sharp').then((m) => {
    const sharp = m.default as unknown as SharpModule;
    // One image at a time per invocation: libvips' operation cache would only hold memory.
    sharp.cache(false);
    return sharp;
  });
  return loaded;
}

/**
 * HEIC needs an HEVC decoder, which sharp's prebuilt libvips leaves out (its libheif reads AVIF
 * only); a libvips built with libde265 lists `.heic` among the heif loader's suffixes.
 */
export async function heicSupported(): Promise<boolean> {
  const sharp = await loadSharp();
  return sharp.format.heif?.input?.fileSuffix?.includes('.heic') ?? false;
}

export class NotAnImageError extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'NotAnImageError';
  }
}

export type CleanImage = {
  bytes: Uint8Array;
  contentType: string;
  width: number;
  height: number;
};

/** Decodes fully, applies the EXIF orientation, and re-encodes with no metadata at all. */
export async function cleanImage(input: Uint8Array, kind: ImageKind): Promise<CleanImage> {
  const sharp = await loadSharp();
  // failOn 'error': phone JPEGs often carry harmless decoder warnings; broken data still fails.
  const img = sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error', animated: false });
  let format: string | undefined;
  try {
    format = (await img.metadata()).format;
  } catch {
    throw new NotAnImageError('not a decodable image');
  }
  if (format !== kind) throw new NotAnImageError(`decoded as ${format ?? 'nothing'}, not ${kind}`);
  // sharp writes no metadata unless asked to (withMetadata/keepExif): nothing is carried over.
  const rotated = img.rotate();
  const encoded =
    kind === 'png'
      ? { pipeline: rotated.png(), contentType: 'image/png' }
      : kind === 'webp'
        ? { pipeline: rotated.webp({ quality: 85 }), contentType: 'image/webp' }
        : // HEIC becomes JPEG: the mini-program's <image> and most vision models cannot show HEIC.
          { pipeline: rotated.jpeg({ quality: 85 }), contentType: 'image/jpeg' };
  try {
    const { data, info } = await encoded.pipeline.toBuffer({ resolveWithObject: true });
    return { bytes: data, contentType: encoded.contentType, width: info.width, height: info.height };
  } catch {
    throw new NotAnImageError('image data is corrupt or too large');
  }
}
