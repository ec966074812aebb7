import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      // Everything inside the test process: the apps mounted in process on an embedded PGlite, with
      // in-memory limits and local stand-ins. Needs nothing running.
      {
        test: {
          name: 'in-process',
          globalSetup: ['tests/global-setup.ts'],
          include: ['tests/in-process/**/*.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
          hookTimeout: 60_000,
        },
      },
      // Against real services and processes: PostgreSQL (through the Neon driver over a local
      // WebSocket proxy), Redis, a local S3 server, child processes, `vercel dev`, Chromium.
      {
        test: {
          name: 'services',
          globalSetup: ['tests/global-setup.ts'],
          include: ['tests/services/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
