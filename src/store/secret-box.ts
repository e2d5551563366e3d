// Encrypts the few secrets that cannot be hashed (TOTP seeds) with a key kept in the data folder
// (created on first use, mode 0600), so a copy of the database alone does not reveal them.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const cache = new Map<string, Buffer>();

function key(dataDir: string): Buffer {
  let k = cache.get(dataDir);
  if (k) return k;
  const path = join(dataDir, 'secret.key');
  if (!existsSync(path)) {
    try {
      writeFileSync(path, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    } catch {
      /* another process created it first */
    }
  }
  k = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  cache.set(dataDir, k);
  return k;
}

export function seal(dataDir: string, plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key(dataDir), iv);
  const data = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return `v1.${iv.toString('base64')}.${c.getAuthTag().toString('base64')}.${data.toString('base64')}`;
}

export function open(dataDir: string, sealed: string): string {
  const [v, iv, tag, data] = sealed.split('.');
  if (v !== 'v1') throw new Error('unknown sealed secret format');
  const d = createDecipheriv('aes-256-gcm', key(dataDir), Buffer.from(iv, 'base64'));
  d.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([d.update(Buffer.from(data, 'base64')), d.final()]).toString('utf8');
}

/** The data folder's key, made now if nothing was sealed yet: every node of a cluster needs this same file. */
export function sealingKey(dataDir: string): { key: Buffer; path: string } {
  return { key: key(dataDir), path: join(dataDir, 'secret.key') };
}
