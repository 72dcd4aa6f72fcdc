/**
 * Access tokens: JWT signed with HS256 (jose), `sub` = the user's id, `iss` and `aud` naming this
 * service, expiring after the configured TTL. Verification answers the user id or `undefined`; it
 * never throws, so a tampered, expired, foreign or malformed token can only ever become a 401.
 */
import { jwtVerify, SignJWT } from 'jose';

const ALGORITHM = 'HS256';
const USER_ID = /^[1-9]\d{0,15}$/;
/** Ours are about 200 characters; anything much longer is not worth verifying. */
const MAX_TOKEN_LENGTH = 2048;

export interface TokenOptions {
  secret: string;
  ttlSeconds: number;
  /** the `iss` claim: who issued it */
  issuer: string;
  /** the `aud` claim: who it is for */
  audience: string;
}

export class AccessTokens {
  private readonly key: Uint8Array;
  private readonly ttlSeconds: number;
  private readonly issuer: string;
  private readonly audience: string;

  constructor(options: TokenOptions) {
    this.key = new TextEncoder().encode(options.secret);
    this.ttlSeconds = options.ttlSeconds;
    this.issuer = options.issuer;
    this.audience = options.audience;
  }

  issue(userId: number): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(String(userId))
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + this.ttlSeconds)
      .sign(this.key);
  }

  /** The user id a valid token names; undefined for anything else (bad signature, expired, malformed, other algorithm). */
  async userIdOf(token: string): Promise<number | undefined> {
    return (await this.claimsOf(token))?.userId;
  }

  /** A valid token's user id and expiry (epoch ms); undefined for anything else. */
  async claimsOf(token: string): Promise<{ userId: number; expiresAt: number } | undefined> {
    if (token.length > MAX_TOKEN_LENGTH) return undefined;
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALGORITHM],
        issuer: this.issuer,
        audience: this.audience,
        requiredClaims: ['sub', 'exp'],
      });
      if (typeof payload.sub !== 'string' || !USER_ID.test(payload.sub) || typeof payload.exp !== 'number') return undefined;
      const userId = Number(payload.sub);
      return Number.isSafeInteger(userId) ? { userId, expiresAt: payload.exp * 1000 } : undefined;
    } catch {
      return undefined;
    }
  }
}
