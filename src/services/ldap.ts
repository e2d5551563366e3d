// The company's LDAP directory, as the registry needs it: check a password (search the user's entry with
// the service account, then bind as that entry), and look a user up again for the periodic check.
// Each operation opens its own connection (ldapts), so a user's bind never changes the service's.
import { Client, InvalidCredentialsError } from 'ldapts';
import type { ConnectionOptions } from 'node:tls';
import type { LdapConfig } from '../config/auth.ts';

/** A user as the directory has them: the entry, the e-mail address and the names of their groups. */
export type DirectoryEntry = { dn: string; email: string | null; groups: string[] };

/** Why the directory said no: `refused` (no such user, or wrong password) or `unavailable` (anything else). */
export class DirectoryError extends Error {
  readonly kind: 'refused' | 'unavailable';
  constructor(kind: 'refused' | 'unavailable', message: string) {
    super(message);
    this.kind = kind;
  }
}

export interface Directory {
  /** The user's entry when the password binds; DirectoryError otherwise. */
  authenticate(name: string, password: string): Promise<DirectoryEntry>;
  /** The user's entry, or null when the directory no longer has them; DirectoryError when it cannot tell. */
  lookup(name: string): Promise<DirectoryEntry | null>;
}

/** RFC 4515: a value inside a search filter, with its special characters escaped. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (m, key: string) => (key in values ? escapeFilterValue(values[key]) : m));
}

const first = (v: unknown): string | null => {
  const x = Array.isArray(v) ? v[0] : v;
  return x === undefined || x === null ? null : Buffer.isBuffer(x) ? x.toString('utf8') : String(x);
};

export function ldapDirectory(cfg: LdapConfig): Directory {
  const tls: ConnectionOptions = cfg.tls.ca ? { ca: cfg.tls.ca } : {};

  async function connect(): Promise<Client> {
    // TLS options go to the connection that uses them: given to both, ldapts's StartTLS upgrade fails.
    const ldaps = cfg.url.startsWith('ldaps:');
    const c = new Client({
      url: cfg.url,
      timeout: cfg.timeoutMs,
      connectTimeout: cfg.timeoutMs,
      ...(ldaps ? { tlsOptions: tls } : {}),
    });
    if (cfg.tls.startTls) await c.startTLS(tls);
    return c;
  }

  /** Runs `fn` on a connection bound as the service account; every failure is `unavailable`. */
  async function asService<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    let c: Client | undefined;
    try {
      c = await connect();
      await c.bind(cfg.bindDN, cfg.bindPassword);
      return await fn(c);
    } catch (e) {
      if (e instanceof DirectoryError) throw e;
      throw new DirectoryError('unavailable', `${cfg.url}: ${(e as Error).message}`);
    } finally {
      await c?.unbind().catch(() => {});
    }
  }

  async function find(c: Client, name: string): Promise<DirectoryEntry | null> {
    const filter = fill(cfg.userFilter, { username: name });
    const { searchEntries } = await c.search(cfg.userSearchBase, {
      scope: 'sub',
      filter,
      attributes: [cfg.mailAttribute],
    });
    // Two entries for one name is a directory to fix, not a user to guess between.
    if (searchEntries.length !== 1) return null;
    const entry = searchEntries[0];
    let groups: string[] = [];
    if (cfg.groupSearchBase) {
      const r = await c.search(cfg.groupSearchBase, {
        scope: 'sub',
        filter: fill(cfg.groupFilter, { dn: entry.dn, username: name }),
        attributes: [cfg.groupAttribute],
      });
      groups = r.searchEntries.map((g) => first(g[cfg.groupAttribute])).filter((g): g is string => g !== null);
    }
    return { dn: entry.dn, email: first(entry[cfg.mailAttribute]), groups: groups.sort() };
  }

  return {
    async authenticate(name, password) {
      // An empty password is an "unauthenticated bind" that many directories accept: never try one.
      if (!password) throw new DirectoryError('refused', 'empty password');
      const entry = await asService((c) => find(c, name));
      if (!entry) throw new DirectoryError('refused', 'no such user');
      let c: Client | undefined;
      try {
        c = await connect();
        await c.bind(entry.dn, password);
      } catch (e) {
        if (e instanceof InvalidCredentialsError) throw new DirectoryError('refused', 'invalid credentials');
        throw new DirectoryError('unavailable', `${cfg.url}: ${(e as Error).message}`);
      } finally {
        await c?.unbind().catch(() => {});
      }
      return entry;
    },
    lookup: (name) => asService((c) => find(c, name)),
  };
}
