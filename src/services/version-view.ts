// A version as the web pages show it, made once when it is published: the README rendered from markdown
// and sanitized (no script, no event handlers, no javascript: links, images only from the package or
// https), and the tarball's file list. Pages then serve stored HTML: nothing is rendered per view.
import { Worker } from 'node:worker_threads';
import { Parser, type ReadEntry } from 'tar';
import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';
import type { VersionView } from '../store/version-views.ts';
import type { BlobStore } from '../store/blobs/filesystem.ts';

/** The part of a README rendered: markdown parsing is superlinear on some inputs (deep quotes, nested HTML),
 *  and it runs at publish time, so a larger README is cut (at a line) and says so. */
const MAX_README = 256 * 1024;
const MAX_FILES = 5_000;
const README = /^[^/]+\/readme(\.(md|markdown|mkd|txt))?$/i;

const marked = new Marked({ gfm: true, async: false });

/** The URL the web pages serve a version's whole README from, as text (a README too long to render links it). */
export function readmeUrl(name: string, version: string): string {
  return `/-/web/readme/${encodeURIComponent(name)}/${encodeURIComponent(version)}`;
}

/** Whether a tarball entry is the README to show rather than `current`: README.md wins over README, which wins
 *  over README.txt. */
function betterReadme(path: string, current: string | undefined): boolean {
  const md = /\.(md|markdown|mkd)$/i;
  return README.test(path) && (current === undefined || (md.test(path) && !md.test(current)));
}

/** A version's whole README: the one its page renders (from the tarball, else the manifest's `readme`). */
export async function wholeReadme(tgz: Buffer, manifestReadme?: unknown): Promise<string | undefined> {
  let readme: { path: string; text: string } | undefined;
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      onReadEntry: (entry: ReadEntry) => {
        if (entry.type !== 'File' || !betterReadme(entry.path, readme?.path)) return void entry.resume();
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => {
          readme = { path: entry.path, text: Buffer.concat(chunks).toString('utf8') };
        });
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve());
    parser.end(tgz);
  });
  return readme?.text ?? (typeof manifestReadme === 'string' ? manifestReadme : undefined);
}

/** The URL the web pages serve a file of the package from (images the README names by a relative path). */
export function packageFileUrl(name: string, version: string, path: string): string {
  const file = path.split('/').map(encodeURIComponent).join('/');
  return `/-/web/file/${encodeURIComponent(name)}/${encodeURIComponent(version)}/${file}`;
}

function relativePath(src: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(src) || src.startsWith('//') || src.startsWith('#')) return undefined;
  const parts: string[] = [];
  for (const seg of src.split(/[?#]/)[0].split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (!parts.pop()) return undefined;
    } else parts.push(seg);
  }
  return parts.length ? parts.join('/') : undefined;
}

export function renderReadme(markdown: string, name: string, version: string): string {
  const raw = marked.parse(markdown.slice(0, MAX_README)) as string;
  return sanitizeHtml(raw, {
    allowedTags: [...sanitizeHtml.defaults.allowedTags, 'img', 'del', 'ins', 'details', 'summary', 'input'],
    allowedAttributes: {
      a: ['href', 'title', 'rel'],
      img: ['src', 'alt', 'title', 'width', 'height'],
      code: ['class'],
      th: ['align'],
      td: ['align'],
      ol: ['start'],
      input: ['type', 'checked', 'disabled'],
      pre: ['tabindex'],
    },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['https'] },
    allowProtocolRelative: false,
    allowedClasses: { code: [/^language-[\w-]+$/] },
    transformTags: {
      // Links leave the registry without a referrer; task-list checkboxes stay inert.
      a: (tag, attribs) => ({ tagName: tag, attribs: { ...attribs, rel: 'nofollow noopener noreferrer' } }),
      input: (tag, attribs) => ({ tagName: tag, attribs: { ...attribs, disabled: '' } }),
      // Code blocks scroll sideways: reachable by keyboard.
      pre: (tag, attribs) => ({ tagName: tag, attribs: { ...attribs, tabindex: '0' } }),
      // A relative image is a file of the package itself, served from its tarball by the web pages.
      img: (tag, attribs) => {
        const path = attribs.src === undefined ? undefined : relativePath(attribs.src);
        // An image its author gave no text is decorative to a screen reader, not a bare file name.
        const alt = attribs.alt ?? '';
        const src = path ? packageFileUrl(name, version, path) : attribs.src;
        return { tagName: tag, attribs: { ...attribs, alt, ...(src === undefined ? {} : { src }) } };
      },
    },
    exclusiveFilter: (frame) => frame.tag === 'input' && frame.attribs.type !== 'checkbox',
  });
}

/** The README (from the tarball, else the manifest's `readme`) rendered, and the file list. */
export async function buildVersionView(
  tgz: Buffer,
  name: string,
  version: string,
  manifestReadme?: unknown,
): Promise<VersionView> {
  const files: VersionView['files'] = [];
  let readme: { path: string; text: string; more: boolean } | undefined;
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      onReadEntry: (entry: ReadEntry) => {
        const path = entry.path.replace(/^[^/]+\//, '');
        if (entry.type === 'File' && files.length < MAX_FILES) files.push([path, entry.size]);
        if (betterReadme(entry.path, readme?.path)) {
          const chunks: Buffer[] = [];
          let size = 0;
          entry.on('data', (c: Buffer) => {
            if (size > MAX_README) return;
            chunks.push(c);
            size += c.length;
          });
          entry.on('end', () => {
            readme = { path: entry.path, text: Buffer.concat(chunks).toString('utf8'), more: size < entry.size };
          });
        } else {
          entry.resume();
        }
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve());
    parser.end(tgz);
  });
  files.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const whole = readme?.text ?? (typeof manifestReadme === 'string' ? manifestReadme : '');
  const { text, cut } = bounded(whole, readme?.more ?? false);
  const plain = readme !== undefined && !/\.(md|markdown|mkd)$/i.test(readme.path) && /\.txt$/i.test(readme.path);
  let readmeHtml = !text ? '' : plain ? asText(text) : await renderAside(text, name, version);
  if (cut) readmeHtml += shortened(name, version);
  return { readmeHtml, files };
}

/** The note at the end of a README cut at MAX_README: it was shortened, and where the whole one is. */
function shortened(name: string, version: string): string {
  const href = sanitizeHtml(readmeUrl(name, version), { allowedTags: [] }).replaceAll('"', '&quot;');
  return (
    `<p class="hint readme-cut">The README is longer than ${MAX_README / 1024} KiB: the rest is in the package. ` +
    `This page shows its start; <a href="${href}">read the whole README</a> (as plain text).</p>`
  );
}

const asText = (text: string) => `<pre>${sanitizeHtml(text, { allowedTags: [] })}</pre>`;

/** How long a README may take to render before it is shown as text instead. */
const RENDER_LIMIT_MS = 5_000;
let worker: { thread: Worker; ready: Promise<void> } | undefined;
let jobs = 0;
const waiting = new Map<number, (html: string | null | undefined) => void>();

/** The renderer's thread, started on first use and kept (unreferenced while idle, so it holds no process open). */
function renderer() {
  if (worker) return worker;
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const thread = new Worker(new URL(`./readme-worker.${ext}`, import.meta.url));
  const ready = new Promise<void>((resolve) => thread.once('online', () => resolve()));
  const gone = () => {
    if (worker?.thread === thread) worker = undefined;
    // Jobs still waiting on a thread that is gone are rendered here (undefined), as before there was one.
    for (const done of waiting.values()) done(undefined);
    waiting.clear();
  };
  thread.on('message', (m: { id: number; html: string | null }) => {
    waiting.get(m.id)?.(m.html);
    waiting.delete(m.id);
    if (!waiting.size) thread.unref();
  });
  thread.on('error', gone);
  thread.on('exit', gone);
  thread.unref();
  worker = { thread, ready };
  return worker;
}

/** The README rendered in the renderer's thread, within RENDER_LIMIT_MS; else (or if it cannot be parsed) as
 *  text. Markdown parsing is superlinear on some inputs (deep quotes, nested HTML), and it runs while a
 *  version is published: here it cannot hold up every other request. */
async function renderAside(text: string, name: string, version: string): Promise<string> {
  const id = ++jobs;
  const w = renderer();
  w.thread.ref();
  const html = await new Promise<string | null | undefined>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    waiting.set(id, (h) => {
      clearTimeout(timer);
      resolve(h);
    });
    w.thread.postMessage({ id, text, name, version });
    // Counted from when the thread runs: its start is not the README's fault.
    void w.ready.then(() => {
      if (!waiting.has(id)) return;
      timer = setTimeout(() => {
        waiting.delete(id);
        resolve(null);
        void w.thread.terminate();
      }, RENDER_LIMIT_MS);
    });
  });
  if (html !== undefined) return html ?? asText(text);
  try {
    return renderReadme(text, name, version);
  } catch {
    // Deeper than the parser's stack: the README as text, and the version keeps its files.
    return asText(text);
  }
}

/** The first MAX_README characters of a README (`more`: only its start was read), cut after a whole line. */
function bounded(text: string, more: boolean): { text: string; cut: boolean } {
  if (text.length <= MAX_README && !more) return { text, cut: false };
  const head = text.slice(0, MAX_README);
  const nl = head.lastIndexOf('\n');
  return { text: nl > 0 ? head.slice(0, nl + 1) : head, cut: true };
}

/**
 * The view of a version about to be published, made by publish and staged approval before their transaction:
 * reading the tarball and rendering its README takes milliseconds (tens for a long README, up to
 * RENDER_LIMIT_MS for a hostile one), which would otherwise hold the package's lock and, on SQLite, every
 * other writer. None when the tarball is gone.
 */
export async function versionViewOf(
  blobs: BlobStore,
  w: { name: string; version: string; manifest: object; tarball?: Buffer; blob: string },
): Promise<VersionView | undefined> {
  const tgz = w.tarball ?? (await blobs.get(w.blob));
  if (!tgz) return undefined;
  const readme = (w.manifest as { readme?: unknown }).readme;
  // The tarball was already read whole by the publish checks; a README that cannot be rendered shows none.
  return buildVersionView(tgz, w.name, w.version, readme).catch(() => ({ readmeHtml: '', files: [] }));
}
