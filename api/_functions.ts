// Every deployed function's module, loaded on demand (the local server and the docs function use
// this; Vercel does not turn `_`-prefixed files into functions).
import type { FunctionModule, FunctionName } from '../lib/functions.js';

export const loaders: Record<FunctionName, () => Promise<FunctionModule>> = {
  health: () => import('./v1/health.js'),
  users: () => import('./v1/users.js'),
  conversations: () => import('./v1/conversations.js'),
  'text-chat': () => import('./v1/text-chat.js'),
  'vision-chat': () => import('./v1/vision-chat.js'),
  uploads: () => import('./v1/uploads.js'),
  logs: () => import('./v1/logs.js'),
  docs: () => import('./v1/docs.js'),
};
