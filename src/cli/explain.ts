// `tessera explain [FILE|-]`: turn pasted npm/pnpm/Yarn output or an npm debug log into causes and fixes.
import { existsSync, readFileSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { parseArgs } from 'node:util';
import type { Explanation } from '../doctor/explain.ts';

enableCompileCache?.(); // see src/cli/doctor.ts

const usage = `usage: tessera explain [FILE|-|TEXT] [--json] [--no-config]

Reads npm console output, an npm debug log (~/.npm/_logs/*-debug-0.log), pnpm or Yarn errors — also
inside CI and Docker logs — from FILE, standard input or the pasted TEXT itself, and ranks the likely
causes with their fixes.
Run in the project folder, it also says which credential npm sent and from which line, when the output
concerns a registry this configuration uses (--no-config to skip reading the configuration).
Exit status: 0 no error found in the input, 1 an error was explained, 2 usage error.
`;

function readStdin(): Promise<string> {
  return new Promise((done, fail) => {
    let s = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d) => (s += d));
    process.stdin.on('end', () => done(s));
    process.stdin.on('error', fail);
  });
}

export async function run(args: string[]): Promise<number> {
  // biome-ignore lint/suspicious/noImplicitAnyLet: its type comes from the parseArgs call just below
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { json: { type: 'boolean' }, 'no-config': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    process.stderr.write(`tessera explain: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (positionals.length > 1) {
    process.stderr.write(`tessera explain: one input at most\n\n${usage}`);
    return 2;
  }
  const file = positionals[0] ?? '-';
  let text: string;
  if (file === '-') {
    if (process.stdin.isTTY) process.stderr.write('Paste the npm output, then press Ctrl-D:\n');
    text = await readStdin();
  } else {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      // The paste given as the argument itself (`tessera explain "npm error code E401 …"`): no file has that name.
      const code = (err as NodeJS.ErrnoException).code;
      if (file.includes('\n') || (/\s/.test(file.trim()) && (code === 'ENOENT' || code === 'ENAMETOOLONG')))
        text = file;
      else return cannotRead(file, err);
    }
  }
  return explain(text, values['no-config'] === true, values.json === true);
}

function cannotRead(file: string, err: unknown): number {
  process.stderr.write(`tessera explain: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}\n`);
  return 2;
}

async function explain(text: string, noConfig: boolean, json: boolean): Promise<number> {
  const { explainText, joinConfig, notUnderstood } = await import('../doctor/explain.ts');
  const { extracted, explanation } = explainText(text);
  let notes: string[] = [];
  if (!noConfig && explanation.code !== 'UNKNOWN') {
    try {
      const { loadNpmConfig } = await import('../doctor/npm-config.ts');
      const cfg = await loadNpmConfig({ cwd: process.cwd(), env: { ...process.env } });
      notes = joinConfig(extracted, explanation, cfg);
    } catch {
      /* the explanation stands without the live config */
    }
  }
  const { maskSecrets } = await import('../doctor/credentials.ts');
  process.stdout.write(
    json
      ? JSON.stringify(explanation, (_k, v) => (typeof v === 'string' ? maskSecrets(v) : v), 2) + '\n'
      : maskSecrets(
          explanation.code === 'UNKNOWN'
            ? `${notUnderstood(extracted.lines).join('\n')}\n`
            : render(explanation, extracted.notices, extracted.registryError, notes),
        ),
  );
  return explanation.code === 'UNKNOWN' ? 0 : 1;
}

function render(ex: Explanation, notices: string[], registryError: string | undefined, notes: string[]): string {
  const out: string[] = [];
  out.push(
    `error ${ex.code}${ex.status ? ` (HTTP ${ex.status})` : ''}${ex.method ? ` on ${ex.method}` : ''}${ex.url ? ` ${ex.url}` : ''}`,
  );
  if (ex.method === 'PUT')
    out.push('  a PUT is a publish (or another write): this is about publish permission, not installs.');
  else if (ex.method === 'GET')
    out.push(
      '  a GET is an install or metadata read: this is about read access, registry configuration or the network.',
    );
  if (registryError) out.push(`  the registry said: ${registryError}`);
  for (const n of notices) out.push(`  npm notice: ${n}`);
  for (const n of notes) out.push(`  ${n}`);
  out.push('');
  if (!ex.causes.length) {
    out.push('No known cause for this code; run `tessera doctor` in the project folder.');
    const slug = `npm-${ex.code.toLowerCase().replaceAll('_', '-')}`;
    if (existsSync(new URL(`../../kb/${slug}.md`, import.meta.url))) out.push(`   see: kb/${slug}.md`);
  }
  ex.causes.forEach((c, i) => {
    out.push(`${i + 1}. ${c.id}${i === 0 ? ' (most likely)' : ''}`);
    out.push(`   fix: ${c.fix}`);
    out.push(`   see: kb/${c.id}.md`);
  });
  return out.join('\n') + '\n';
}
