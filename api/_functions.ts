// Every deployed function's module, loaded on demand (the local server and tests use this; Vercel
// does not turn `_`-prefixed files into functions).
import type { FunctionModule, FunctionName } from '../lib/functions.js';
import { apiLoaders } from './_apis.js';

export const loaders: Record<FunctionName, () => Promise<FunctionModule>> = {
  ...apiLoaders,
  docs: () => import('./v1/docs.js'),
};
