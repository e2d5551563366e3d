// Token format: `tsr_` + 30 base62 chars (≈178 random bits) + 6 base62 chars of CRC32(body).
// The checksum lets scanners and the doctor recognise a truncated or mistyped token offline.
import { createHash, randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const TOKEN_PREFIX = 'tsr_';
/** The longest expiry any token may have, even where the policy sets no maximum: dates stay printable. */
export const MAX_EXPIRY_DAYS = 36_500;
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 30;
const CHECK_LENGTH = 6;
export const TOKEN_LENGTH = TOKEN_PREFIX.length + BODY_LENGTH + CHECK_LENGTH;

function base62(n: number, width: number): string {
  let out = '';
  let v = n;
  while (v > 0) {
    out = ALPHABET[v % 62] + out;
    v = Math.floor(v / 62);
  }
  return out.padStart(width, '0');
}

function checksum(body: string): string {
  return base62(crc32(body) >>> 0, CHECK_LENGTH);
}

export function generateToken(): string {
  let body = '';
  for (let i = 0; i < BODY_LENGTH; i++) body += ALPHABET[randomInt(62)];
  return TOKEN_PREFIX + body + checksum(body);
}

export function isTesseraToken(s: string): boolean {
  return s.startsWith(TOKEN_PREFIX);
}

/** True when `s` is a whole Tessera token whose checksum matches its body. */
export function tokenChecksumValid(s: string): boolean {
  if (s.length !== TOKEN_LENGTH || !isTesseraToken(s)) return false;
  const body = s.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + BODY_LENGTH);
  if (!/^[0-9A-Za-z]+$/.test(body)) return false;
  return s.slice(-CHECK_LENGTH) === checksum(body);
}

/** Tokens are stored and looked up only by this digest. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** What may be shown of a token after creation: its prefix, never enough to use it. */
export function redactToken(token: string): string {
  return token.slice(0, TOKEN_PREFIX.length + 4);
}
