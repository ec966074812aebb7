// `npm run db:migrate`: applies the committed migrations in drizzle/ to DATABASE_URL (or to the
// embedded database under DATA_DIR when no URL is set).
import { getConfig } from '../lib/config/index.js';
import { openDatabase } from '../lib/db/index.js';

const config = getConfig();
const h = await openDatabase({
  url: config.DATABASE_URL,
  driver: config.DATABASE_DRIVER,
  pgliteDir: `${config.DATA_DIR}/pglite`,
  neonWsProxy: config.NEON_WS_PROXY,
});
const started = performance.now();
await h.migrate();
console.log(
  `migrations applied with the ${h.driver} driver in ${Math.round(performance.now() - started)} ms`,
);
await h.close();
