// `tessera org create NAME --owner USER` and `tessera org list`: organizations are created by an administrator.
import { createOrg } from '../services/orgs.ts';
import { orgMembers } from '../store/orgs.ts';
import { parse, storeOptions, withStore } from './common.ts';

const help = `usage:
  tessera org create NAME --owner USER   create an organization owning the scope @NAME
  tessera org list                       list organizations and their members
(all take --data DIR and --config FILE)
`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...storeOptions, owner: { type: 'string' } });
  const [sub, name] = positionals;
  if (values.help || !sub) {
    process.stdout.write(help);
    return sub ? 0 : 2;
  }
  return withStore(values, async (ctx) => {
    if (sub === 'create') {
      if (!name || !values.owner) {
        process.stderr.write(help);
        return 2;
      }
      await createOrg(ctx, name.replace(/^@/, ''), values.owner);
      process.stdout.write(
        `created organization ${name.replace(/^@/, '')} owning @${name.replace(/^@/, '')}, owned by ${values.owner}\n`,
      );
      return 0;
    }
    if (sub === 'list') {
      const rows = await orgMembers(ctx.store.db);
      for (const r of rows) process.stdout.write(`${r.org}\t${r.name}\t${r.role}\n`);
      return 0;
    }
    process.stderr.write(help);
    return 2;
  });
}
