// What every administrative command shares: --data/--config flags, opening the store, reading stdin.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, type Config } from '../config/config.ts';
import { openStore } from '../store/store.ts';
import { systemClock } from '../domain/clock.ts';
import type { Ctx } from '../services/context.ts';
import { Refusal } from '../domain/reasons.ts';

export const storeOptions = {
  data: { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  return parseArgs({ args, options, allowPositionals: true, strict: true });
}

export async function openCtx(flags: {
  data?: string;
  config?: string;
}): Promise<{ ctx: Ctx; config: Config; close(): Promise<void> }> {
  const config = loadConfig(flags);
  const store = await openStore(config.data, config);
  return { ctx: { store, config, clock: systemClock }, config, close: () => store.close() };
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Runs an admin command against the store named by --data/--config, and closes it afterwards. */
export function withStore(
  flags: { data?: string; config?: string },
  fn: (ctx: Ctx) => Promise<number>,
): Promise<number> {
  return guarded(async () => {
    const { ctx, close } = await openCtx(flags);
    try {
      return await fn(ctx);
    } finally {
      await close();
    }
  });
}

/** Runs an admin action, turning refusals into a one-line message and exit status 1. */
export async function guarded(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof Refusal) {
      process.stderr.write(`tessera: ${e.message}\n`);
      return 1;
    }
    if (e instanceof TypeError && /Unknown option|Unexpected argument|argument missing/.test(e.message)) {
      process.stderr.write(`tessera: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
