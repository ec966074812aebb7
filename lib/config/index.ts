// Every setting of the service, read once from the environment and validated with zod.
// Nothing else in the code base reads process.env: take a `Config` from here instead.
import { z } from 'zod';
import { FAIL_MODES, POLICY_NAMES } from '../ratelimit/policies.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);
const url = z.url({ protocol: /^https?$/ });
const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);
// An empty string counts as unset: deployment dashboards often keep blank variables.
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

// Printable, no spaces, quotes or backslashes: the label travels inside file metadata.
const AIGC_CODE = /^[^\s"\\\p{Cc}]{1,64}$/u;
const AIGC_CODE_MESSAGE = 'one or two comma-separated codes (1-64 characters, no spaces or quotes)';
/** A JSON-valued variable: parsed, then checked against `schema`; bad JSON names the variable too. */
const json = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

const LlmProviderSchema = z.strictObject({
  baseURL: url,
  apiKey: z.string().min(1),
  model: z.string().min(1),
  visionModel: z.string().min(1).optional(),
});
export type LlmProvider = z.infer<typeof LlmProviderSchema>;

const price = z.number().finite().nonnegative();
const ModelPricesSchema = z.record(z.string().min(1), z.strictObject({ input: price, output: price }));
/** CNY per million prompt (`input`) and completion (`output`) tokens, by model name. */
export type ModelPrices = z.infer<typeof ModelPricesSchema>;

const envSchema = z.object({
  NODE_ENV: z.string().default('development'),
  VERCEL_ENV: optional(z.enum(['production', 'preview', 'development'])),
  // Set to 1 by Vercel (deployments and `vercel dev`): its own client-address headers are trusted.
  VERCEL: optional(bool),
  // Behind a reverse proxy (`npm start` on Sealos, a Tencent Cloud host): the header it sets with
  // the client's address and how many proxies append to it. Unset: the socket's address.
  TRUST_PROXY_HEADER: optional(
    z
      .string()
      .regex(/^[A-Za-z0-9-]+$/, 'must be a header name')
      .transform((s) => s.toLowerCase()),
  ),
  TRUST_PROXY_HOPS: int(1, 1, 10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SERVICE_VERSION: z.string().default('0.1.0'),

  DATABASE_URL: optional(z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')),
  DATABASE_DRIVER: optional(z.enum(['neon', 'pg', 'pglite'])),
  DATABASE_POOL_MAX: int(5, 1, 100),
  DATABASE_CONNECT_TIMEOUT_MS: int(3_000, 100, 60_000),
  DATABASE_STATEMENT_TIMEOUT_MS: int(15_000, 100, 600_000),
  // Only for tests and local runs of the Neon driver against a plain PostgreSQL.
  NEON_WS_PROXY: optional(z.string()),
  DATA_DIR: z.string().default('.data'),

  JWT_SECRET: optional(z.string().min(32, 'must be at least 32 characters')),
  JWT_ISSUER: z.string().default('health-assistant'),
  JWT_AUDIENCE: z.string().default('health-assistant-miniprogram'),
  ACCESS_TOKEN_TTL_SECONDS: int(900, 60, 86_400),
  REFRESH_TOKEN_TTL_SECONDS: int(30 * 86_400, 3_600, 365 * 86_400),

  WECHAT_APPID: optional(z.string().min(1)),
  WECHAT_SECRET: optional(z.string().min(1)),
  WECHAT_API_BASE_URL: url.default('https://api.weixin.qq.com'),
  WECHAT_TIMEOUT_MS: int(5_000, 100, 60_000),
  WECHAT_CONTENT_CHECK: optional(bool),

  ADMIN_OPENIDS: list.default([]),
  CONSENT_VERSION: z.string().min(1).default('2026-11-01'),
  // Shown in GET /users/me (consent.text, consent.crossBorderTransfer). Change CONSENT_VERSION with
  // them, so everyone consents again to the new words.
  CONSENT_TEXT: optional(z.string().min(1).max(20_000)),
  // Required by PIPL when data leaves the mainland (e.g. Vercel Hong Kong, Neon/Upstash Singapore):
  // the recipients, where, what for, and how to exercise rights, for the user's separate consent.
  CONSENT_CROSS_BORDER: optional(z.string().min(1).max(5_000)),

  OPENAI_BASE_URL: optional(url),
  OPENAI_API_KEY: optional(z.string().min(1)),
  CHAT_MODEL: z.string().min(1).default('qwen-plus'),
  VISION_MODEL: z.string().min(1).default('qwen-vl-plus'),
  TITLE_MODEL: optional(z.string().min(1)),
  LLM_TIMEOUT_MS: int(60_000, 1_000, 600_000),
  LLM_FIRST_TOKEN_TIMEOUT_MS: int(20_000, 100, 600_000),
  LLM_MAX_RETRIES: int(1, 0, 5),
  LLM_MAX_OUTPUT_TOKENS: int(1_024, 16, 32_000),
  HISTORY_TOKEN_BUDGET: int(3_000, 100, 200_000),
  VISION_IMAGE_MODE: z.enum(['url', 'data']).default('data'),
  // Tried in order when the configured model fails before its first token.
  LLM_FALLBACKS: optional(json(z.array(LlmProviderSchema).max(5))).transform((v) => v ?? []),
  // After this many failures in a row a provider is skipped for LLM_BREAKER_COOLDOWN_MS.
  LLM_BREAKER_FAILURES: int(3, 1, 100),
  LLM_BREAKER_COOLDOWN_MS: int(30_000, 1_000, 600_000),
  MODEL_PRICES: optional(json(ModelPricesSchema)).transform((v) => v ?? {}),

  EMERGENCY_NUMBER: z
    .string()
    .regex(/^[0-9-]{2,20}$/)
    .default('120'),
  // GB 45438-2025 implicit labels: the generation service provider's name or code, then after a
  // comma the content propagation service provider's (the same provider when only one is given).
  AIGC_PROVIDER_CODE: optional(
    z
      .string()
      .transform((s) => s.split(',').map((x) => x.trim()))
      .pipe(z.array(z.string().regex(AIGC_CODE, AIGC_CODE_MESSAGE)).min(1).max(2)),
  ),
  // Days a complaint may wait for its answer (Art. 15 says "timely"; the user agreement says how long).
  COMPLAINT_DEADLINE_DAYS: int(15, 1, 90),

  CRISIS_LINE: z
    .string()
    .regex(/^[0-9-]{2,20}$/)
    .default('12356'),
  POLICE_NUMBER: z
    .string()
    .regex(/^[0-9-]{2,20}$/)
    .default('110'),
  // The model that judges "is this an emergency?" next to the answer; unset: CHAT_MODEL; "off": no second layer.
  TRIAGE_MODEL: optional(z.string().min(1)),
  TRIAGE_TIMEOUT_MS: int(4_000, 200, 60_000),

  UPSTASH_REDIS_REST_URL: optional(url),
  UPSTASH_REDIS_REST_TOKEN: optional(z.string().min(1)),
  REDIS_URL: optional(z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')),
  REDIS_TIMEOUT_MS: int(300, 20, 10_000),
  RATE_LIMITS_DISABLED: optional(bool),
  // JSON overrides of the policy table, e.g. {"chat:user:minute":{"limit":5}}.
  RATE_LIMITS: optional(
    z
      .string()
      .transform((s, ctx) => {
        try {
          return JSON.parse(s) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be JSON' });
          return z.NEVER;
        }
      })
      .pipe(
        z.partialRecord(
          z.enum(POLICY_NAMES),
          z.strictObject({
            limit: z.number().int().positive().optional(),
            window: z
              .string()
              .regex(/^\d+ (ms|s|m|h|d)$/)
              .optional(),
            failMode: z.enum(FAIL_MODES).optional(),
          }),
        ),
      ),
  ),
  RATE_LIMIT_PREFIX: z.string().min(1).default('rl:'),
  DAILY_TOKEN_QUOTA_USER: int(200_000, 0),
  DAILY_TOKEN_QUOTA_ADMIN: int(2_000_000, 0),
  MAX_CONCURRENT_STREAMS: int(2, 1, 50),

  S3_ENDPOINT: optional(url),
  S3_REGION: z.string().min(1).default('ap-guangzhou'),
  S3_BUCKET: optional(z.string().min(1)),
  S3_ACCESS_KEY_ID: optional(z.string().min(1)),
  S3_SECRET_ACCESS_KEY: optional(z.string().min(1)),
  S3_SESSION_TOKEN: optional(z.string().min(1)),
  S3_FORCE_PATH_STYLE: optional(bool),
  // COS documents its own POST-form signature; S3, MinIO and Sealos take SigV4.
  S3_POST_SIGNATURE: z.enum(['sigv4', 'cos']).default('sigv4'),
  S3_PUBLIC_ENDPOINT: optional(url),
  UPLOAD_MAX_BYTES: int(10 * 1024 * 1024, 1_024, 100 * 1024 * 1024),
  UPLOAD_URL_TTL_SECONDS: int(300, 30, 300),
  READ_URL_TTL_SECONDS: int(300, 30, 3_600),

  RETENTION_DAYS_CONVERSATIONS: int(365, 1),
  RETENTION_DAYS_LOGS: int(90, 1),
  CRON_SECRET: optional(z.string().min(16)),

  PORT: int(3000, 0, 65_535),
  // `npm start` only (the dev server always binds to loopback).
  HOST: z.string().min(1).default('0.0.0.0'),
  SHUTDOWN_GRACE_MS: int(25_000, 0, 600_000),
});

export type Env = z.infer<typeof envSchema>;

/** Signs tokens only on a developer's machine; refused wherever real data could be reached. */
export const DEV_JWT_SECRET = 'dev-only-insecure-jwt-secret-change-me-0000';

// Loopback, unix sockets and the docker-compose style service names count as local.
const LOCAL_DB_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '']);

/** True when DATABASE_URL points at a database other than one on this machine. */
export function isRealDatabase(databaseUrl: string | undefined): boolean {
  if (!databaseUrl) return false;
  let host: string;
  try {
    host = new URL(databaseUrl).hostname.toLowerCase();
  } catch {
    return true;
  }
  return !(LOCAL_DB_HOSTS.has(host) || host.endsWith('.localhost') || /^127\./.test(host));
}

export type Config = Env & {
  production: boolean;
  wechatConfigured: boolean;
  /** Which parts run on local stand-ins (never allowed in production). */
  standIns: string[];
};

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses a whole environment. Pure: tests call it with their own object. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production' || e.VERCEL_ENV === 'production';
  const wechatConfigured = Boolean(e.WECHAT_APPID && e.WECHAT_SECRET);
  const standIns: string[] = [];
  if (!e.DATABASE_URL) standIns.push('database (embedded PGlite)');
  if (!e.JWT_SECRET) standIns.push('JWT secret (development default)');
  if (!wechatConfigured) standIns.push('WeChat (dev:<name> login)');
  if (!e.UPSTASH_REDIS_REST_URL && !e.REDIS_URL) standIns.push('rate limits (in memory)');
  if (!e.OPENAI_BASE_URL) standIns.push('model (local simulated stand-in)');
  if (!e.S3_ENDPOINT || !e.S3_BUCKET) standIns.push('object storage (local)');

  const problems: string[] = [];
  if (production) {
    // Production refuses every stand-in: each missing real part is named.
    if (!e.DATABASE_URL) problems.push('DATABASE_URL: required in production');
    if (!e.JWT_SECRET) problems.push('JWT_SECRET: required in production');
    if (!wechatConfigured) problems.push('WECHAT_APPID, WECHAT_SECRET: required in production');
    if (!e.UPSTASH_REDIS_REST_URL && !e.REDIS_URL)
      problems.push('UPSTASH_REDIS_REST_URL or REDIS_URL: required in production');
    if (!e.OPENAI_BASE_URL) problems.push('OPENAI_BASE_URL: required in production');
    if (!e.OPENAI_API_KEY) problems.push('OPENAI_API_KEY: required in production');
    for (const k of ['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const) {
      if (!e[k]) problems.push(`${k}: required in production`);
    }
    // Without it the retention cron is refused, and retention silently never runs.
    if (!e.CRON_SECRET) problems.push('CRON_SECRET: required in production (retention cron)');
    if (e.DATABASE_DRIVER === 'pglite') problems.push('DATABASE_DRIVER: pglite is a local stand-in');
    if (e.NEON_WS_PROXY) problems.push('NEON_WS_PROXY: a test setting, not for production');
    if (!e.AIGC_PROVIDER_CODE)
      problems.push('AIGC_PROVIDER_CODE: required in production (GB 45438-2025 implicit labels)');
    if (e.RATE_LIMITS_DISABLED) problems.push('RATE_LIMITS_DISABLED: not allowed in production');
  }
  if (e.UPSTASH_REDIS_REST_URL && !e.UPSTASH_REDIS_REST_TOKEN)
    problems.push('UPSTASH_REDIS_REST_TOKEN: required with UPSTASH_REDIS_REST_URL');
  // The development secret is public (it is in this repository): anyone could mint tokens for a
  // deployment that uses it. Previews on Vercel and any real database hold real accounts.
  // VERCEL_ENV=development is `vercel dev` on a laptop, not a deployment: the database rule covers it.
  const devSecret = !e.JWT_SECRET || e.JWT_SECRET === DEV_JWT_SECRET;
  if (devSecret && !production) {
    if (e.VERCEL_ENV === 'preview')
      problems.push('JWT_SECRET: required on every Vercel deployment, previews included');
    else if (isRealDatabase(e.DATABASE_URL))
      problems.push('JWT_SECRET: required when DATABASE_URL names a database other than a local one');
  }
  if (production && e.JWT_SECRET === DEV_JWT_SECRET)
    problems.push('JWT_SECRET: the development secret is not allowed in production');
  if (Boolean(e.WECHAT_APPID) !== Boolean(e.WECHAT_SECRET))
    problems.push('WECHAT_APPID, WECHAT_SECRET: set both or neither');
  if (problems.length) throw new ConfigError(problems);

  return { ...e, production, wechatConfigured, standIns };
}

let cached: Config | undefined;

/** The process's configuration, parsed on first use. */
export function getConfig(): Config {
  cached ??= loadConfig(process.env);
  return cached;
}
