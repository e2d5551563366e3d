// Test certificates made with openssl at run time: a self-signed leaf, a private CA with a leaf (sent with
// its root), and an expired leaf signed by that CA. Nothing is committed; everything lives in a temp dir.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Certs {
  dir: string;
  selfSigned: Pair;
  chained: Pair & { root: string };
  expired: Pair;
  rootFile: string;
}
interface Pair {
  key: string;
  cert: string;
}

export function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), 'doctor-certs-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const san = 'subjectAltName=IP:127.0.0.1,DNS:localhost';
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  /** A new key `name`.key and a request for `subject` with `extensions`: self-signed as `name`.pem, else `name`.csr. */
  const request = (name: string, subject: string, extensions: string[], selfSigned: boolean) =>
    ssl(
      'req',
      ...(selfSigned ? ['-x509', ...newKey, '-days', '2'] : newKey),
      '-keyout',
      `${name}.key`,
      '-out',
      selfSigned ? `${name}.pem` : `${name}.csr`,
      '-subj',
      subject,
      ...extensions.flatMap((e) => ['-addext', e]),
    );
  request('self', '/CN=127.0.0.1', [san], true);
  request(
    'root',
    '/CN=Doctor Test Root CA',
    ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'],
    true,
  );
  for (const n of ['leaf', 'old']) request(n, '/CN=127.0.0.1', [san], false);
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca=d',
      '[d]',
      'dir=.',
      'database=index.txt',
      'new_certs_dir=.',
      'serial=serial',
      'default_md=sha256',
      'policy=p',
      'copy_extensions=copy',
      'unique_subject=no',
      '[p]',
      'commonName=supplied',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  /** `name`.csr signed by the root CA into `name`.pem, valid as `validity` (openssl ca's options) says. */
  const signByRoot = (name: string, ...validity: string[]) =>
    ssl(
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      'root.pem',
      '-keyfile',
      'root.key',
      '-in',
      `${name}.csr`,
      '-out',
      `${name}.pem`,
      ...validity,
      '-notext',
    );
  signByRoot('leaf', '-days', '2');
  signByRoot('old', '-startdate', '20200101000000Z', '-enddate', '20200201000000Z');
  const r = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    dir,
    rootFile: join(dir, 'root.pem'),
    selfSigned: { key: r('self.key'), cert: r('self.pem') },
    chained: { key: r('leaf.key'), cert: r('leaf.pem') + r('root.pem'), root: r('root.pem') },
    expired: { key: r('old.key'), cert: r('old.pem') },
  };
}
