// Who may run a scheduled job over HTTP (the retention job).
import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.js';
import type { AppEnv } from './app.js';
import { requireAdmin, requireAuth } from './auth.js';

const secretsEqual = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * Vercel cron calls with `Authorization: Bearer $CRON_SECRET`. Without a CRON_SECRET only a
 * development deployment runs it, and only for a signed-in admin; production refuses.
 */
export const requireCron: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { config } = c.get('rt');
  if (config.CRON_SECRET) {
    const header = c.req.header('authorization') ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!secretsEqual(given, config.CRON_SECRET)) {
      throw new AppError('UNAUTHORIZED', 'missing or invalid cron secret');
    }
    return next();
  }
  if (config.production) throw new AppError('FORBIDDEN', 'CRON_SECRET is not configured');
  return requireAuth(c, async () => {
    await requireAdmin(c, next);
  });
};
