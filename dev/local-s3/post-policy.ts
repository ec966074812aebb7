import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { SignatureV4 } from '@smithy/signature-v4';
import busboy from 'busboy';
import { accessDenied, S3Error } from './errors.js';
import { type AuthConfig, checkCredential, parseAmzDate, safeEqual } from './sigv4.js';

export interface PostForm {
  /** Field names lower-cased (S3 matches them case-insensitively); only fields before `file` count. */
  fields: Map<string, string>;
  file?: { data: Buffer; filename: string; tooBig: boolean };
}

export interface PostTarget {
  key: string;
  contentType: string;
  successStatus: 200 | 201 | 204;
  /** Every content-length-range of the policy; the caller checks the body size against them. */
  ranges: [number, number][];
}

type Flavor = 's3' | 'cos';
type Condition =
  | { op: 'eq' | 'starts-with'; field: string; value: string }
  | { op: 'range'; min: number; max: number };

const malformed = () =>
  new S3Error(
    400,
    'MalformedPOSTRequest',
    'The body of your POST request is not well-formed multipart/form-data.',
  );

/** Collects the multipart form in memory; `maxFileBytes` bounds memory, the policy's own limit is checked later. */
export function readPostForm(req: IncomingMessage, maxFileBytes: number): Promise<PostForm> {
  return new Promise((resolve, reject) => {
    const form: PostForm = { fields: new Map() };
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { fileSize: maxFileBytes, files: 1, fields: 100 } });
    } catch {
      reject(malformed());
      return;
    }
    let failure: S3Error | undefined;
    let pendingFile: Promise<void> = Promise.resolve();
    bb.on('field', (name, value) => {
      const lower = name.toLowerCase();
      if (form.file) return; // S3 ignores everything after the file part.
      if (form.fields.has(lower))
        failure ??= new S3Error(400, 'InvalidArgument', `Duplicate form field: ${name}`);
      form.fields.set(lower, value);
    });
    bb.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      let tooBig = false;
      if (name.toLowerCase() !== 'file' || form.file) failure ??= malformed();
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => {
        tooBig = true;
      });
      pendingFile = new Promise((done) =>
        stream.on('end', () => {
          form.file = { data: Buffer.concat(chunks), filename: info.filename ?? '', tooBig };
          done();
        }),
      );
      form.file = { data: Buffer.alloc(0), filename: info.filename ?? '', tooBig };
    });
    bb.on('error', () => reject(malformed()));
    bb.on('close', () => {
      pendingFile.then(() => (failure ? reject(failure) : resolve(form)), reject);
    });
    req.pipe(bb);
  });
}

function parseConditions(raw: unknown): Condition[] {
  const invalid = (why: string) => new S3Error(400, 'InvalidPolicyDocument', `Invalid Policy: ${why}`);
  if (!Array.isArray(raw)) throw invalid('Policy missing conditions.');
  const out: Condition[] = [];
  for (const c of raw) {
    if (Array.isArray(c)) {
      const op = String(c[0]).toLowerCase();
      if (op === 'content-length-range') {
        const [min, max] = [Number(c[1]), Number(c[2])];
        if (
          c.length !== 3 ||
          !Number.isSafeInteger(min) ||
          !Number.isSafeInteger(max) ||
          min < 0 ||
          min > max
        ) {
          throw invalid('Invalid content-length-range condition.');
        }
        out.push({ op: 'range', min, max });
      } else if ((op === 'eq' || op === 'starts-with') && c.length === 3 && typeof c[2] === 'string') {
        if (typeof c[1] !== 'string' || !c[1].startsWith('$'))
          throw invalid(`Invalid condition field: ${c[1]}`);
        out.push({ op, field: c[1].slice(1).toLowerCase(), value: c[2] });
      } else {
        throw invalid(`Invalid Condition: ${JSON.stringify(c)}`);
      }
    } else if (c && typeof c === 'object') {
      for (const [k, v] of Object.entries(c)) {
        if (typeof v !== 'string') throw invalid(`Invalid value for ${k}`);
        out.push({ op: 'eq', field: k.toLowerCase(), value: v });
      }
    } else {
      throw invalid(`Invalid Condition: ${JSON.stringify(c)}`);
    }
  }
  return out;
}

/** S3 SigV4 form: signature = HMAC chain (date/region/s3/aws4_request) over the base64 policy text. */
async function verifyS3Signature(
  cfg: AuthConfig,
  signer: SignatureV4,
  f: Map<string, string>,
): Promise<void> {
  const [algorithm, credential, amzDate, signature] = [
    'x-amz-algorithm',
    'x-amz-credential',
    'x-amz-date',
    'x-amz-signature',
  ].map((n) => f.get(n) ?? '');
  if (algorithm !== 'AWS4-HMAC-SHA256') {
    throw new S3Error(400, 'InvalidArgument', 'Only AWS4-HMAC-SHA256 is supported for x-amz-algorithm');
  }
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) throw new S3Error(400, 'InvalidArgument', 'x-amz-date must be in yyyyMMddTHHmmssZ form');
  const region = checkCredential(cfg, credential, amzDate, 'AuthorizationHeaderMalformed');
  const expected = await signer.sign(f.get('policy') ?? '', {
    signingDate,
    signingRegion: region,
    signingService: 's3',
  });
  if (!safeEqual(expected, signature)) {
    throw new S3Error(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  }
}

/** COS form: SignKey = HMAC-SHA1(SecretKey, KeyTime); Signature = HMAC-SHA1(SignKey, SHA1(policy JSON)), hex. */
function verifyCosSignature(cfg: AuthConfig, f: Map<string, string>, policyJson: string, now: Date): void {
  if (f.get('q-sign-algorithm') !== 'sha1')
    throw new S3Error(400, 'InvalidArgument', 'q-sign-algorithm must be sha1');
  if (f.get('q-ak') !== cfg.credentials.accessKeyId) {
    throw new S3Error(403, 'InvalidAccessKeyId', 'The SecretId you provided does not exist in our records.');
  }
  // A temporary SecretId means nothing without its token; a permanent one takes no token.
  const token = f.get('x-cos-security-token');
  if (
    cfg.cosSecurityToken !== undefined ? !safeEqual(token ?? '', cfg.cosSecurityToken) : token !== undefined
  ) {
    throw new S3Error(403, 'InvalidAccessKeyId', 'The SecretId you provided does not exist in our records.');
  }
  const keyTime = f.get('q-key-time') ?? '';
  const m = /^(\d{1,12});(\d{1,12})$/.exec(keyTime);
  if (!m) throw new S3Error(400, 'InvalidArgument', 'q-key-time must be <start>;<end> in Unix seconds');
  const nowSec = Math.floor(now.getTime() / 1000);
  if (nowSec > Number(m[2])) throw accessDenied('Request has expired');
  if (nowSec < Number(m[1])) throw accessDenied('Request is not valid yet');
  const signKey = createHmac('sha1', cfg.credentials.secretAccessKey).update(keyTime).digest('hex');
  const stringToSign = createHash('sha1').update(policyJson).digest('hex');
  const expected = createHmac('sha1', signKey).update(stringToSign).digest('hex');
  if (!safeEqual(expected, f.get('q-signature') ?? '')) {
    throw new S3Error(403, 'SignatureDoesNotMatch', 'The Signature you specified is invalid.');
  }
}

/** Verifies signature, expiry and every policy condition of a browser-form upload (S3 SigV4 or COS). */
export async function verifyPostPolicy(
  cfg: AuthConfig,
  signer: SignatureV4,
  bucket: string,
  form: PostForm,
  now: Date,
): Promise<PostTarget> {
  const f = form.fields;
  const flavor: Flavor = f.has('q-signature') || f.has('q-ak') ? 'cos' : 's3';
  const policyB64 = f.get('policy');
  if (!policyB64 || !(f.has('x-amz-signature') || f.has('q-signature'))) throw accessDenied();
  const policyJson = Buffer.from(policyB64, 'base64').toString('utf8');
  if (flavor === 's3') await verifyS3Signature(cfg, signer, f);
  else verifyCosSignature(cfg, f, policyJson, now);

  let policy: { expiration?: unknown; conditions?: unknown };
  try {
    policy = JSON.parse(policyJson) as typeof policy;
  } catch {
    throw new S3Error(400, 'InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
  }
  const expiration = typeof policy.expiration === 'string' ? Date.parse(policy.expiration) : Number.NaN;
  if (Number.isNaN(expiration))
    throw new S3Error(400, 'InvalidPolicyDocument', 'Invalid Policy: Policy missing expiration.');
  if (now.getTime() >= expiration) {
    throw accessDenied(
      flavor === 'cos'
        ? `You post object request has been expired, expiration time: ${Math.floor(expiration / 1000)} but the time now : ${Math.floor(now.getTime() / 1000)}`
        : 'Invalid according to Policy: Policy expired.',
    );
  }
  const conditions = parseConditions(policy.conditions);
  // COS pins its signing parameters in the policy; q-sign-time there is what the form calls q-key-time.
  const formValue = (field: string): string | undefined =>
    field === 'bucket'
      ? bucket
      : flavor === 'cos' && field === 'q-sign-time'
        ? f.get('q-key-time')
        : f.get(field);
  if (flavor === 'cos') {
    for (const required of ['q-sign-algorithm', 'q-ak', 'q-sign-time']) {
      if (!conditions.some((c) => c.op === 'eq' && c.field === required)) {
        throw accessDenied(`Invalid according to Policy: missing condition ${required}`);
      }
    }
  }
  if (f.has('bucket') && f.get('bucket') !== bucket)
    throw accessDenied('Invalid according to Policy: bucket mismatch');
  for (const c of conditions) {
    if (c.op === 'range') continue;
    const actual = formValue(c.field);
    const ok = c.op === 'eq' ? actual === c.value : (actual ?? '').startsWith(c.value);
    if (!ok) {
      throw accessDenied(
        flavor === 'cos'
          ? `Condition key ${c.field} doesn't match the value ${actual ?? ''}`
          : `Invalid according to Policy: Policy Condition failed: ["${c.op}", "$${c.field}", "${c.value}"]`,
      );
    }
  }
  const covered = new Set(conditions.flatMap((c) => (c.op === 'range' ? [] : [c.field])));
  if (flavor === 'cos' && covered.has('q-sign-time')) covered.add('q-key-time');
  const exempt = ['policy', 'file', flavor === 'cos' ? 'q-signature' : 'x-amz-signature'];
  const extra = [...f.keys()].filter(
    (k) => !exempt.includes(k) && !k.startsWith('x-ignore-') && !covered.has(k),
  );
  if (extra.length)
    throw accessDenied(`Invalid according to Policy: Extra input fields: ${extra.join(', ')}`);

  const rawKey = f.get('key');
  if (!rawKey) throw new S3Error(400, 'InvalidArgument', "Bucket POST must contain a field named 'key'.");
  // biome-ignore lint/suspicious/noTemplateCurlyInString: S3's literal upload-name placeholder, not a template.
  const key = rawKey.replaceAll('${filename}', form.file?.filename ?? '');
  if (Buffer.byteLength(key) > 1024) throw new S3Error(400, 'KeyTooLongError', 'Your key is too long');
  const status = Number(f.get('success_action_status'));
  return {
    key,
    contentType:
      f.get('content-type') ?? (flavor === 'cos' ? 'application/octet-stream' : 'binary/octet-stream'),
    successStatus: status === 200 || status === 201 ? status : 204,
    ranges: conditions.flatMap((c): [number, number][] => (c.op === 'range' ? [[c.min, c.max]] : [])),
  };
}
