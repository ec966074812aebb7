/**
 * Starts the mock LLM on its own, for benchmarks and manual poking:
 *
 *   npx tsx dev/mock-llm/cli.ts [--port 8787] [--host 127.0.0.1] [--plain]
 *                               [--chunk-delay 15] [--first-token-delay 0] [--chunk-size 4]
 *                               [--json report|notreport|broken]
 *
 * Prints the baseURL on stdout (first line) so scripts can capture it.
 * Default is the labelled "simulated" stand-in; `--plain` drops the label and the 15 ms pacing,
 * which is what a throughput benchmark wants.
 */
import { parseArgs } from 'node:util';
import { type MockBehavior, startMockLlm } from './index.js';

function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--${name} must be a non-negative integer, got ${value}`);
  return n;
}

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    plain: { type: 'boolean', default: false },
    'chunk-delay': { type: 'string' },
    'first-token-delay': { type: 'string' },
    'chunk-size': { type: 'string' },
    // The answer to JSON-mode (lab report) requests: there is no user text to put a directive in.
    json: { type: 'string' },
  },
});

const defaults: MockBehavior = {};
const chunkDelayMs = intOption('chunk-delay', values['chunk-delay']);
const firstTokenDelayMs = intOption('first-token-delay', values['first-token-delay']);
const chunkSize = intOption('chunk-size', values['chunk-size']);
if (chunkDelayMs !== undefined) defaults.chunkDelayMs = chunkDelayMs;
if (firstTokenDelayMs !== undefined) defaults.firstTokenDelayMs = firstTokenDelayMs;
if (chunkSize !== undefined && chunkSize > 0) defaults.chunkSize = chunkSize;
const json = values.json;
if (json !== undefined) {
  if (json !== 'report' && json !== 'notreport' && json !== 'broken') {
    throw new Error(`--json must be report, notreport or broken, got ${json}`);
  }
  defaults.json = json;
}

const mock = await startMockLlm({
  host: values.host ?? '127.0.0.1',
  port: intOption('port', values.port) ?? 0,
  simulated: !values.plain,
  defaults,
});

console.log(mock.baseURL);
console.error(
  `mock-llm listening (${values.plain ? 'plain' : 'simulated'}); fault directives: [[mock:status=500]] ` +
    '[[mock:cut=3]] [[mock:delay=2000]] [[mock:nousage]] [[mock:hang]] [[mock:json=broken]]',
);

const stop = () => {
  void mock.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
