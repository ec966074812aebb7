// Settings are parsed once and fail loudly, naming the variable; production takes no stand-ins.
import { describe, expect, it } from 'vitest';
import { ConfigError, DEV_JWT_SECRET, loadConfig } from '../../lib/config/index.js';
import { POLICIES } from '../../lib/ratelimit/index.js';

const PRODUCTION_READY = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://app:pw@db.example.com/app',
  JWT_SECRET: 'x'.repeat(40),
  WECHAT_APPID: 'wx123',
  WECHAT_SECRET: 'secret',
  UPSTASH_REDIS_REST_URL: 'https://redis.example.com',
  UPSTASH_REDIS_REST_TOKEN: 'token',
  OPENAI_BASE_URL: 'https://dashscope.aliyuncs.com/compatible-mode/v1',
  OPENAI_API_KEY: 'sk-test',
  S3_ENDPOINT: 'https://cos.ap-guangzhou.myqcloud.com',
  S3_BUCKET: 'bucket-1250000000',
  S3_ACCESS_KEY_ID: 'AKID',
  S3_SECRET_ACCESS_KEY: 'secret',
  CRON_SECRET: 'cron-secret-0123456789',
  AIGC_PROVIDER_CODE: '00119144000012345678X1ABCD',
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('config', () => {
  it('runs on embedded defaults with nothing configured, and lists the stand-ins', () => {
    const c = loadConfig({});
    expect(c.production).toBe(false);
    expect(c.PORT).toBe(3000);
    expect(c.DATA_DIR).toBe('.data');
    expect(c.UPLOAD_MAX_BYTES).toBe(10 * 1024 * 1024);
    expect(c.standIns.join(' ')).toMatch(/PGlite.*dev:<name>.*in memory.*simulated.*object storage/s);
  });

  it.each([
    ['DATABASE_URL', 'mysql://x', 'DATABASE_URL'],
    ['JWT_SECRET', 'short', 'JWT_SECRET'],
    ['PORT', 'eighty', 'PORT'],
    ['UPLOAD_MAX_BYTES', '-1', 'UPLOAD_MAX_BYTES'],
    ['OPENAI_BASE_URL', 'not a url', 'OPENAI_BASE_URL'],
    ['REDIS_URL', 'http://redis', 'REDIS_URL'],
    ['S3_FORCE_PATH_STYLE', 'maybe', 'S3_FORCE_PATH_STYLE'],
  ])('a malformed %s is named', (key, value, named) => {
    const p = problems({ [key]: value });
    expect(p.some((x) => x.startsWith(`${named}:`))).toBe(true);
  });

  it('treats blank variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', OPENAI_BASE_URL: '' }).DATABASE_URL).toBeUndefined();
  });

  it('accepts a complete production configuration', () => {
    const c = loadConfig(PRODUCTION_READY);
    expect(c.production).toBe(true);
    expect(c.standIns).toEqual([]);
  });

  it.each(Object.keys(PRODUCTION_READY).filter((k) => k !== 'NODE_ENV'))(
    'production refuses to start without %s',
    (key) => {
      const env: Record<string, string | undefined> = { ...PRODUCTION_READY, [key]: undefined };
      const p = problems(env);
      expect(p.join('\n')).toContain(key);
    },
  );

  it('AIGC_PROVIDER_CODE: one code for both roles, or producer,propagator; nothing that breaks metadata', () => {
    expect(loadConfig({ AIGC_PROVIDER_CODE: 'P1' }).AIGC_PROVIDER_CODE).toEqual(['P1']);
    expect(loadConfig({ AIGC_PROVIDER_CODE: ' P1 , P2 ' }).AIGC_PROVIDER_CODE).toEqual(['P1', 'P2']);
    for (const bad of ['P1,P2,P3', 'a b', 'a"b', 'P1,']) {
      expect(problems({ AIGC_PROVIDER_CODE: bad }).join('\n')).toContain('AIGC_PROVIDER_CODE');
    }
    expect(loadConfig({}).COMPLAINT_DEADLINE_DAYS).toBe(15);
    expect(problems({ COMPLAINT_DEADLINE_DAYS: '0' }).join()).toContain('COMPLAINT_DEADLINE_DAYS');
  });

  it('VERCEL_ENV=production counts as production even when NODE_ENV says otherwise', () => {
    const p = problems({ VERCEL_ENV: 'production', NODE_ENV: 'development' });
    expect(p.join('\n')).toContain('DATABASE_URL: required in production');
  });

  it('production refuses the embedded database and test-only switches', () => {
    expect(problems({ ...PRODUCTION_READY, DATABASE_DRIVER: 'pglite' }).join()).toContain('DATABASE_DRIVER');
    expect(problems({ ...PRODUCTION_READY, NEON_WS_PROXY: '127.0.0.1:1' }).join()).toContain('NEON_WS_PROXY');
  });

  it('refuses the development JWT secret on a Vercel preview', () => {
    expect(problems({ VERCEL_ENV: 'preview' }).join('\n')).toContain(
      'JWT_SECRET: required on every Vercel deployment',
    );
    expect(problems({ VERCEL_ENV: 'preview', JWT_SECRET: DEV_JWT_SECRET }).join('\n')).toContain(
      'JWT_SECRET',
    );
    expect(problems({ VERCEL_ENV: 'preview', JWT_SECRET: 'p'.repeat(40) })).toEqual([]);
    // `vercel dev` on a laptop with the embedded database keeps working with nothing configured.
    expect(problems({ VERCEL_ENV: 'development' })).toEqual([]);
  });

  it('refuses the development JWT secret production-wide, even when set explicitly', () => {
    expect(problems({ ...PRODUCTION_READY, JWT_SECRET: DEV_JWT_SECRET }).join('\n')).toContain(
      'JWT_SECRET: the development secret',
    );
  });

  it.each([
    'postgres://app:pw@ep-cool-1.ap-southeast-1.aws.neon.tech/app',
    'postgresql://app@10.0.0.5:5432/app',
    'postgres://app@db.internal/app',
  ])('refuses the development JWT secret with a real database (%s)', (url) => {
    expect(problems({ DATABASE_URL: url }).join('\n')).toContain('JWT_SECRET: required when DATABASE_URL');
    expect(problems({ DATABASE_URL: url, VERCEL_ENV: 'development' }).join('\n')).toContain('JWT_SECRET');
    expect(problems({ DATABASE_URL: url, JWT_SECRET: 's'.repeat(40) })).toEqual([]);
  });

  it.each([
    'postgres://postgres@127.0.0.1:5432/app',
    'postgres://postgres@localhost/app',
    'postgres://postgres@[::1]:5432/app',
  ])('keeps the development secret for a local database (%s)', (url) => {
    expect(problems({ DATABASE_URL: url })).toEqual([]);
  });

  it('parses lists and booleans', () => {
    const c = loadConfig({ ADMIN_OPENIDS: ' dev:admin , o-1,,', S3_FORCE_PATH_STYLE: 'true' });
    expect(c.ADMIN_OPENIDS).toEqual(['dev:admin', 'o-1']);
    expect(c.S3_FORCE_PATH_STYLE).toBe(true);
  });

  it('RATE_LIMITS overrides the policies of the one table (lib/ratelimit/policies.ts), no others', () => {
    const every = Object.fromEntries(Object.keys(POLICIES).map((name) => [name, { limit: 5 }]));
    expect(loadConfig({ RATE_LIMITS: JSON.stringify(every) }).RATE_LIMITS).toEqual(every);
    const typo = JSON.stringify({ 'chat:user:minute': { limit: 5 }, 'chat:usr': { limit: 1 } });
    expect(problems({ RATE_LIMITS: typo })).toEqual(['RATE_LIMITS: Unrecognized key: "chat:usr"']);
    expect(problems({ RATE_LIMITS: JSON.stringify({ global: { failMode: 'half' } }) })).toHaveLength(1);
  });
});

describe('documentation of settings', () => {
  it('every variable the config reads is in docs/environment.md and .env.example', async () => {
    const fs = await import('node:fs');
    const source = fs.readFileSync('lib/config/index.ts', 'utf8');
    const keys = [...source.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1] as string);
    expect(keys.length).toBeGreaterThan(40);
    const doc = fs.readFileSync('docs/environment.md', 'utf8');
    const example = fs.readFileSync('.env.example', 'utf8');
    // Set by the platform or used only by tests.
    const notForUsers = ['VERCEL_ENV', 'VERCEL', 'NEON_WS_PROXY'];
    expect(keys.filter((k) => !doc.includes(`\`${k}\``))).toEqual([]);
    expect(keys.filter((k) => !notForUsers.includes(k) && !example.includes(`\n${k}=`))).toEqual([]);
  });
});
