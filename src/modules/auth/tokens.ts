/**
 * Access tokens: JWT signed with HS256 (jose), `sub` = the user's id, expiring after the configured
 * TTL. Verification answers the user id or `undefined`; it never throws, so a tampered, expired or
 * malformed token can only ever become a 401.
 */
import { jwtVerify, SignJWT } from 'jose';

const ALGORITHM = 'HS256';
const USER_ID = /^[1-9]\d{0,15}$/;

export class AccessTokens {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  issue(userId: number): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(String(userId))
      .setIssuedAt(now)
      .setExpirationTime(now + this.ttlSeconds)
      .sign(this.key);
  }

  /** The user id a valid token names; undefined for anything else (bad signature, expired, malformed, other algorithm). */
  async userIdOf(token: string): Promise<number | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: [ALGORITHM], requiredClaims: ['sub', 'exp'] });
      if (typeof payload.sub !== 'string' || !USER_ID.test(payload.sub)) return undefined;
      const userId = Number(payload.sub);
      return Number.isSafeInteger(userId) ? userId : undefined;
    } catch {
      return undefined;
    }
  }
}
