// `tessera serve`: runs the registry until SIGINT/SIGTERM, then finishes in-flight requests and closes.
import { loadConfig } from '../config/config.ts';
import { openStore } from '../store/store.ts';
import { systemClock } from '../domain/clock.ts';
import { buildApp } from '../http/server.ts';
import { parse, storeOptions } from './common.ts';
import { sealingKey } from '../store/secret-box.ts';
import { sealingKeyMatches } from '../store/sealing-check.ts';
import { userRowBy } from '../store/user-reads.ts';

const help = `usage: tessera serve [--listen HOST:PORT] [--data DIR] [--config FILE]

Starts the registry. Data (SQLite database and tarballs) lives in --data (default ./tessera-data),
created on first run. Prints the URL when ready.
`;

export async function run(args: string[]): Promise<number> {
  const { values } = parse(args, { ...storeOptions, listen: { type: 'string' } });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const config = loadConfig(values);
  const store = await openStore(config.data, config);
  if (store.dialect === 'postgres') {
    const { key, path } = sealingKey(config.data);
    const check = await sealingKeyMatches(store.db, key);
    if (!check.ok) {
      await store.close();
      process.stderr.write(
        `tessera: ${path} is not the key the other nodes seal secrets with (fingerprint ${check.ours}, the ` +
          `cluster's is ${check.recorded}): copy the cluster's secret.key to this node (docs/deployment.md)\n`,
      );
      return 1;
    }
  }
  const app = await buildApp({ store, config, clock: systemClock });
  // Signals are handled from the start: a stop during start-up still closes the database cleanly.
  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      // Readiness fails first, so a load balancer stops sending requests before the server stops taking them.
      app.tessera.health.shuttingDown = true;
      if (config.shutdownDelayMs > 0) {
        app.log.info({ signal, delayMs: config.shutdownDelayMs }, 'shutting down: /-/readyz answers 503 until then');
        await new Promise((r) => setTimeout(r, config.shutdownDelayMs));
      }
      app.log.info({ signal }, 'shutting down: finishing in-flight requests');
      await app.close();
      await store.close();
    })();
    return stopping;
  };
  const stopped = new Promise<number>((resolve) => {
    process.once('SIGINT', () => void stop('SIGINT').then(() => resolve(0)));
    process.once('SIGTERM', () => void stop('SIGTERM').then(() => resolve(0)));
  });
  await app.listen({ host: config.listen.host, port: config.listen.port });
  if (config.email.requireVerified && !config.publicUrl) {
    app.log.warn('email.requireVerified is on but publicUrl is not set: no verification e-mail will be sent');
  }
  // A misspelt owner is not an error (the user may be made later), but the hook hears public packages only.
  for (const h of config.hooks) {
    if (h.owner !== null && !(await userRowBy(store.db, { name: h.owner }))) {
      app.log.warn(
        { hook: h.name, owner: h.owner },
        `hooks: the owner of hook ${h.name}, ${h.owner}, is not a user here: it hears about public packages only`,
      );
    }
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.listen.port;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  process.stdout.write(`Tessera registry listening on http://${host}:${port}/ (data: ${config.data})\n`);

  return stopped;
}
