// The README renderer's thread (version-view.ts): markdown in, sanitized HTML out, null when it cannot be
// rendered. A worker of its own so that a README the parser is slow on never stalls the registry's requests.
import { parentPort } from 'node:worker_threads';
import { renderReadme } from './version-view.ts';

type Job = { id: number; text: string; name: string; version: string };

parentPort?.on('message', (job: Job) => {
  let html: string | null;
  try {
    html = renderReadme(job.text, job.name, job.version);
  } catch {
    html = null;
  }
  parentPort?.postMessage({ id: job.id, html });
});
