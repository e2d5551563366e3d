// Password hashes as Verdaccio's htpasswd plugin writes them (bcrypt, SHA-1, Apache MD5, DES crypt),
// kept as they were by `tessera import verdaccio` and accepted once, at a user's first login, when the
// password is re-hashed with our own scrypt (passwords.ts). Verified exactly as the plugin verifies them.
import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import md5 from 'apache-md5';
import crypt from 'unix-crypt-td-js';

/** How an imported hash is stored in users.password_hash: never mistaken for one of ours. */
export const IMPORTED_PREFIX = 'htpasswd$';

export type HtpasswdEntry = {
  name: string;
  hash: string;
  algorithm: 'bcrypt' | 'sha1' | 'md5' | 'crypt' | 'plain' | 'unknown';
};

export function algorithmOf(hash: string): HtpasswdEntry['algorithm'] {
  if (/^\$2[aby]\$/.test(hash)) return 'bcrypt';
  if (hash.startsWith('{SHA}')) return 'sha1';
  if (hash.startsWith('{PLAIN}')) return 'plain';
  // MD5-crypt (`$1$`, from `openssl passwd -1`) too: the plugin checks it with Apache MD5's code.
  if (hash.startsWith('$apr1$') || hash.startsWith('$1$')) return 'md5';
  // The plugin's crypt(3) is DES only: `$5$`, `$6$`, yescrypt and the like match no password there.
  return /^[./0-9A-Za-z]{13}$/.test(hash) ? 'crypt' : 'unknown';
}

/** `name:hash[:comment]` lines, as the plugin reads them (blank and malformed lines skipped). */
export function parseHtpasswd(text: string): HtpasswdEntry[] {
  const out: HtpasswdEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    const [name, hash] = line.split(':', 3).map((s) => s.trim());
    if (name && hash) out.push({ name, hash, algorithm: algorithmOf(hash) });
  }
  return out;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a),
    y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether `password` matches an htpasswd hash, by the plugin's own rules. */
export async function verifyHtpasswd(password: string, hash: string): Promise<boolean> {
  switch (algorithmOf(hash)) {
    case 'bcrypt':
      return bcrypt.compare(password, hash);
    case 'sha1':
      return same(`{SHA}${createHash('sha1').update(password, 'utf8').digest('base64')}`, hash);
    case 'plain':
      return same(`{PLAIN}${password}`, hash);
    case 'md5':
      return same(md5(password, hash), hash);
    // The plugin tries Apache MD5, then crypt(3), for anything else.
    case 'crypt':
      return same(crypt(password, hash), hash);
    default:
      return false;
  }
}
