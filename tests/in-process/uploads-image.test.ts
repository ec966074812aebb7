// What an upload really is, and its clean re-encoding; and uploads without storage configured.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorEnvelope } from '../../client/index.js';
import { cleanImage, heicSupported, NotAnImageError, sniffImage } from '../../lib/uploads/image.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { exifHasGps, jpegWithGps, PDF, pngImage, SCRIPT } from '../helpers/images.js';

const webp = () =>
  sharp({ create: { width: 5, height: 3, channels: 3, background: '#336699' } })
    .webp()
    .toBuffer();
const avif = () =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } })
    .avif()
    .toBuffer();

describe('sniffImage', () => {
  it('knows JPEG, PNG and WebP by their first bytes', async () => {
    expect(sniffImage(await jpegWithGps())).toBe('jpeg');
    expect(sniffImage(await pngImage())).toBe('png');
    expect(sniffImage(await webp())).toBe('webp');
  });

  it('knows HEIC by its ftyp brand, and AVIF is not HEIC', async () => {
    const heic = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\0\0\0\0mif1heic')]);
    expect(sniffImage(heic)).toBe('heif');
    expect(sniffImage(await avif())).toBeUndefined();
  });

  it('refuses everything else', () => {
    for (const b of [
      PDF,
      SCRIPT,
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
      Buffer.from('GIF89a'),
      Buffer.alloc(0),
    ]) {
      expect(sniffImage(b)).toBeUndefined();
    }
  });
});

describe('cleanImage', () => {
  it('applies the EXIF orientation and drops EXIF, GPS and XMP', async () => {
    const jpeg = await jpegWithGps();
    expect(exifHasGps((await sharp(jpeg).metadata()).exif)).toBe(true);
    const out = await cleanImage(jpeg, 'jpeg');
    expect(out).toMatchObject({ contentType: 'image/jpeg', width: 20, height: 40 });
    const meta = await sharp(Buffer.from(out.bytes)).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 20, height: 40 });
    expect(meta.exif).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(meta.orientation).toBeUndefined();
  });

  it('keeps PNG as PNG and WebP as WebP', async () => {
    expect(await cleanImage(await pngImage(7, 5), 'png')).toMatchObject({
      contentType: 'image/png',
      width: 7,
      height: 5,
    });
    expect(await cleanImage(await webp(), 'webp')).toMatchObject({
      contentType: 'image/webp',
      width: 5,
      height: 3,
    });
  });

  it('refuses bytes that do not decode as the sniffed format', async () => {
    const png = await pngImage();
    await expect(
      cleanImage(Buffer.concat([png.subarray(0, 8), Buffer.alloc(100, 1)]), 'png'),
    ).rejects.toBeInstanceOf(NotAnImageError);
    await expect(cleanImage(png, 'jpeg')).rejects.toBeInstanceOf(NotAnImageError);
    await expect(cleanImage(PDF, 'png')).rejects.toBeInstanceOf(NotAnImageError);
  });

  it('refuses an image whose dimensions would need too much memory', async () => {
    // 9,000 × 9,000 of one colour is a small file but decodes to 243 MB.
    const huge = await sharp({ create: { width: 9_000, height: 9_000, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    await expect(cleanImage(huge, 'png')).rejects.toBeInstanceOf(NotAnImageError);
  });

  it('reports whether this sharp can decode HEIC (the prebuilt one cannot)', async () => {
    const suffixes = (sharp.format as unknown as Record<string, { input: { fileSuffix?: string[] } }>).heif
      ?.input.fileSuffix;
    expect(await heicSupported()).toBe(suffixes?.includes('.heic') ?? false);
  });
});

describe('uploads without object storage configured', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  it('answers 503, naming no setting', async () => {
    const u = await h.user('nostorage');
    const r = await h.call<ErrorEnvelope>('POST', '/uploads', {
      token: u.token,
      body: { filename: 'a.png', contentType: 'image/png', size: 10, purpose: 'chat-image' },
    });
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('SERVICE_UNAVAILABLE');
    expect(r.text).not.toContain('S3_');
  });
});
