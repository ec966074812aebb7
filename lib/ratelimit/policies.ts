/**
 * The one table of request-rate policies.
 *
 * | policy            | limit | window | failMode | why this fail mode                                        |
 * |-------------------|-------|--------|----------|-----------------------------------------------------------|
 * | login:ip          | 20    | 1 m    | closed   | protects accounts from credential/code stuffing           |
 * | login:openid      | 10    | 1 m    | closed   | same, per WeChat openid                                   |
 * | chat:user:minute  | 10    | 1 m    | closed   | every chat turn is a paid model call                      |
 * | chat:user:day     | 200   | 1 d    | closed   | daily spend cap per user                                  |
 * | upload:user       | 30    | 1 m    | closed   | uploads feed paid vision/OCR calls and storage            |
 * | logs:user         | 60    | 1 m    | open     | client log ingestion is cheap; losing the limiter must not |
 * |                   |       |        |          | stop users, and logs help debug the outage itself          |
 * | global            | 1800  | 1 m    | closed   | whole-service brake on model spend; below WeChat's         |
 * |                   |       |        |          | msg_sec_check quota (4,000/min, two checks per question)   |
 *
 * "closed" = when Redis is unreachable or slower than the store timeout the request is denied (503);
 * "open" = it is allowed and flagged `unavailable`.
 * Windows are sliding (weighted previous + current fixed window, as @upstash/ratelimit implements it).
 *
 * Imports nothing: lib/config validates RATE_LIMITS against this table (see lib/README.md, ground).
 */

export const FAIL_MODES = ['open', 'closed'] as const;
export type FailMode = (typeof FAIL_MODES)[number];

export type WindowUnit = 'ms' | 's' | 'm' | 'h' | 'd';
/** Same duration syntax as @upstash/ratelimit, e.g. `1 m`, `30 s`, `1 d`. */
export type WindowSpec = `${number} ${WindowUnit}`;

export interface PolicySpec {
  limit: number;
  window: WindowSpec;
  algorithm: 'slidingWindow';
  failMode: FailMode;
}

// The names are this table's keys: PolicyName, POLICY_NAMES and the config's RATE_LIMITS schema
// all come from it.
const TABLE = {
  'login:ip': { limit: 20, window: '1 m', algorithm: 'slidingWindow', failMode: 'closed' },
  'login:openid': { limit: 10, window: '1 m', algorithm: 'slidingWindow', failMode: 'closed' },
  'chat:user:minute': { limit: 10, window: '1 m', algorithm: 'slidingWindow', failMode: 'closed' },
  'chat:user:day': { limit: 200, window: '1 d', algorithm: 'slidingWindow', failMode: 'closed' },
  'upload:user': { limit: 30, window: '1 m', algorithm: 'slidingWindow', failMode: 'closed' },
  'logs:user': { limit: 60, window: '1 m', algorithm: 'slidingWindow', failMode: 'open' },
  global: { limit: 1800, window: '1 m', algorithm: 'slidingWindow', failMode: 'closed' },
} satisfies Record<string, PolicySpec>;

export type PolicyName = keyof typeof TABLE;

export type PolicyTable = Readonly<Record<PolicyName, Readonly<PolicySpec>>>;
export type PolicyOverrides = Partial<Record<PolicyName, Partial<PolicySpec>>>;

export const POLICIES: PolicyTable = TABLE;

export const POLICY_NAMES = Object.keys(POLICIES) as PolicyName[];

const UNIT_MS: Record<WindowUnit, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function windowToMs(window: WindowSpec): number {
  const match = /^(\d+(?:\.\d+)?) (ms|s|m|h|d)$/.exec(window);
  if (!match) throw new Error(`invalid window: ${window}`);
  const ms = Math.round(Number(match[1]) * UNIT_MS[match[2] as WindowUnit]);
  if (ms < 1) throw new Error(`window too small: ${window}`);
  return ms;
}

/** Merges overrides over the defaults and validates every entry (fails at startup, not per request). */
export function resolvePolicies(overrides: PolicyOverrides = {}): PolicyTable {
  const table = {} as Record<PolicyName, PolicySpec>;
  for (const name of POLICY_NAMES) {
    const spec: PolicySpec = { ...POLICIES[name], ...overrides[name] };
    if (!Number.isInteger(spec.limit) || spec.limit < 1) throw new Error(`policy ${name}: bad limit`);
    if (spec.failMode !== 'open' && spec.failMode !== 'closed')
      throw new Error(`policy ${name}: bad failMode`);
    windowToMs(spec.window);
    table[name] = Object.freeze(spec);
  }
  for (const name of Object.keys(overrides)) {
    if (!(name in POLICIES)) throw new Error(`unknown policy override: ${name}`);
  }
  return Object.freeze(table);
}
