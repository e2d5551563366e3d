// A throwaway OpenLDAP slapd (Debian's package; .ci/run installs it) on free loopback ports with a test
// directory: a generated slapd.conf, the LDIF loaded by slapadd before start, a fresh CA and server
// certificate for LDAPS and StartTLS. Each test starts its own and kills only the process it started.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { freePort } from './ports.ts';
import type { LdapConfig } from '../../src/config/auth.ts';

export const SLAPD = '/usr/sbin/slapd';
export const BASE = 'dc=example,dc=test';
export const ADMIN_DN = `cn=admin,${BASE}`;
export const ADMIN_PASSWORD = 'admin-secret';
export const PEOPLE = `ou=people,${BASE}`;
export const GROUPS = `ou=groups,${BASE}`;

export type DirectoryUser = { uid: string; password: string; mail?: string };
export type DirectoryGroup = { cn: string; members: string[] };

export type Slapd = {
  url: string; // ldap://127.0.0.1:PORT
  ldapsUrl: string; // ldaps://127.0.0.1:PORT
  caFile: string; // the CA that signed the server's certificate (for 127.0.0.1)
  userDn(uid: string): string;
  /** Runs `fn` with a client bound as the directory's administrator. */
  admin<T>(fn: (c: Client) => Promise<T>): Promise<T>;
  removeFromGroup(cn: string, uid: string): Promise<void>;
  deleteUser(uid: string): Promise<void>;
  stop(): Promise<void>;
};

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.on('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
}

function certificates(dir: string): { ca: string; cert: string; key: string } {
  const ca = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca-key.pem');
  const key = join(dir, 'server-key.pem');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.pem');
  const ext = join(dir, 'ext.cnf');
  const ssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    caKey,
    '-out',
    ca,
    '-days',
    '2',
    '-subj',
    '/CN=Tessera test directory CA',
  ]);
  ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=127.0.0.1']);
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-out',
    cert,
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
  return { ca, cert, key };
}

function ldif(users: DirectoryUser[], groups: DirectoryGroup[]): string {
  const dn = (uid: string) => `uid=${uid},${PEOPLE}`;
  const entries = [
    `dn: ${BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example`,
    `dn: ${PEOPLE}\nobjectClass: organizationalUnit\nou: people`,
    `dn: ${GROUPS}\nobjectClass: organizationalUnit\nou: groups`,
    ...users.map((u) =>
      [
        `dn: ${dn(u.uid)}`,
        'objectClass: inetOrgPerson',
        `uid: ${u.uid}`,
        `cn: ${u.uid}`,
        `sn: ${u.uid}`,
        ...(u.mail ? [`mail: ${u.mail}`] : []),
        `userPassword: ${u.password}`,
      ].join('\n'),
    ),
    ...groups.map((g) =>
      [
        `dn: cn=${g.cn},${GROUPS}`,
        'objectClass: groupOfNames',
        `cn: ${g.cn}`,
        // groupOfNames needs a member: each group also names the base, so its last person can be removed.
        `member: ${BASE}`,
        ...g.members.map((m) => `member: ${dn(m)}`),
      ].join('\n'),
    ),
  ];
  return `${entries.join('\n\n')}\n`;
}

export async function startSlapd(users: DirectoryUser[], groups: DirectoryGroup[]): Promise<Slapd> {
  if (!existsSync(SLAPD)) throw new Error(`${SLAPD} is missing: apt-get install -y slapd ldap-utils (.ci/run does)`);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-slapd-'));
  const db = join(dir, 'db');
  mkdirSync(db);
  const tls = certificates(dir);
  const conf = join(dir, 'slapd.conf');
  writeFileSync(
    conf,
    [
      ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`),
      `pidfile ${join(dir, 'slapd.pid')}`,
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      `TLSCACertificateFile ${tls.ca}`,
      `TLSCertificateFile ${tls.cert}`,
      `TLSCertificateKeyFile ${tls.key}`,
      // Users may bind with their own password, nobody reads passwords, the rest is readable when bound.
      'access to attrs=userPassword by self =xw by anonymous auth by * none',
      'access to * by users read by * none',
      'database mdb',
      `suffix "${BASE}"`,
      `rootdn "${ADMIN_DN}"`,
      `rootpw ${ADMIN_PASSWORD}`,
      `directory ${db}`,
      'maxsize 16777216',
      '',
    ].join('\n'),
  );
  const data = join(dir, 'data.ldif');
  writeFileSync(data, ldif(users, groups));
  execFileSync('/usr/sbin/slapadd', ['-f', conf, '-l', data, '-q'], { stdio: 'pipe' });
  const port = await freePort();
  const tlsPort = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = `ldaps://127.0.0.1:${tlsPort}`;
  // -d 0 keeps slapd in the foreground, so this process is the daemon and killing it stops the server.
  const child: ChildProcess = spawn(SLAPD, ['-f', conf, '-h', `${url}/ ${ldapsUrl}/`, '-d', '0'], { stdio: 'ignore' });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const until = Date.now() + 10_000;
  while (!(await portOpen(port)) || !(await portOpen(tlsPort))) {
    if (exited) throw new Error(`slapd exited at start (conf in ${dir})`);
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error('slapd did not start within 10 s');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const userDn = (uid: string) => `uid=${uid},${PEOPLE}`;
  const admin = async <T>(fn: (c: Client) => Promise<T>): Promise<T> => {
    const c = new Client({ url, timeout: 5_000 });
    try {
      await c.bind(ADMIN_DN, ADMIN_PASSWORD);
      return await fn(c);
    } finally {
      await c.unbind();
    }
  };
  return {
    url,
    ldapsUrl,
    caFile: tls.ca,
    userDn,
    admin,
    removeFromGroup: (cn, uid) =>
      admin((c) =>
        c.modify(
          `cn=${cn},${GROUPS}`,
          new Change({
            operation: 'delete',
            modification: new Attribute({ type: 'member', values: [userDn(uid)] }),
          }),
        ),
      ),
    deleteUser: (uid) => admin((c) => c.del(userDn(uid))),
    async stop() {
      if (!exited) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `auth.ldap` for this test directory: users under PEOPLE by uid, groups under GROUPS by member, no TLS. */
export function slapdLdapConfig(slapd: Slapd, over: Partial<LdapConfig> = {}): LdapConfig {
  return {
    url: slapd.url,
    bindDN: ADMIN_DN,
    bindPassword: ADMIN_PASSWORD,
    userSearchBase: PEOPLE,
    userFilter: '(uid={{username}})',
    mailAttribute: 'mail',
    groupSearchBase: GROUPS,
    groupFilter: '(member={{dn}})',
    groupAttribute: 'cn',
    tls: { ca: null, startTls: false },
    syncIntervalMs: 5 * 60_000,
    timeoutMs: 5_000,
    ...over,
  };
}
