// The modules of the functions that serve the API (every deployed function but docs), loaded on
// demand: the docs function merges their documents, the local server mounts them. Vercel does not
// turn `_`-prefixed files into functions.
import type { FunctionName } from '../lib/functions.js';
import type { FunctionModule } from '../lib/http/app.js';

export const apiLoaders: Record<Exclude<FunctionName, 'docs'>, () => Promise<FunctionModule>> = {
  health: () => import('./v1/health.js'),
  users: () => import('./v1/users.js'),
  conversations: () => import('./v1/conversations.js'),
  'text-chat': () => import('./v1/text-chat.js'),
  'vision-chat': () => import('./v1/vision-chat.js'),
  uploads: () => import('./v1/uploads.js'),
  records: () => import('./v1/records.js'),
  logs: () => import('./v1/logs.js'),
};
