// The conversations function (routes arrive with its issue).
import { type App, createApp } from '../../lib/http/app.js';
import { getRuntime, type Runtime } from '../../lib/runtime.js';

export function build(runtime: () => Runtime = getRuntime): App {
  return createApp('conversations', runtime);
}

export default build();
