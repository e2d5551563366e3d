// `tessera audit [--user NAME] [--since DURATION|ISO] [--json]`: the audit log, newest last.
import { parseDuration } from '../config/duration.ts';
import { parse, storeOptions, withStore } from './common.ts';
import { auditEntries } from '../store/audit.ts';

export async function run(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...storeOptions,
    user: { type: 'string' },
    since: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write('usage: tessera audit [--user NAME] [--since 24h|ISO-DATE] [--json]\n');
    return 0;
  }
  return withStore(values, async (ctx) => {
    let since: number | undefined;
    if (values.since) {
      const t = /^\d+(\.\d+)?(ms|s|m|h|d|w)$/.test(values.since)
        ? Date.now() - parseDuration(values.since)
        : Date.parse(values.since);
      if (Number.isNaN(t)) {
        process.stderr.write(`tessera: invalid --since "${values.since}"\n`);
        return 2;
      }
      since = t;
    }
    const rows = await auditEntries(ctx.store.db, { user: values.user, since, order: 'oldest-first' });
    for (const r of rows) {
      const e = {
        at: new Date(r.at).toISOString(),
        event: r.event,
        user: r.user_name,
        token: r.token_id,
        reason: r.reason,
        ...(r.detail ? JSON.parse(r.detail) : {}),
      };
      process.stdout.write(
        values.json
          ? `${JSON.stringify(e)}\n`
          : `${e.at}  ${r.event}${r.user_name ? `  user=${r.user_name}` : ''}${r.token_id ? `  token=${r.token_id.slice(0, 8)}` : ''}${r.reason ? `  reason=${r.reason}` : ''}${r.detail ? `  ${r.detail}` : ''}\n`,
      );
    }
    return 0;
  });
}
