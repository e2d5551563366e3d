// `tessera migrate --to postgres://… [--blobs s3://…]`: moves an embedded install up to the cluster store.
import { loadConfig } from '../config/config.ts';
import { parseBlobsUrl, s3Options } from '../config/blobs.ts';
import { s3Blobs } from '../store/blobs/s3.ts';
import { hasDatabase } from '../store/backup.ts';
import { openStore, type Store } from '../store/store.ts';
import { sealingKey } from '../store/secret-box.ts';
import { migrateInstall, type MigrateReport } from '../store/migrate.ts';
import { guarded, parse, storeOptions } from './common.ts';

const help = `usage: tessera migrate --to postgres://… [--blobs s3://bucket/prefix]
                       [--data DIR | --config FILE] [--json]

Copies an embedded install (the data folder's SQLite database and its tarballs) into the cluster store:
every table, rows with their own ids (users with their password hashes, tokens as hashes, 2FA, orgs,
packages, staged versions, trust, hooks, audit…), into PostgreSQL after its migrations ran there; the
tarballs into the bucket named by --blobs, reached with the s3: settings of the configuration (and
TESSERA_S3_ACCESS_KEY_ID / TESSERA_S3_SECRET_ACCESS_KEY). Then it checks the row count of every table and
reads every tarball back to check its hash.

Stop the embedded registry first: rows it writes later are not copied. Running again copies only what
is missing and changes no row already there. A database that holds anything else is refused.

Every node of the cluster needs the data folder's secret.key (the 2FA seeds and hook secrets are sealed
with it): copy it into each node's data folder.
`;

export async function run(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...storeOptions,
    to: { type: 'string' },
    blobs: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (!values.to || !/^postgres(ql)?:\/\//.test(values.to)) {
    process.stderr.write(help);
    return 2;
  }
  const to = values.to;
  return guarded(async () => {
    const config = loadConfig({ data: values.data, config: values.config });
    if (config.database) {
      process.stderr.write(
        'tessera: this install keeps its records in PostgreSQL already (database: or TESSERA_DATABASE_URL); ' +
          'migrate copies an embedded one\n',
      );
      return 1;
    }
    if (!hasDatabase(config.data)) {
      process.stderr.write(`tessera: there is no Tessera database in ${config.data} (give --data or --config)\n`);
      return 1;
    }
    if (values.blobs) parseBlobsUrl(values.blobs);
    const key = sealingKey(config.data);
    let source: Store | undefined;
    let target: Store | undefined;
    try {
      // Both stores are brought to this version's schema first, so their tables are the same.
      source = await openStore(config.data, config);
      target = await openStore(config.data, { blobs: null, s3: config.s3, database: to });
      const toBlobs = values.blobs ? s3Blobs(s3Options({ blobs: values.blobs, s3: config.s3 })!) : null;
      const r = await migrateInstall(source, target, toBlobs, key.key);
      if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(describe(r, config.data, values.blobs ?? config.blobs, key.path));
      if (r.refused) process.stderr.write(`tessera: ${r.refused}\n`);
      for (const k of r.blobs?.missing ?? []) process.stderr.write(`tessera: missing tarball ${k}\n`);
      for (const k of r.blobs?.corrupt ?? []) process.stderr.write(`tessera: corrupt tarball ${k}\n`);
      for (const t of r.short) process.stderr.write(`tessera: ${t} has fewer rows in the cluster than here\n`);
      for (const t of r.tables) {
        for (const k of t.differs.slice(0, 5)) {
          process.stderr.write(
            `tessera: ${t.table} ${k} is in the cluster already, with other values; left as it is\n`,
          );
        }
      }
      for (const v of r.integrity) process.stderr.write(`tessera: ${v}'s recorded integrity is not its tarball's\n`);
      return r.ok ? 0 : 1;
    } finally {
      await target?.close();
      await source?.close();
    }
  });
}

function describe(r: MigrateReport, data: string, blobs: string | null, keyPath: string): string {
  if (r.refused) return '';
  const lines = [`migrated ${data} to the cluster database (${r.rerun ? 'a run again' : 'first run'}):`];
  for (const t of r.tables) {
    const skipped = t.skipped ? `, ${t.skipped} there already` : '';
    lines.push(`  ${t.table.padEnd(20)} ${t.copied} copied of ${t.source}${skipped}; ${t.target} in the cluster`);
  }
  const b = r.blobs;
  if (b) {
    const where = blobs ?? `${data}/blobs`;
    lines.push(
      `tarballs: ${b.copied} copied, ${b.present} there already, ${b.count} verified (${b.bytes} bytes) in ${where}`,
    );
  }
  if (blobs === null) lines.push(`the tarballs stay in ${data}/blobs: give --blobs s3://… to share them between nodes`);
  lines.push(
    `copy ${keyPath} into the data folder of every node (mode 0600): ` +
      'the 2FA seeds and hook secrets are sealed with it',
  );
  lines.push(r.ok ? 'verified: every table and every tarball' : 'NOT verified: see the errors above');
  return `${lines.join('\n')}\n`;
}
