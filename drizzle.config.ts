import { defineConfig } from 'drizzle-kit';

// Generation needs no database: `npm run db:generate` diffs lib/db/schema.ts against drizzle/.
export default defineConfig({
  dialect: 'postgresql',
  schema: './lib/db/schema.ts',
  out: './drizzle',
});
