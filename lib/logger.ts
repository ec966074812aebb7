// Structured JSON logs. Callers log ids, routes, statuses and codes, never what a patient wrote;
// the redact list is a second line of defence for fields that must never reach a log line.
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  'authorization',
  'token',
  'accessToken',
  'refreshToken',
  'code',
  'content',
  'message_text',
  'session_key',
  'healthProfile',
  'url',
  '*.authorization',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.session_key',
  '*.content',
  '*.healthProfile',
  '*.url',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const opts = {
    level,
    base: undefined,
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(opts, destination) : pino(opts);
}

/** An error's type and stack without its message line, which may quote data (SQL values, inputs). */
export function errorFields(err: unknown): { errorType: string; stack?: string } {
  if (!(err instanceof Error)) return { errorType: typeof err };
  const frames = err.stack
    ?.split('\n')
    .filter((l) => l.trimStart().startsWith('at '))
    .slice(0, 8);
  return { errorType: err.name, stack: frames?.join('\n') };
}
