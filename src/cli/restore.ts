// `tessera restore --from DIR [--force]`: puts a backup back into the data folder.
import { join, resolve } from 'node:path';
import { loadConfig } from '../config/config.ts';
import { databaseInUse, isEmptyFolder, readManifest, restoreStore } from '../store/backup.ts';
import { guarded, parse, storeOptions } from './common.ts';

const help = `usage: tessera restore --from DIR [--force] [--data DIR] [--config FILE]

Restores a backup made by \`tessera backup\` into the data folder, after checking the whole backup
(its database, and every tarball it names by its hash): a damaged one is refused with nothing written.
A data folder that is not empty is refused unless --force is given; with --force, its database and
secret.key are replaced (stop the registry first) and tarballs nothing names any more are left for
\`tessera gc\`.
`;

export async function run(args: string[]): Promise<number> {
  const { values } = parse(args, { ...storeOptions, from: { type: 'string' }, force: { type: 'boolean' } });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (!values.from) {
    process.stderr.write(help);
    return 2;
  }
  const from = resolve(values.from);
  return guarded(async () => {
    const { data, database, blobs } = loadConfig(values);
    // A backup is an embedded store: restored into the folder, the PostgreSQL records would not change.
    if (database !== null) {
      process.stderr.write(
        'tessera: the records are in PostgreSQL: restore writes an embedded store; restore into a folder ' +
          'of its own (--data DIR, without the database setting)\n',
      );
      return 1;
    }
    // The tarballs would go into the folder's blobs/, which this configuration never reads: all of them missing.
    if (blobs !== null) {
      process.stderr.write(
        `tessera: tarballs are in ${blobs} in this configuration, and restore writes an embedded store: restore ` +
          'into a folder of its own (--data DIR, without the blobs setting), then move it up with tessera migrate\n',
      );
      return 1;
    }
    const manifest = readManifest(from);
    if (!manifest) {
      process.stderr.write(
        `tessera: ${from} is not a finished Tessera backup (it has no tessera-backup.json ` + 'next to tessera.db)\n',
      );
      return 1;
    }
    if (!isEmptyFolder(data) && !values.force) {
      process.stderr.write(
        `tessera: the data folder ${data} is not empty; restore will not overwrite it. ` +
          'Restore into a new folder (--data DIR), or stop the registry and pass --force to replace its data\n',
      );
      return 1;
    }
    if (databaseInUse(data)) {
      process.stderr.write(
        `tessera: ${join(data, 'tessera.db')} is open in another process (a registry still running on it, or an ` +
          'admin command): stop it, then restore again; nothing was restored\n',
      );
      return 1;
    }
    const r = await restoreStore(from, data);
    process.stdout.write(
      `restored the backup of ${manifest.createdAt} (${manifest.versions} version(s) of ` +
        `${manifest.packages} package(s), ${r.blobs} tarball(s)) into ${data}\n`,
    );
    return 0;
  });
}
