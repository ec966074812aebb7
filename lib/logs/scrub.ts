// Scrubs personal data and secrets out of client-sent log text before it is stored. The
// mini-program's logs are free text written by many hands: anything shaped like a phone number,
// ID-card number, email, token or key is replaced by a label, so a careless log call cannot put
// them into the database. Over-redaction is the safe failure here.

type Rule = { label: string; pattern: RegExp };

// Digits next to a match mean it is part of a longer number: (?<!\d) / (?!\d) instead of \b,
// which does not separate digits from CJK text the way people write it ("电话13812345678").
const RULES: Rule[] = [
  // JWTs and other dotted tokens first: their pieces would otherwise be half-matched below.
  { label: '[token]', pattern: /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g },
  { label: 'Bearer [token]', pattern: /\bBearer\s+[A-Za-z0-9._~+/=-]+/gi },
  // key=value and "key": "value" pairs whose key names a secret (query strings, headers, JSON text).
  {
    label: '$1[secret]',
    pattern:
      /\b((?:access_?token|refresh_?token|id_?token|token|secret|password|passwd|pwd|api_?key|session_?key|signature|x-amz-signature|x-amz-credential|x-amz-security-token|q-signature|q-ak|sign)["']?\s*[=:]\s*["']?)[^\s"'&,;}]+/gi,
  },
  { label: '[email]', pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g },
  // Resident ID card: 17 digits and a digit or X (15-digit legacy numbers too).
  { label: '[id-card]', pattern: /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/g },
  { label: '[id-card]', pattern: /(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])/g },
  // Bank card numbers (16 to 19 digits).
  { label: '[number]', pattern: /(?<![0-9A-Za-z])\d{16,19}(?![0-9A-Za-z])/g },
  // Mobile numbers, with or without +86 and with spaces or dashes between the groups.
  {
    label: '[phone]',
    pattern: /(?<![0-9])(?:(?:\+|00)?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?![0-9])/g,
  },
  // Landlines: a 0-prefixed area code (optionally in brackets), then 7 or 8 digits, maybe an extension.
  {
    label: '[phone]',
    pattern:
      /(?<![0-9])(?:(?:\+|00)?86[\s-]?)?\(?0\d{2,3}\)?[\s-]?\d{7,8}(?:[\s-]?(?:ext|转|x)\s*\d{1,6})?(?![0-9])/gi,
  },
  // Long hex strings: keys, hashes, session ids.
  { label: '[secret]', pattern: /(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])/g },
  // Long base64/base64url runs mixing digits, lower and upper case: keys and opaque tokens.
  // Identifiers (snake_case, UUIDs, page paths) rarely have all three in a 20+ character run.
  {
    label: '[secret]',
    pattern:
      /(?<![A-Za-z0-9+_-])(?=[A-Za-z0-9+_-]*\d)(?=[A-Za-z0-9+_-]*[a-z])(?=[A-Za-z0-9+_-]*[A-Z])[A-Za-z0-9+_-]{20,}={0,2}/g,
  },
];

/** Object keys whose values are dropped whole, whatever they look like. */
const SECRET_KEY =
  /^(authorization|cookie|set-cookie|password|passwd|pwd|secret|token|access_?token|refresh_?token|id_?token|session_?key|api_?key|signature|phone|mobile|tel|telephone|id_?card|idcard|email)$/i;

export function scrubText(text: string): string {
  let out = text;
  for (const rule of RULES) out = out.replace(rule.pattern, rule.label);
  return out;
}

const MAX_DEPTH = 12;

/** Scrubs every string (keys included) in a JSON-like value; secret-named keys lose their value. */
export function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') {
    return typeof value === 'number' || typeof value === 'boolean' ? value : null;
  }
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[scrubText(k)] = SECRET_KEY.test(k) ? '[redacted]' : scrubValue(v, depth + 1);
  }
  return out;
}

export function scrubContext(context: Record<string, unknown>): Record<string, unknown> {
  return scrubValue(context) as Record<string, unknown>;
}
