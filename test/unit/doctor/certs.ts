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
  ssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'self.key',
    '-out',
    'self.pem',
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    san,
  );
  ssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'root.key',
    '-out',
    'root.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Doctor Test Root CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  for (const n of ['leaf', 'old'])
    ssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${n}.key`,
      '-out',
      `${n}.csr`,
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      san,
    );
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
    'leaf.csr',
    '-out',
    'leaf.pem',
    '-days',
    '2',
    '-notext',
  );
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
    'old.csr',
    '-out',
    'old.pem',
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200201000000Z',
    '-notext',
  );
  const r = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    dir,
    rootFile: join(dir, 'root.pem'),
    selfSigned: { key: r('self.key'), cert: r('self.pem') },
    chained: { key: r('leaf.key'), cert: r('leaf.pem') + r('root.pem'), root: r('root.pem') },
    expired: { key: r('old.key'), cert: r('old.pem') },
  };
}
