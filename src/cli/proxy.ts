// `tessera proxy purge <name|pattern> [--dry-run] [--json]`: forgets cached upstream copies.
import { purgePattern, purgeProxied } from '../services/proxy-purge.ts';
import { parse, storeOptions, withStore } from './common.ts';
import { packageHead } from '../store/packages.ts';

const help = `usage: tessera proxy purge <name|@scope|pattern> [--dry-run] [--json] [--data DIR] [--config FILE]

Removes what was cached from the upstream registry for the matching names: their packuments, their
versions and the tarballs nothing else uses. A pattern is a name with * wildcards (kind-*), a scope
(@corp) or scopes (@corp-*), spelled as in request paths if you like (@scope%2fname, %40scope) and
matched without regard to case. Local packages are never touched. The next read of a purged name asks the
upstream again, unless the name is now private (privateNamespaces). Safe while the registry runs; recorded
in the audit log.
`;

export async function run(args: string[]): Promise<number> {
  const options = { ...storeOptions, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } } as const;
  const { values, positionals } = parse(args, options);
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const [sub, pattern, ...extra] = positionals;
  if (sub !== 'purge' || !pattern || extra.length > 0) {
    process.stderr.write(help);
    return 2;
  }
  return withStore(values, async (ctx) => {
    const r = await purgeProxied(ctx, pattern, { dryRun: values['dry-run'] === true });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      return 0;
    }
    const verb = r.dryRun ? 'would purge' : 'purged';
    const wanted = purgePattern(pattern);
    if (wanted !== pattern) process.stdout.write(`${pattern} is read as ${wanted}\n`);
    // Nothing to do is not a failure (a purge is safe to repeat), but a mistyped name should be seen.
    if (r.packages.length === 0) {
      // A name published here is what an operator may have meant: say why it was not purged.
      const local = !wanted.includes('*') && (await packageHead(ctx.store.db, wanted))?.origin === 'local';
      const why = local ? ` (${wanted} is a package published here: never purged)` : '';
      process.stdout.write(`no package cached from the upstream matches ${wanted}${why}\n`);
    }
    for (const name of r.packages) process.stdout.write(`${verb} ${name}\n`);
    process.stdout.write(
      `${verb} ${r.packages.length} package(s), ${r.versions} version(s), ` +
        `${r.blobs} tarball(s) of ${r.bytes} bytes\n`,
    );
    return 0;
  });
}
