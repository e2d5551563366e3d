// `tessera backup --to DIR`: a consistent copy of the data folder, safe while the registry runs.
import { resolve } from 'node:path';
import { loadConfig } from '../config/config.ts';
import { backupStore, hasDatabase, isEmptyFolder } from '../store/backup.ts';
import { guarded, parse, storeOptions } from './common.ts';

const help = `usage: tessera backup --to DIR [--data DIR] [--config FILE] [--json]

Copies the registry's data into DIR (which must be empty or new): the database through SQLite's
online backup, a snapshot taken while the registry keeps serving, then every tarball it names,
and secret.key (the 2FA seeds and hook secrets open with it: keep backups private). DIR is then a
data folder of its own, with tessera-backup.json written last. Restore it with
\`tessera restore --from DIR\`.
`;

export async function run(args: string[]): Promise<number> {
  const { values } = parse(args, { ...storeOptions, to: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (!values.to) {
    process.stderr.write(help);
    return 2;
  }
  const to = resolve(values.to);
  return guarded(async () => {
    const { data, blobs, database } = loadConfig(values);
    // Else it would say there is no database in the folder: PostgreSQL is backed up by its own means (pg_dump).
    if (database !== null) {
      process.stderr.write(
        'tessera: the records are in PostgreSQL: back them up with pg_dump; backup copies the embedded store only\n',
      );
      return 1;
    }
    // The tarballs would all be reported missing: a bucket is backed up by its own means (versioning).
    if (blobs !== null) {
      process.stderr.write(`tessera: tarballs are in ${blobs}: backup copies the embedded store only\n`);
      return 1;
    }
    if (!hasDatabase(data)) {
      process.stderr.write(`tessera: there is no Tessera database in ${data} (give --data or --config)\n`);
      return 1;
    }
    // Never mixed into an older backup: its manifest would describe another snapshot.
    if (!isEmptyFolder(to)) {
      process.stderr.write(`tessera: ${to} is not empty; back up into a new or empty folder\n`);
      return 1;
    }
    const r = await backupStore(data, to);
    if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    if (r.missing.length > 0) {
      for (const key of r.missing) process.stderr.write(`tessera: missing tarball ${key}\n`);
      process.stderr.write(
        `tessera: ${r.missing.length} tarball(s) of live versions are missing from ${data}; ` +
          'this backup is incomplete and restore will refuse it\n',
      );
      return 1;
    }
    if (!values.json) {
      process.stdout.write(
        `backed up ${r.versions} version(s) of ${r.packages} package(s) and ${r.blobs.count} ` +
          `tarball(s) (${r.blobs.bytes} bytes) from ${data} to ${to}\n`,
      );
    }
    return 0;
  });
}
