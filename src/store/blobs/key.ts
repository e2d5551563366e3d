// A blob's key is the sha512 of its bytes in hex, whichever store keeps it.
import { createHash } from 'node:crypto';

export const KEY = /^[0-9a-f]{128}$/;

/** The key of `data`. `sha512` is the integrity (`sha512-<base64>`) its caller computed from these very bytes,
 *  when it has one: a tarball is then not hashed again to be stored. */
export function keyOf(data: Buffer, sha512?: string): string {
  if (sha512?.startsWith('sha512-')) {
    const hex = Buffer.from(sha512.slice(7), 'base64').toString('hex');
    if (KEY.test(hex)) return hex;
  }
  return createHash('sha512').update(data).digest('hex');
}
