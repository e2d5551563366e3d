// `tessera token create|list|revoke|revoke-all`: administrators mint and revoke tokens for users.
import { parseDuration } from '../config/duration.ts';
import { adminRevoke, adminRevokeAll, createToken, listTokens } from '../services/tokens.ts';
import type { Grants } from '../domain/principal.ts';
import type { TokenSpec } from '../domain/commands.ts';
import { parse, storeOptions, withStore } from './common.ts';

const help = `usage:
  tessera token create --user NAME [--read-only] [--packages a,b] [--scopes @x,@y] [--orgs a,b]
                       [--cidr RANGE,…] [--expires-in DURATION (90d, 12h, 2s)] [--bypass-2fa] [--name NAME]
                       [--classic readonly|automation|publish]  (classic tokens need tokens.classic: true)
  tessera token list --user NAME [--json]
  tessera token revoke ID|TOKEN
  tessera token revoke-all --user NAME
(all take --data DIR and --config FILE)
`;

const list = (v: string | undefined) =>
  v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    ...storeOptions,
    user: { type: 'string' },
    'read-only': { type: 'boolean' },
    packages: { type: 'string' },
    scopes: { type: 'string' },
    cidr: { type: 'string' },
    'expires-in': { type: 'string' },
    'bypass-2fa': { type: 'boolean' },
    name: { type: 'string' },
    json: { type: 'boolean' },
    orgs: { type: 'string' },
    classic: { type: 'string' },
  });
  const [sub, arg] = positionals;
  if (values.help || !sub) {
    process.stdout.write(help);
    return sub ? 0 : 2;
  }
  return withStore(values, async (ctx) => {
    switch (sub) {
      case 'create': {
        if (!values.user) {
          process.stderr.write(help);
          return 2;
        }
        const packages = list(values.packages);
        const scopes = list(values.scopes).map((x) => (x.startsWith('@') ? x : `@${x}`));
        const orgs = list(values.orgs);
        const classic = values.classic;
        if (classic && !['readonly', 'automation', 'publish'].includes(classic)) {
          process.stderr.write('tessera: --classic must be readonly, automation or publish\n');
          return 2;
        }
        const limited = packages.length > 0 || scopes.length > 0;
        const grants: Grants | null = classic
          ? null
          : {
              packagesAll: !limited && orgs.length === 0,
              packages,
              scopes,
              permission: !limited && orgs.length > 0 ? 'no-access' : values['read-only'] ? 'read-only' : 'read-write',
              orgs,
              orgsPermission: orgs.length ? (values['read-only'] ? 'read-only' : 'read-write') : 'no-access',
            };
        const spec: TokenSpec = {
          user: values.user,
          kind: classic ? (`classic-${classic}` as TokenSpec['kind']) : 'granular',
          name: values.name ?? null,
          description: null,
          grants,
          cidr: list(values.cidr),
          bypass2fa: values['bypass-2fa'] === true,
          expires: values['expires-in'] ? { ms: parseDuration(values['expires-in']) } : 'never',
        };
        // The same function and limits as `npm token create`; an administrator may choose any lifetime.
        const { token, row } = await createToken(ctx, spec, 'admin');
        const t = { token, id: row.id, expiresAt: row.expires_at };
        if (values.json)
          process.stdout.write(
            `${JSON.stringify({ token: t.token, id: t.id, expires: t.expiresAt && new Date(t.expiresAt).toISOString() })}\n`,
          );
        else process.stdout.write(`${t.token}\n`);
        process.stderr.write(
          `token ${t.id} created for ${values.user}${t.expiresAt ? `, expires ${new Date(t.expiresAt).toISOString()}` : ''}; it is shown only once\n`,
        );
        return 0;
      }
      case 'list': {
        if (!values.user) {
          process.stderr.write(help);
          return 2;
        }
        const rows = await listTokens(ctx, values.user);
        const out = rows.map((r) => ({
          id: r.id,
          token: `${r.display}…`,
          kind: r.kind,
          name: r.name,
          readonly: !!r.readonly,
          created: new Date(r.created_at).toISOString(),
          expires: r.expires_at ? new Date(r.expires_at).toISOString() : null,
          lastUsed: r.last_used_at ? new Date(r.last_used_at).toISOString() : null,
          revoked: r.revoked_at ? new Date(r.revoked_at).toISOString() : null,
        }));
        if (values.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        else
          for (const t of out)
            process.stdout.write(
              `${t.id}\t${t.token}\t${t.kind}\t${t.revoked ? 'revoked' : t.expires ? `expires ${t.expires}` : 'no expiry'}\n`,
            );
        return 0;
      }
      case 'revoke': {
        if (!arg) {
          process.stderr.write(help);
          return 2;
        }
        const id = await adminRevoke(ctx, arg);
        process.stdout.write(`revoked token ${id}\n`);
        return 0;
      }
      case 'revoke-all': {
        if (!values.user) {
          process.stderr.write(help);
          return 2;
        }
        const n = await adminRevokeAll(ctx, values.user);
        process.stdout.write(`revoked ${n} token(s) of ${values.user}\n`);
        return 0;
      }
      default:
        process.stderr.write(help);
        return 2;
    }
  });
}
