// Runs the real `tessera` binary, and starts `tessera serve` as its own process.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cleanEnv } from './npm.ts';
import { clusterEnvFor } from './cluster-env.ts';

export const BIN = fileURLToPath(new URL('../../bin/tessera.js', import.meta.url));

export type CliResult = { code: number; stdout: string; stderr: string };

export function tessera(
  args: string[],
  opts: { input?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd,
      env: cleanEnv({ ...clusterEnvFor(args), ...opts.env }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

export type ServeProcess = {
  url: string;
  host: string;
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
};

/** `tessera serve --listen 127.0.0.1:0 …`, resolved once it prints its URL (else killed after `timeoutMs`);
 *  `nodeArgs` go to Node itself (a bench's --cpu-prof). */
export function serve(
  args: string[],
  opts: { nodeArgs?: string[]; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<ServeProcess> {
  const { nodeArgs = [], timeoutMs = 15_000 } = opts;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, BIN, 'serve', '--listen', '127.0.0.1:0', ...args], {
      env: cleanEnv({ ...clusterEnvFor(args), ...opts.env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => {
      // A child left running would keep the test process alive after its failure.
      child.kill('SIGKILL');
      reject(new Error(`tessera serve did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (c: Buffer) => {
      out += c;
      const m = /listening on (http:\/\/(127\.0\.0\.1:\d+)\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.on('data', (d: Buffer) => {
          out += d;
        });
        resolve({
          url: m[1],
          host: m[2],
          child,
          output: () => out,
          stop: (signal = 'SIGTERM') =>
            new Promise((res) => {
              child.once('close', (code) => res(code));
              child.kill(signal);
            }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => {
      out += c;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`tessera serve exited with ${code}:\n${out}`));
    });
  });
}
