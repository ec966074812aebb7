// Access tokens: short-lived HS256 JWTs verified with an explicit algorithm list, issuer,
// audience, expiry and a small clock tolerance. Anything else (alg:none, other keys) is refused.
// Subpath imports: the jose root module loads every algorithm family (JWE, JWK, …) on cold start.
import { JOSEError } from 'jose/errors';
import { SignJWT } from 'jose/jwt/sign';
import { jwtVerify } from 'jose/jwt/verify';
import { type Config, DEV_JWT_SECRET } from '../config/index.js';

const ALG = 'HS256';
/** Clock skew accepted between instances for exp, iat and nbf. */
export const CLOCK_TOLERANCE_SECONDS = 5;

export type AccessClaims = { sub: string; role: 'user' | 'admin'; sid: string };

function key(config: Config): Uint8Array {
  return new TextEncoder().encode(config.JWT_SECRET ?? DEV_JWT_SECRET);
}

export async function signAccessToken(config: Config, claims: AccessClaims, now: Date): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ role: claims.role, sid: claims.sid })
    .setProtectedHeader({ alg: ALG, typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + config.ACCESS_TOKEN_TTL_SECONDS)
    .setJti(crypto.randomUUID())
    .sign(key(config));
}

/** The token's claims, or null when it is not a valid access token for this service. */
export async function verifyAccessToken(
  config: Config,
  token: string,
  now: Date,
): Promise<AccessClaims | null> {
  try {
    const { payload } = await jwtVerify(token, key(config), {
      algorithms: [ALG],
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: now,
      // Refuses an `iat` older than the access lifetime (a token minted with a longer `exp`) and
      // one ahead of the clock beyond the tolerance (jose checks both when maxTokenAge is set).
      maxTokenAge: config.ACCESS_TOKEN_TTL_SECONDS,
      requiredClaims: ['exp', 'iat', 'sub'],
    });
    const { sub, role, sid } = payload;
    if (typeof sub !== 'string' || typeof sid !== 'string' || (role !== 'user' && role !== 'admin'))
      return null;
    return { sub, role, sid };
  } catch (err) {
    if (err instanceof JOSEError) return null;
    throw err;
  }
}
