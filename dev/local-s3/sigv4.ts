import { createHash, createHmac, type Hash, type Hmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { crc32 } from 'node:zlib';
import { SignatureV4 } from '@smithy/signature-v4';
import { S3Error } from './errors.js';

type Bytes = string | ArrayBuffer | ArrayBufferView;
type SignableRequest = Parameters<SignatureV4['presign']>[0];
export type Query = Record<string, string | string[]>;

const toBuffer = (d: Bytes): Buffer =>
  typeof d === 'string'
    ? Buffer.from(d)
    : ArrayBuffer.isView(d)
      ? Buffer.from(d.buffer, d.byteOffset, d.byteLength)
      : Buffer.from(d);

/** node:crypto behind the hash interface @smithy/signature-v4 expects (HMAC when given a secret). */
class NodeSha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: Bytes) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: Bytes): void {
    this.h.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.h.digest();
  }
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface AuthConfig {
  region: string;
  credentials: Credentials;
  /**
   * Set when the key pair is a temporary one: COS forms signed with it must carry this token in
   * `x-cos-security-token`, as COS refuses a temporary SecretId without its token.
   */
  cosSecurityToken?: string;
}

export const createSigner = (cfg: AuthConfig): SignatureV4 =>
  new SignatureV4({
    service: 's3',
    region: cfg.region,
    credentials: cfg.credentials,
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Raw query parsing: `+` stays `+`, as SigV4 canonicalisation requires (URLSearchParams would make it a space). */
export function parseQuery(raw: string): Query {
  const out: Query = Object.create(null);
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = decode(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? '' : decode(part.slice(eq + 1));
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

export function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
  }
}

export const one = (q: Query, name: string): string | undefined => {
  const v = q[name];
  return Array.isArray(v) ? v[0] : v;
};

export function parseAmzDate(v: string | undefined): Date | undefined {
  const m = v ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v) : null;
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

/** `AK/yyyymmdd/region/s3/aws4_request`: refuse unknown keys and scopes the way S3 does. */
export function checkCredential(cfg: AuthConfig, credential: string, amzDate: string, kind: string): string {
  const [ak, date, region, service, term, ...rest] = credential.split('/');
  if (ak !== cfg.credentials.accessKeyId) {
    throw new S3Error(
      403,
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
    );
  }
  if (rest.length || service !== 's3' || term !== 'aws4_request' || date !== amzDate.slice(0, 8)) {
    throw new S3Error(400, kind, `Invalid credential scope: ${credential}`);
  }
  if (region !== cfg.region) {
    throw new S3Error(400, kind, `The authorization region '${region}' is wrong; expecting '${cfg.region}'`);
  }
  return region;
}

export interface IncomingSigned {
  method: string;
  host: string;
  rawPath: string;
  query: Query;
  headers: IncomingHttpHeaders;
}

export interface HeaderAuth {
  payloadHash: string;
  signingDate: Date;
  seedSignature: string;
}

const SKEW_MS = 15 * 60 * 1000;
const HEADER_AUTH_RE =
  /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;
const PAYLOAD_MODES =
  /^([0-9a-f]{64}|UNSIGNED-PAYLOAD|STREAMING-UNSIGNED-PAYLOAD-TRAILER|STREAMING-AWS4-HMAC-SHA256-PAYLOAD)$/;
const mismatch = () =>
  new S3Error(
    403,
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  );

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function pickHeaders(req: IncomingSigned, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = n === 'host' ? req.host : header(req.headers, n);
    if (v !== undefined) out[n] = v;
  }
  return out;
}

/** Header-signed request (Authorization: AWS4-HMAC-SHA256 …), recomputed with the SDK's own signer. */
export async function verifyHeaderAuth(
  cfg: AuthConfig,
  signer: SignatureV4,
  req: IncomingSigned,
  now: Date,
): Promise<HeaderAuth> {
  const m = HEADER_AUTH_RE.exec(header(req.headers, 'authorization') ?? '');
  if (!m) throw new S3Error(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed.');
  const [, credential, signedList, signature] = m;
  const amzDate = header(req.headers, 'x-amz-date') ?? '';
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate)
    throw new S3Error(403, 'AccessDenied', 'AWS authentication requires a valid x-amz-date header');
  const region = checkCredential(cfg, credential, amzDate, 'AuthorizationHeaderMalformed');
  if (Math.abs(now.getTime() - signingDate.getTime()) > SKEW_MS) {
    throw new S3Error(
      403,
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
    );
  }
  const payloadHash = header(req.headers, 'x-amz-content-sha256');
  if (!payloadHash) {
    throw new S3Error(
      400,
      'InvalidRequest',
      'Missing required header for this request: x-amz-content-sha256',
    );
  }
  if (!PAYLOAD_MODES.test(payloadHash)) {
    throw new S3Error(400, 'InvalidArgument', `Unsupported x-amz-content-sha256 value: ${payloadHash}`);
  }
  const signed = signedList.split(';');
  const unsigned = Object.keys(req.headers).filter((h) => h.startsWith('x-amz-') && !signed.includes(h));
  if (!signed.includes('host') || unsigned.length) {
    throw new S3Error(403, 'AccessDenied', 'There were headers present in the request which were not signed');
  }
  const request: SignableRequest = {
    method: req.method,
    protocol: 'http:',
    hostname: req.host,
    path: req.rawPath,
    query: req.query,
    headers: pickHeaders(req, signed),
  };
  const out = await signer.sign(request, {
    signingDate,
    signingRegion: region,
    signingService: 's3',
    signableHeaders: new Set(signed),
  });
  const expected = /Signature=([0-9a-f]{64})$/.exec(String(out.headers.authorization))?.[1] ?? '';
  if (!safeEqual(expected, signature)) throw mismatch();
  return { payloadHash, signingDate, seedSignature: signature };
}

const QUERY_AUTH = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
];

/** Query-presigned URL (getSignedUrl): expiry first, then the signature recomputed with `presign`. */
export async function verifyQueryAuth(
  cfg: AuthConfig,
  signer: SignatureV4,
  req: IncomingSigned,
  now: Date,
): Promise<void> {
  const [algorithm, credential, amzDate, expires, signedList] = QUERY_AUTH.map((n) => one(req.query, n));
  const signature = one(req.query, 'X-Amz-Signature');
  const kind = 'AuthorizationQueryParametersError';
  if (algorithm !== 'AWS4-HMAC-SHA256' || !credential || !amzDate || !expires || !signedList || !signature) {
    throw new S3Error(
      400,
      kind,
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  const signingDate = parseAmzDate(amzDate);
  const expiresIn = /^\d{1,6}$/.test(expires) ? Number(expires) : Number.NaN;
  if (!signingDate)
    throw new S3Error(400, kind, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  if (!(expiresIn >= 1 && expiresIn <= 604800)) {
    throw new S3Error(400, kind, 'X-Amz-Expires must be between 1 and 604800 seconds');
  }
  const region = checkCredential(cfg, credential, amzDate, kind);
  if (now.getTime() > signingDate.getTime() + expiresIn * 1000)
    throw new S3Error(403, 'AccessDenied', 'Request has expired');
  if (signingDate.getTime() - now.getTime() > SKEW_MS)
    throw new S3Error(403, 'AccessDenied', 'Request is not valid yet');
  const signed = signedList.split(';');
  if (!signed.includes('host')) throw new S3Error(400, kind, 'X-Amz-SignedHeaders must include host');
  // presign() hoists x-amz-* headers into the query, so hand it the client's hoisted params back as headers.
  const query: Query = Object.create(null);
  const headers = pickHeaders(req, signed);
  for (const [k, v] of Object.entries(req.query)) {
    const lower = k.toLowerCase();
    if (lower === 'x-amz-signature' || QUERY_AUTH.some((n) => n.toLowerCase() === lower)) continue;
    if (lower.startsWith('x-amz-') && typeof v === 'string') headers[k] = v;
    else query[k] = v;
  }
  const hoisted = Object.keys(headers).some((h) => h.toLowerCase() === 'x-amz-content-sha256');
  // Presigned payloads are always UNSIGNED-PAYLOAD, even when the client did not put it in the URL.
  if (!hoisted) headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  const keepInHeaders = new Set([...signed.filter((h) => h.startsWith('x-amz-')), 'x-amz-content-sha256']);
  const out = await signer.presign(
    { method: req.method, protocol: 'http:', hostname: req.host, path: req.rawPath, query, headers },
    {
      signingDate,
      expiresIn,
      signingRegion: region,
      signingService: 's3',
      signableHeaders: new Set(signed),
      unsignableHeaders: hoisted ? undefined : new Set(['x-amz-content-sha256']),
      unhoistableHeaders: hoisted ? new Set(signed.filter((h) => h.startsWith('x-amz-'))) : keepInHeaders,
    },
  );
  if (!safeEqual(String(out.query?.['X-Amz-Signature'] ?? ''), signature)) throw mismatch();
}

/** Decodes an aws-chunked body (`hex-size[;chunk-signature=…]\r\n data \r\n … 0\r\n trailers \r\n`). */
export async function decodeAwsChunked(
  raw: Buffer,
  signing: { signer: SignatureV4; auth: HeaderAuth; region: string } | undefined,
): Promise<{ body: Buffer; trailers: Record<string, string> }> {
  const parts: Buffer[] = [];
  const trailers: Record<string, string> = {};
  const bad = () => new S3Error(400, 'IncompleteBody', 'The request body terminated unexpectedly');
  let prior = signing?.auth.seedSignature ?? '';
  let pos = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', pos);
    if (eol < 0) throw bad();
    const [sizeHex, ext] = raw.subarray(pos, eol).toString('latin1').split(';');
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeHex)) throw bad();
    const size = Number.parseInt(sizeHex, 16);
    const data = raw.subarray(eol + 2, eol + 2 + size);
    if (data.length !== size) throw bad();
    if (signing) {
      const given = /^chunk-signature=([0-9a-f]{64})$/.exec(ext ?? '')?.[1] ?? '';
      const expected = await signing.signer.sign(
        { headers: new Uint8Array(0), payload: data },
        {
          signingDate: signing.auth.signingDate,
          priorSignature: prior,
          signingRegion: signing.region,
          signingService: 's3',
        },
      );
      if (!safeEqual(expected, given)) throw mismatch();
      prior = given;
    }
    pos = eol + 2 + size;
    if (size === 0) break;
    if (raw.toString('latin1', pos, pos + 2) !== '\r\n') throw bad();
    pos += 2;
    parts.push(data);
  }
  for (;;) {
    const eol = raw.indexOf('\r\n', pos);
    if (eol < 0) break;
    const line = raw.toString('utf8', pos, eol);
    pos = eol + 2;
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon < 1) throw bad();
    trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { body: Buffer.concat(parts), trailers };
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

const CHECKSUMS: Record<string, (b: Buffer) => Buffer> = {
  crc32: (b) => u32(crc32(b)),
  sha1: (b) => createHash('sha1').update(b).digest(),
  sha256: (b) => createHash('sha256').update(b).digest(),
};

/** Content-MD5 and x-amz-checksum-* (from headers, trailers or a presigned query) must match the body. */
export function verifyChecksums(
  body: Buffer,
  sources: Record<string, string | string[] | undefined>[],
): void {
  for (const src of sources) {
    for (const [name, value] of Object.entries(src)) {
      const lower = name.toLowerCase();
      if (typeof value !== 'string') continue;
      if (lower === 'content-md5' && createHash('md5').update(body).digest('base64') !== value) {
        throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
      }
      const algo = lower.startsWith('x-amz-checksum-') ? CHECKSUMS[lower.slice(15)] : undefined;
      if (algo && algo(body).toString('base64') !== value) {
        const label = lower.slice(15).toUpperCase();
        throw new S3Error(
          400,
          'BadDigest',
          `The ${label} you specified did not match the calculated checksum.`,
        );
      }
    }
  }
}
