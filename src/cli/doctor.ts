// `tessera doctor`: how npm (or pnpm, Yarn) will authenticate from here, what is wrong, and how to fix it.
import { enableCompileCache } from 'node:module';
import { parseArgs } from 'node:util';
import type { Client } from '../doctor/context.ts';

// Stripping types from every doctor module costs more than the diagnosis itself; Node's compile cache
// (in the OS temp dir, or NODE_COMPILE_CACHE) keeps the stripped, compiled code between runs.
enableCompileCache?.();

const usage = `usage: tessera doctor [--json] [--offline] [--package SPEC]… [--publish] [--registry URL]
                      [--client npm|pnpm|yarn] [--timeout MS] [-- <npm flags>]

Resolves npm's configuration as npm does, says which credential goes to which registry and from
which line, lints it offline, then probes the registries (unless --offline).
Exit status: 0 no error findings, 1 error findings, 2 usage error.
`;

export async function run(args: string[]): Promise<number> {
  const dash = args.indexOf('--');
  const own = dash === -1 ? args : args.slice(0, dash);
  const npmArgs = dash === -1 ? [] : args.slice(dash + 1);
  // biome-ignore lint/suspicious/noImplicitAnyLet: its type comes from the parseArgs call just below
  let values;
  try {
    ({ values } = parseArgs({
      args: own,
      options: {
        json: { type: 'boolean' },
        offline: { type: 'boolean' },
        publish: { type: 'boolean' },
        package: { type: 'string', multiple: true },
        registry: { type: 'string' },
        client: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`tessera doctor: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const client = values.client;
  if (client !== undefined && !['npm', 'pnpm', 'yarn'].includes(client)) {
    process.stderr.write(`tessera doctor: --client must be npm, pnpm or yarn\n\n${usage}`);
    return 2;
  }
  if (values.registry !== undefined && !/^https?:\/\/[^/]/.test(values.registry)) {
    process.stderr.write(`tessera doctor: --registry must be an http(s) URL\n\n${usage}`);
    return 2;
  }
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) {
    process.stderr.write(`tessera doctor: --timeout must be a positive number of milliseconds\n\n${usage}`);
    return 2;
  }
  const { runDoctor } = await import('../doctor/doctor.ts');
  const { renderHuman, renderJson } = await import('../doctor/report.ts');
  const { ctx, report, notes } = await runDoctor({
    cwd: process.cwd(),
    env: { ...process.env },
    offline: Boolean(values.offline),
    publish: Boolean(values.publish),
    packages: values.package ?? [],
    registry: values.registry,
    client: client as Client | undefined,
    npmArgs,
    timeout,
  });
  process.stdout.write(
    values.json ? renderJson(report) : renderHuman(ctx, report, notes, Boolean(process.stdout.isTTY)),
  );
  return report.findings.some((f) => f.severity === 'error') ? 1 : 0;
}
