/**
 * Password hashing: argon2id with the OWASP minimum parameters (m=19 MiB, t=2, p=1), stored as a
 * PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) so the parameters travel with the hash
 * and can be raised later without breaking old accounts.
 */
import { randomBytes } from 'node:crypto';
import { type Algorithm, hash, verify } from '@node-rs/argon2';

/** Password policy, shared by the request schemas and the hashing code. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

// `Algorithm` is an ambient const enum, which isolatedModules cannot read at runtime: 2 is Argon2id.
const ARGON2ID = 2 as Algorithm.Argon2id;

/** OWASP Password Storage Cheat Sheet, argon2id, first option. */
export const ARGON2_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * Hashes a password for storage. NFC normalisation first, so the same password typed on two
 * keyboards (composed vs decomposed accents) matches.
 */
export function hashPassword(password: string): Promise<string> {
  return hash(password.normalize('NFC'), ARGON2_OPTIONS);
}

let dummyHash: Promise<string> | undefined;

/**
 * A hash of a random password with the same parameters, made once: verifying against it when the
 * account does not exist costs the same time as a real check, so login latency does not reveal
 * which emails are registered.
 */
function getDummyHash(): Promise<string> {
  dummyHash ??= hash(randomBytes(32).toString('base64url'), ARGON2_OPTIONS);
  return dummyHash;
}

/**
 * Checks a password against a stored PHC hash. Pass `undefined` when no account matched: a dummy
 * hash is verified instead and the answer is false. Never throws on a malformed stored hash (a
 * corrupt row must read as a refusal, not a 500).
 */
export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  const candidate = password.normalize('NFC');
  if (storedHash === undefined) {
    await verify(await getDummyHash(), candidate).catch(() => false);
    return false;
  }
  try {
    return await verify(storedHash, candidate);
  } catch {
    return false;
  }
}

/** Warms the dummy hash so the first unknown-email login is not slower than later ones. */
export async function warmUpPasswords(): Promise<void> {
  await getDummyHash();
}
