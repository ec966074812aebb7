// Every local part at once, for walk-throughs over real HTTP: the real PostgreSQL (Neon driver),
// the verifying local S3, the local model server, and the service listening on loopback.
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import type { LocalServer } from '../../dev/server.js';
import { createHarness, type Harness, type HarnessOptions } from './harness.js';
import { startTestStorage, type TestStorage } from './storage.js';

export type Stack = {
  mock: MockLlm;
  s3: TestStorage;
  h: Harness;
  server: LocalServer;
  close(): Promise<void>;
};

export async function startStack(opts: {
  env?: Record<string, string>;
  overrides?: HarnessOptions['overrides'];
}): Promise<Stack> {
  const mock = await startMockLlm();
  const s3 = await startTestStorage();
  const h = await createHarness({
    db: 'postgres',
    env: {
      ...s3.env,
      OPENAI_BASE_URL: mock.baseURL,
      OPENAI_API_KEY: 'test',
      CHAT_MODEL: 'mock-chat',
      VISION_MODEL: 'mock-vision',
      LLM_MAX_RETRIES: '0',
      ...opts.env,
    },
    overrides: opts.overrides,
  });
  const server = await h.listen();
  return {
    mock,
    s3,
    h,
    server,
    close: async () => {
      await h.close();
      await s3.close();
      await mock.close();
    },
  };
}
