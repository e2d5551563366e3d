// Compression bombs for the publish bounds: small gzip uploads that unpack to gigabytes. Built from
// concatenated gzip members (gunzip reads them as one stream), so making one costs a few milliseconds.
import { gzipSync } from 'node:zlib';

const MiB = 1024 * 1024;
let zeroMember: Buffer | undefined;

/** 1 MiB of zeros as one gzip member (about 1 KB). */
function zeros(): Buffer {
  zeroMember ??= gzipSync(Buffer.alloc(MiB), { level: 9 });
  return zeroMember;
}

/** A gzip of `mib` MiB of zeros: no tar at all, as in the issue (1 MB of gzip, 1 GB unpacked). */
export function gzipOfZeros(mib: number): Buffer {
  return Buffer.concat(Array.from({ length: mib }, zeros));
}

/** A ustar header block for a regular file. */
function header(path: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(path, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write(
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, '0')}\0`,
    136,
    'latin1',
  );
  h.write('0', 156, 'latin1');
  h.write('ustar\u000000', 257, 'latin1');
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

function file(path: string, content: Buffer): Buffer {
  const pad = (512 - (content.length % 512)) % 512;
  return Buffer.concat([header(path, content.length), content, Buffer.alloc(pad)]);
}

/**
 * A real npm-layout tarball with `package/zeros.bin` of `mib` MiB of zeros. Its package.json comes
 * before the zeros (`first`), after them, or not at all (`never`).
 */
export function tarBomb(name: string, version: string, mib: number, manifest: 'first' | 'last' | 'never'): Buffer {
  const pkg = gzipSync(file('package/package.json', Buffer.from(JSON.stringify({ name, version }))));
  const parts = [gzipSync(header('package/zeros.bin', mib * MiB)), gzipOfZeros(mib)];
  if (manifest === 'first') parts.unshift(pkg);
  if (manifest === 'last') parts.push(pkg);
  parts.push(gzipSync(Buffer.alloc(1024)));
  return Buffer.concat(parts);
}
