// On the cluster backend a test server's records are in its own PostgreSQL database, not in its data folder:
// a `tessera` process given that folder (`--data DIR`) gets the server's database too, without each test
// having to pass it (server.ts records it, cli.ts looks it up).
const byDataDir = new Map<string, Record<string, string>>();

export function recordClusterEnv(dataDir: string, env: Record<string, string>): void {
  byDataDir.set(dataDir, env);
}

export function forgetClusterEnv(dataDir: string): void {
  byDataDir.delete(dataDir);
}

/** The environment that opens the store of the test server whose data folder `args` names, if any. */
export function clusterEnvFor(args: string[]): Record<string, string> {
  const at = args.indexOf('--data');
  const dir = at >= 0 ? args[at + 1] : args.find((a) => a.startsWith('--data='))?.slice('--data='.length);
  if (!dir) return {};
  // A command's own --config beats TESSERA_CONFIG (the database still comes from TESSERA_DATABASE_URL, but
  // the bucket does not); `import verdaccio --config` names Verdaccio's file, and TESSERA_CONFIG stays ours.
  return byDataDir.get(dir) ?? {};
}
