// `npm run bench`: every bench script, each in its own process (own server, own heap), one after another.
// Exit code 1 if any script is below its goal or fails.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const scripts = [
  'registry.ts',
  'auth.ts',
  'metrics.ts',
  'publish.ts',
  'private-absent.ts',
  'bomb.ts',
  'doctor.ts',
  'explain.ts',
  'web.ts',
  'proxy.ts',
  'cluster.ts',
]
  .map((f) => fileURLToPath(new URL(`./${f}`, import.meta.url)))
  .filter((f) => existsSync(f));

let failed = 0;
for (const script of scripts) {
  console.log(`\n=== ${script.split('/').slice(-2).join('/')}\n`);
  const r = spawnSync(process.execPath, [script], { stdio: 'inherit', env: process.env });
  if (r.status !== 0) failed++;
}
console.log(
  failed
    ? `\n${failed} of ${scripts.length} bench script(s) below goal or failed`
    : `\nall ${scripts.length} bench scripts meet their goals`,
);
process.exitCode = failed ? 1 : 0;
