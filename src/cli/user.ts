// `tessera user add|passwd|list|disable`: account administration, safe while the server runs.
import { createUser, disableUser, setPassword } from '../services/accounts.ts';
import { parse, readStdin, storeOptions, withStore } from './common.ts';
import { markVerified, sendVerification } from '../services/email.ts';
import { userList } from '../store/user-reads.ts';

const help = `usage:
  tessera user add NAME --email EMAIL [--password-stdin] [--admin] [--verified]
  tessera user verify NAME            mark the user's e-mail address verified
  tessera user passwd NAME --password-stdin
  tessera user list
  tessera user disable NAME
(all take --data DIR and --config FILE)
`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    ...storeOptions,
    email: { type: 'string' },
    'password-stdin': { type: 'boolean' },
    admin: { type: 'boolean' },
    json: { type: 'boolean' },
    verified: { type: 'boolean' },
  });
  const [sub, name] = positionals;
  if (values.help || !sub) {
    process.stdout.write(help);
    return sub ? 0 : 2;
  }
  return withStore(values, async (ctx) => {
    switch (sub) {
      case 'add': {
        if (!name || !values.email) {
          process.stderr.write(help);
          return 2;
        }
        const password = values['password-stdin'] ? await readStdin() : null;
        const user = await createUser(ctx, { name, email: values.email, password, admin: values.admin });
        process.stdout.write(
          `created user ${user.name}${user.admin ? ' (admin)' : ''}${password === null ? ' without a password' : ''}\n`,
        );
        if (values.verified) await markVerified(ctx, user.name);
        else if (ctx.config.email.requireVerified) {
          const sent = await sendVerification(ctx, user);
          process.stdout.write(
            sent.path ? `verification e-mail written to ${sent.path}\n` : `verification e-mail sent to ${user.email}\n`,
          );
        }
        return 0;
      }
      case 'verify': {
        if (!name) {
          process.stderr.write(help);
          return 2;
        }
        await markVerified(ctx, name);
        process.stdout.write(`marked the e-mail address of ${name} verified\n`);
        return 0;
      }
      case 'passwd': {
        if (!name || !values['password-stdin']) {
          process.stderr.write(help);
          return 2;
        }
        await setPassword(ctx, name, await readStdin());
        process.stdout.write(`password changed for ${name}; their login sessions were revoked\n`);
        return 0;
      }
      case 'list': {
        const rows = await userList(ctx.store.db);
        if (values.json) {
          process.stdout.write(
            `${JSON.stringify(
              rows.map((r) => ({
                name: r.name,
                email: r.email,
                admin: !!r.admin,
                disabled: !!r.disabled,
                emailVerified: !!r.email_verified,
                created: new Date(r.created_at).toISOString(),
              })),
              null,
              2,
            )}\n`,
          );
        } else {
          for (const r of rows)
            process.stdout.write(`${r.name}\t${r.email}${r.admin ? '\tadmin' : ''}${r.disabled ? '\tdisabled' : ''}\n`);
        }
        return 0;
      }
      case 'disable': {
        if (!name) {
          process.stderr.write(help);
          return 2;
        }
        await disableUser(ctx, name);
        process.stdout.write(`disabled ${name} and revoked their tokens\n`);
        return 0;
      }
      default:
        process.stderr.write(help);
        return 2;
    }
  });
}
