import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SignatureV4 } from '@smithy/signature-v4';
import { accessDenied, errorXml, S3Error, xmlDoc, xmlEscape, xmlUnescape } from './errors.js';
import { readPostForm, verifyPostPolicy } from './post-policy.js';
import {
  type AuthConfig,
  decode,
  decodeAwsChunked,
  type HeaderAuth,
  one,
  parseQuery,
  type Query,
  verifyChecksums,
  verifyHeaderAuth,
  verifyQueryAuth,
} from './sigv4.js';
import { DiskStore, type ObjectMeta } from './store.js';

/** Bodies are held in memory; this keeps a stray upload from eating the dev machine. */
const MAX_BODY = 256 * 1024 * 1024;

export interface ServerContext extends AuthConfig {
  store: DiskStore;
  signer: SignatureV4;
  endpoint: () => string;
}

interface Req {
  method: string;
  bucket: string;
  key: string;
  query: Query;
  headers: IncomingMessage['headers'];
}

function readRaw(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () =>
      size > MAX_BODY
        ? reject(new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size'))
        : resolve(Buffer.concat(chunks)),
    );
    req.on('error', reject);
  });
}

/** Authenticates (header or query SigV4), then returns the verified, de-chunked body. */
async function authenticate(
  ctx: ServerContext,
  req: IncomingMessage,
  r: Req,
  rawPath: string,
): Promise<Buffer> {
  const now = new Date();
  const incoming = {
    method: r.method,
    host: req.headers.host ?? '',
    rawPath,
    query: r.query,
    headers: r.headers,
  };
  const authz = req.headers.authorization;
  let auth: HeaderAuth | undefined;
  if (authz?.startsWith('AWS4-HMAC-SHA256 ')) auth = await verifyHeaderAuth(ctx, ctx.signer, incoming, now);
  else if (authz) throw new S3Error(400, 'InvalidArgument', 'Unsupported Authorization Type');
  else if (Object.keys(r.query).some((k) => k.toLowerCase().startsWith('x-amz-'))) {
    await verifyQueryAuth(ctx, ctx.signer, incoming, now);
  } else throw accessDenied();

  const raw = await readRaw(req);
  const mode = auth?.payloadHash ?? 'UNSIGNED-PAYLOAD';
  let body = raw;
  let trailers: Record<string, string> = {};
  if (mode.startsWith('STREAMING-') && auth) {
    const signing =
      mode === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'
        ? { signer: ctx.signer, auth, region: ctx.region }
        : undefined;
    ({ body, trailers } = await decodeAwsChunked(raw, signing));
    if (String(body.length) !== r.headers['x-amz-decoded-content-length']) {
      throw new S3Error(
        400,
        'IncompleteBody',
        'x-amz-decoded-content-length does not match the decoded body',
      );
    }
  } else if (/^[0-9a-f]{64}$/.test(mode)) {
    if (createHash('sha256').update(raw).digest('hex') !== mode) {
      throw new S3Error(
        400,
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
    }
  }
  // A presigned URL carries its checksum params in the query; S3 holds the body to them like headers.
  verifyChecksums(body, [r.headers, trailers, auth ? {} : r.query]);
  return body;
}

const quoted = (etag: string) => `"${etag}"`;

function objectHeaders(meta: ObjectMeta, q: Query): Record<string, string> {
  return {
    'content-type': one(q, 'response-content-type') ?? meta.contentType,
    'content-length': String(meta.size),
    etag: quoted(meta.etag),
    'last-modified': new Date(meta.lastModified).toUTCString(),
    ...(one(q, 'response-content-disposition')
      ? { 'content-disposition': one(q, 'response-content-disposition') ?? '' }
      : {}),
  };
}

function listXml(r: Req, all: ObjectMeta[]): string {
  const prefix = one(r.query, 'prefix') ?? '';
  const delimiter = one(r.query, 'delimiter') ?? '';
  const maxKeys = Math.min(1000, Math.max(0, Number(one(r.query, 'max-keys') ?? 1000) || 0));
  const token = one(r.query, 'continuation-token');
  const after =
    token !== undefined
      ? Buffer.from(token, 'base64url').toString('utf8')
      : (one(r.query, 'start-after') ?? '');
  const contents: ObjectMeta[] = [];
  const prefixes: string[] = [];
  let last = '';
  let truncated = false;
  for (const m of all) {
    if (!m.key.startsWith(prefix) || Buffer.compare(Buffer.from(m.key), Buffer.from(after)) <= 0) continue;
    const cut = delimiter ? m.key.indexOf(delimiter, prefix.length) : -1;
    const common = cut >= 0 ? m.key.slice(0, cut + delimiter.length) : undefined;
    if (common !== undefined && common === prefixes.at(-1)) continue;
    if (contents.length + prefixes.length >= maxKeys) {
      truncated = true;
      break;
    }
    if (common !== undefined) prefixes.push(common);
    else contents.push(m);
    // Resume after the whole common prefix so a page never repeats it.
    last = common !== undefined ? `${common}\u{10ffff}` : m.key;
  }
  const tag = (name: string, v: string | number) =>
    `<${name}>${typeof v === 'number' ? v : xmlEscape(v)}</${name}>`;
  return xmlDoc(
    'ListBucketResult',
    tag('Name', r.bucket) +
      tag('Prefix', prefix) +
      (delimiter ? tag('Delimiter', delimiter) : '') +
      tag('KeyCount', contents.length + prefixes.length) +
      tag('MaxKeys', maxKeys) +
      tag('IsTruncated', String(truncated)) +
      (token !== undefined ? tag('ContinuationToken', token) : '') +
      (truncated ? tag('NextContinuationToken', Buffer.from(last).toString('base64url')) : '') +
      contents
        .map(
          (m) =>
            `<Contents>${tag('Key', m.key)}${tag('LastModified', m.lastModified)}${tag('ETag', quoted(m.etag))}` +
            `${tag('Size', m.size)}<StorageClass>STANDARD</StorageClass></Contents>`,
        )
        .join('') +
      prefixes.map((p) => `<CommonPrefixes>${tag('Prefix', p)}</CommonPrefixes>`).join(''),
  );
}

async function deleteObjects(ctx: ServerContext, r: Req, body: Buffer): Promise<string> {
  if (!r.headers['content-md5'] && !Object.keys(r.headers).some((h) => h.startsWith('x-amz-checksum-'))) {
    throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: Content-MD5');
  }
  const xml = body.toString('utf8');
  const keys = [...xml.matchAll(/<Object>\s*<Key>([\s\S]*?)<\/Key>/g)].map((m) => xmlUnescape(m[1]));
  if (!/<Delete[\s>]/.test(xml) || keys.length > 1000) {
    throw new S3Error(
      400,
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema.',
    );
  }
  const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(xml);
  for (const key of keys) await ctx.store.delete(r.bucket, key);
  const deleted = quiet ? '' : keys.map((k) => `<Deleted><Key>${xmlEscape(k)}</Key></Deleted>`).join('');
  return xmlDoc('DeleteResult', deleted);
}

async function handlePost(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  r: Req,
): Promise<void> {
  const form = await readPostForm(req, MAX_BODY);
  if (!form.file)
    throw new S3Error(400, 'InvalidArgument', 'POST requires exactly one file upload per request.');
  const target = await verifyPostPolicy(ctx, ctx.signer, r.bucket, form, new Date());
  const size = form.file.data.length;
  if (form.file.tooBig || target.ranges.some(([, max]) => size > max)) {
    throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
  }
  if (target.ranges.some(([min]) => size < min)) {
    throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size');
  }
  const meta = await ctx.store.put(r.bucket, target.key, form.file.data, target.contentType);
  const location = `${ctx.endpoint()}/${r.bucket}/${target.key.split('/').map(encodeURIComponent).join('/')}`;
  res.writeHead(target.successStatus, {
    etag: quoted(meta.etag),
    location,
    'content-type': 'application/xml',
  });
  if (target.successStatus !== 201) return void res.end();
  res.end(
    xmlDoc(
      'PostResponse',
      `<Location>${xmlEscape(location)}</Location><Bucket>${xmlEscape(r.bucket)}</Bucket>` +
        `<Key>${xmlEscape(target.key)}</Key><ETag>${quoted(meta.etag)}</ETag>`,
    ),
  );
}

async function route(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, r: Req, rawPath: string) {
  const { store } = ctx;
  if (!r.bucket) throw new S3Error(501, 'NotImplemented', 'Service-level operations are not implemented');
  const isForm = r.method === 'POST' && !r.key && !('delete' in r.query);
  if (isForm) {
    if (!(await store.hasBucket(r.bucket)))
      throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
    return handlePost(ctx, req, res, r);
  }
  const body = await authenticate(ctx, req, r, rawPath);
  const xml = (status: number, doc: string) =>
    res.writeHead(status, { 'content-type': 'application/xml' }).end(doc);
  if (r.method === 'PUT' && !r.key) {
    if (!DiskStore.validBucketName(r.bucket))
      throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.');
    const created = await store.createBucket(r.bucket);
    // Outside us-east-1 S3 refuses to re-create a bucket you already own.
    if (!created && ctx.region !== 'us-east-1') {
      throw new S3Error(
        409,
        'BucketAlreadyOwnedByYou',
        'Your previous request to create the named bucket succeeded and you already own it.',
      );
    }
    return void res.writeHead(200, { location: `/${r.bucket}` }).end();
  }
  if (!(await store.hasBucket(r.bucket)))
    throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
  const sub = Object.keys(r.query).filter(
    (k) =>
      !/^(x-id|x-amz-.*|response-.*|list-type|prefix|delimiter|max-keys|continuation-token|start-after|encoding-type|fetch-owner|delete)$/i.test(
        k,
      ),
  );
  if (sub.length) throw new S3Error(501, 'NotImplemented', `Subresource ?${sub[0]} is not implemented`);
  if (!r.key) {
    if (r.method === 'HEAD') return void res.writeHead(200, { 'x-amz-bucket-region': ctx.region }).end();
    if (r.method === 'GET' && one(r.query, 'list-type') === '2')
      return xml(200, listXml(r, await store.list(r.bucket)));
    if (r.method === 'POST' && 'delete' in r.query) return xml(200, await deleteObjects(ctx, r, body));
    throw new S3Error(
      501,
      'NotImplemented',
      `${r.method} on a bucket is not implemented (only ListObjectsV2)`,
    );
  }
  if (r.method === 'PUT') {
    if (r.headers['x-amz-copy-source'])
      throw new S3Error(501, 'NotImplemented', 'CopyObject is not implemented');
    if (Buffer.byteLength(r.key) > 1024) throw new S3Error(400, 'KeyTooLongError', 'Your key is too long');
    const meta = await store.put(r.bucket, r.key, body, r.headers['content-type'] ?? 'binary/octet-stream');
    return void res.writeHead(200, { etag: quoted(meta.etag) }).end();
  }
  if (r.method === 'DELETE') {
    await store.delete(r.bucket, r.key);
    return void res.writeHead(204).end();
  }
  if (r.method === 'GET' || r.method === 'HEAD') {
    const found = r.method === 'GET' ? await store.get(r.bucket, r.key) : undefined;
    const meta = found?.meta ?? (r.method === 'HEAD' ? await store.head(r.bucket, r.key) : undefined);
    if (!meta) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
    res.writeHead(200, objectHeaders(meta, r.query));
    if (!found) return void res.end();
    found.stream.pipe(res);
    return;
  }
  throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
}

export function createHandler(ctx: ServerContext) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const qAt = url.indexOf('?');
    const rawPath = qAt < 0 ? url : url.slice(0, qAt);
    const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
    res.setHeader('x-amz-request-id', requestId);
    const fail = (e: unknown) => {
      const err = e instanceof S3Error ? e : new S3Error(500, 'InternalError', String(e));
      if (res.headersSent) return void res.destroy();
      // Let the client finish sending before answering, so fetch/undici sees a response, not a reset.
      const send = () => {
        res.writeHead(err.status, { 'content-type': 'application/xml', 'x-amz-error-code': err.code });
        res.end(req.method === 'HEAD' ? undefined : errorXml(err, rawPath, requestId));
      };
      if (req.complete) send();
      else
        req
          .on('end', send)
          .on('error', () => res.destroy())
          .resume();
    };
    try {
      const slash = rawPath.indexOf('/', 1);
      const r: Req = {
        method: req.method ?? 'GET',
        bucket: decode(slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash)),
        key: slash < 0 ? '' : decode(rawPath.slice(slash + 1)),
        query: parseQuery(qAt < 0 ? '' : url.slice(qAt + 1)),
        headers: req.headers,
      };
      route(ctx, req, res, r, rawPath).catch(fail);
    } catch (e) {
      fail(e);
    }
  };
}
