// Every deployed function's module, loaded on demand (the local server and tests use this; Vercel
// does not turn `_`-prefixed files into functions).
import type { FunctionName } from '../lib/functions.js';
import type { FunctionModule } from '../lib/http/app.js';
import { apiLoaders } from './_apis.js';

export const loaders: Record<FunctionName, () => Promise<FunctionModule>> = {
  ...apiLoaders,
  docs: () => import('./v1/docs.js'),
};
