// Passwords: scrypt (memory-hard, in node:crypto), compared in constant time.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { IMPORTED_PREFIX, verifyHtpasswd } from './htpasswd.ts';

const N = 16384,
  R = 8,
  P = 1,
  KEYLEN = 32;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((res, rej) =>
    scrypt(password, salt, KEYLEN, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? rej(err) : res(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  if (!stored) return false;
  if (stored.startsWith(IMPORTED_PREFIX)) return verifyHtpasswd(password, stored.slice(IMPORTED_PREFIX.length));
  const [alg, n, r, p, salt, key] = stored.split('$');
  if (alg !== 'scrypt') return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A hash this registry did not make (an imported one): replace it once the password is known to be right. */
export function needsRehash(stored: string): boolean {
  return !stored.startsWith('scrypt$');
}

export function validatePassword(password: unknown): string | undefined {
  if (typeof password !== 'string' || password.length < 8) return 'Passwords must be at least 8 characters long';
  if (password.length > 1024) return 'Passwords must be at most 1024 characters long';
  return undefined;
}
