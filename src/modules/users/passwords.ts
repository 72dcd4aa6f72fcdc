/** Password hashing: argon2id through @node-rs/argon2 (its binary ships in the npm package). */
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

// The library's default algorithm is argon2id; these are OWASP's baseline costs for it: 19 MiB, 2 passes, 1 lane.
const OPTIONS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export function verifyPassword(hashed: string, password: string): Promise<boolean> {
  return verify(hashed, password).catch(() => false);
}

// A hash of a random password nobody knows, computed once: logins with an unknown email verify
// against it so they take as long as logins with a wrong password.
let dummyHash: Promise<string> | undefined;

function theDummyHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(32).toString('base64url'));
  return dummyHash;
}

/** Computes the dummy hash ahead of the first login, so even that one takes no longer than the others. */
export async function prepareDummyHash(): Promise<void> {
  await theDummyHash();
}

/** Spends the same time as verifyPassword, for an account that does not exist; always false. */
export async function verifyAgainstDummy(password: string): Promise<false> {
  await verifyPassword(await theDummyHash(), password);
  return false;
}
