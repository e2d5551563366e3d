// The `tessera` command: one small module per subcommand, loaded on demand so start-up stays fast.
import { argv, exit, stderr } from 'node:process';

type Command = { run(args: string[]): Promise<number> };

const commands: Record<string, () => Promise<Command>> = {
  serve: () => import('./serve.ts'),
  user: () => import('./user.ts'),
  token: () => import('./token.ts'),
  audit: () => import('./audit.ts'),
  org: () => import('./org.ts'),
  gc: () => import('./gc.ts'),
  proxy: () => import('./proxy.ts'),
  backup: () => import('./backup.ts'),
  restore: () => import('./restore.ts'),
  import: () => import('./import.ts'),
  migrate: () => import('./migrate.ts'),
  doctor: () => import('./doctor.ts'),
  explain: () => import('./explain.ts'),
};

const usage = `usage: tessera <command> [options]

commands:
  serve     run the registry           (tessera serve --help)
  user      manage accounts            (tessera user --help)
  token     manage access tokens       (tessera token --help)
  org       manage organizations
  audit     read the audit log
  gc        delete tarballs nothing serves any more (tessera gc --help)
  proxy     purge cached upstream copies (tessera proxy purge --help)
  backup    copy the data folder while the registry runs (tessera backup --help)
  restore   put a backup back into a data folder (tessera restore --help)
  import    bring packages and users from Verdaccio (tessera import --help)
  migrate   copy this install into PostgreSQL and S3, for a cluster (tessera migrate --help)
  doctor    diagnose npm configuration and credentials
  explain   explain a pasted npm error or log
`;

async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? process.stdout : stderr).write(usage);
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    stderr.write(`tessera: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  const command = await load();
  return command.run(rest);
}

main(argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    stderr.write(`tessera: ${err instanceof Error ? err.message : String(err)}\n`);
    exit(1);
  },
);
