// `tessera import verdaccio --storage DIR [--htpasswd FILE] [--config FILE] [--keep-proxied]`.
import { existsSync } from 'node:fs';
import { importVerdaccio, isVerdaccioStorage } from '../services/import-verdaccio.ts';
import { parse, withStore } from './common.ts';

const help = `usage: tessera import verdaccio --storage DIR [--htpasswd FILE] [--config FILE] [--keep-proxied]
                               [--data DIR] [--tessera-config FILE] [--json]

Brings a Verdaccio storage folder into this registry: every package published to Verdaccio, with its
versions, dist-tags, times, readme and tarballs (each checked against its integrity), and the users of
its htpasswd file, whose passwords keep working (the old hash is replaced at their first login).
--config is Verdaccio's config.yaml: its packages: rules say which packages were public and who may
publish them (those users become maintainers), and its htpasswd file is used when --htpasswd is not given.
Packages Verdaccio only cached from an uplink are left out, or kept as proxied with --keep-proxied.
Running it again changes nothing already imported. --data and --tessera-config name this registry's store.
`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    storage: { type: 'string' },
    htpasswd: { type: 'string' },
    config: { type: 'string' },
    'keep-proxied': { type: 'boolean' },
    data: { type: 'string' },
    'tessera-config': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (positionals[0] !== 'verdaccio' || positionals.length !== 1 || !values.storage) {
    process.stderr.write(help);
    return 2;
  }
  for (const [flag, file] of [
    ['--storage', values.storage],
    ['--htpasswd', values.htpasswd],
    ['--config', values.config],
  ]) {
    if (file !== undefined && !existsSync(file)) {
      process.stderr.write(`tessera: ${flag} ${file} does not exist\n`);
      return 2;
    }
  }
  // Else it would import nothing and say so only in its totals (a common slip: Verdaccio's own folder, not storage/).
  if (!isVerdaccioStorage(values.storage)) {
    process.stderr.write(
      `tessera: ${values.storage} is not a Verdaccio storage folder (no .verdaccio-db.json and no package folder); ` +
        "--storage names the folder of config.yaml's storage: setting\n",
    );
    return 1;
  }
  return withStore({ data: values.data, config: values['tessera-config'] }, async (ctx) => {
    const r = await importVerdaccio(ctx, {
      storage: values.storage!,
      htpasswd: values.htpasswd,
      config: values.config,
      keepProxied: values['keep-proxied'],
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      return r.failed > 0 ? 1 : 0;
    }
    for (const l of r.lines) {
      process.stdout.write(`${l.done ? 'imported' : 'skipped'} ${l.what} ${l.name}${l.why ? `: ${l.why}` : ''}\n`);
    }
    process.stdout.write(
      `${r.users} user(s), ${r.packages} package(s) and ${r.versions} version(s) imported; ${r.skipped} skipped\n`,
    );
    return r.failed > 0 ? 1 : 0;
  });
}
