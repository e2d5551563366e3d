// `tessera gc [--dry-run] [--grace DURATION] [--json]`: deletes tarballs nothing serves any more.
import { parseDuration } from '../config/duration.ts';
import { collectBlobs } from '../services/gc.ts';
import { parse, storeOptions, withStore } from './common.ts';

const help = `usage: tessera gc [--dry-run] [--grace 1h] [--json] [--data DIR] [--config FILE]

Deletes the tarballs that nothing serves any more: those of unpublished versions and of rejected or
expired staged versions, and temporary files left by a crash. Safe while the registry runs; blobs
stored within the grace period (default 1h) are always kept. --dry-run lists what would go.
`;

export async function run(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...storeOptions,
    'dry-run': { type: 'boolean' },
    grace: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  let graceMs = 3_600_000;
  if (values.grace !== undefined) {
    try {
      graceMs = parseDuration(values.grace);
    } catch {
      process.stderr.write(`tessera: invalid --grace "${values.grace}" (for example 30m, 1h, 0s)\n`);
      return 2;
    }
  }
  return withStore(values, async (ctx) => {
    const r = await collectBlobs(ctx, { graceMs, dryRun: values['dry-run'] === true });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      return 0;
    }
    const verb = r.dryRun ? 'would remove' : 'removed';
    for (const b of r.removed) process.stdout.write(`${verb} ${b.key ?? '(temporary file)'} (${b.size} bytes)\n`);
    process.stdout.write(
      `${verb} ${r.removed.length} blob(s), ${r.removedBytes} bytes; kept ${r.kept} in use and ${r.young} younger than the grace period\n`,
    );
    return 0;
  });
}
