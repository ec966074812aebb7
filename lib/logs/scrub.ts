// Scrubs personal data and secrets out of client-sent log text before it is stored. The
// mini-program's logs are free text written by many hands: anything shaped like a phone number,
// ID-card number, email, token or key is replaced by a label, so a careless log call cannot put
// them into the database. Over-redaction is the safe failure here.

type Rule = { label: string; pattern: RegExp };

// Words that make a key secret wherever they end it ("wxToken", "db_password", "x-api-key").
const SECRET_WORDS =
  'access_?token|refresh_?token|id_?token|token|secret|password|passwd|passcode|pwd|api_?key|apikey|' +
  'session_?key|private_?key|access_?key|secret_?key|signature|credential|cookie|ticket|js_?code|' +
  'x-amz-signature|x-amz-credential|x-amz-security-token|x-cos-security-token|q-signature|q-ak';
// Short keys that are secret only on their own: "key=…", "sk=…", "pw=…" but not "monkey=…".
const SHORT_SECRET_KEYS = 'pw|pass|pin|otp|sk|ak|key|sig|sign|sid';

// Digits next to a match mean it is part of a longer number: (?<!\d) / (?!\d) instead of \b,
// which does not separate digits from CJK text the way people write it ("电话13812345678").
const RULES: Rule[] = [
  // JWTs and other dotted tokens first: their pieces would otherwise be half-matched below.
  { label: '[token]', pattern: /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g },
  { label: 'Bearer [token]', pattern: /\bBearer\s+[A-Za-z0-9._~+/=-]+/gi },
  // key=value and "key": "value" pairs whose key names a secret (query strings, headers, JSON text):
  // any key ending in a secret word (wxToken, session_key, x-api-key), or a short one on its own.
  {
    label: '$1[secret]',
    pattern: new RegExp(
      `((?:\\b[A-Za-z0-9_-]*?(?:${SECRET_WORDS})|\\b(?:${SHORT_SECRET_KEYS}))["']?\\s*[=:]\\s*["']?)[^\\s"'&,;}]+`,
      'gi',
    ),
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
  // Any 11 or more digits written with spaces, dashes, dots or slashes between them
  // ("1 3 8 1 2 3 4 5 6 7 8", "6222 0212 3456 7890", "110105 19491231 002X"): the separators are
  // how people, and people avoiding a filter, write numbers. Dates and times stay under 11 digits.
  {
    label: '[number]',
    pattern: /(?<![0-9A-Za-z])\d(?:[\s./-]{1,2}\d|\d){10,}(?:[\s-]?[Xx])?(?![0-9A-Za-z])/g,
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
const SECRET_KEY = new RegExp(
  `(?:${SECRET_WORDS}|authorization|set-cookie|phone|mobile|telephone|id_?card|idcard|email)$|^(?:${SHORT_SECRET_KEYS}|tel)$`,
  'i',
);

// Zero-width and other invisible format characters: they split a number or a key for a pattern
// while the text still reads the same.
const INVISIBLE = /\p{Cf}/gu;

// What NFKC may turn a character into for it to be replaced: the ASCII the rules read.
const RULE_ASCII = /^[A-Za-z0-9@.=:+/_-]+$/;

/**
 * NFKC first: full-width digits and letters (１３９…, ｔｏｋｅｎ), circled digits and other
 * compatibility forms become the ASCII the rules look for, and invisible characters go. Only
 * characters that become such ASCII are replaced: Chinese punctuation (，。：) stays as written.
 */
function normalise(text: string): string {
  return text.replace(INVISIBLE, '').replace(/[^\p{ASCII}]/gu, (ch) => {
    const n = ch.normalize('NFKC');
    return RULE_ASCII.test(n) ? n : ch;
  });
}

export function scrubText(text: string): string {
  let out = normalise(text);
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
    out[scrubText(k)] = SECRET_KEY.test(normalise(k)) ? '[redacted]' : scrubValue(v, depth + 1);
  }
  return out;
}

export function scrubContext(context: Record<string, unknown>): Record<string, unknown> {
  return scrubValue(context) as Record<string, unknown>;
}
