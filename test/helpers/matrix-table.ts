// The rows of the authorization matrix's tables (docs/authorization.md): every table whose header is
// exactly HEADER. Shared by the matrix test and the explain test; vocabulary checks stay with each.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

export const MATRIX_DOC = new URL('../../docs/authorization.md', import.meta.url);
export const HEADER = ['credential', 'action', 'package', 'status', 'reason', 'notice'];
/** A `## ` section of the page whose rows have a fixture of their own (test/e2e/authorization-matrix-signin.test.ts):
 *  readMatrix leaves them out, readSection reads only them. */
export const SIGNIN_SECTION = 'Company sign-in';

/** `leftOut`: a `stage list` row answered 200 whose list leaves the version staged for the row out (reason cell `- (left out)`). */
export type Row = {
  line: number;
  credential: string;
  action: string;
  pkg: string;
  status: number;
  reason: string;
  notice: boolean;
  leftOut: boolean;
  /** The `## ` heading the row's table is under. */
  section: string;
};

export function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());
}

/** The rows, with the problems of their form (cells, status, reason, notice); `check` adds the reader's own. */
export function parseMatrix(
  text: string,
  check: (row: Row, where: string, problems: string[]) => void = () => {},
): { rows: Row[]; problems: string[] } {
  const lines = text.split('\n');
  const rows: Row[] = [];
  const problems: string[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('## ')) section = lines[i].slice(3).trim();
    if (!lines[i].trim().startsWith('|') || cells(lines[i]).join('|').toLowerCase() !== HEADER.join('|')) continue;
    i += 2; // header and separator
    for (; i < lines.length && lines[i].trim().startsWith('|'); i++) {
      const c = cells(lines[i]);
      const where = `docs/authorization.md:${i + 1}`;
      if (c.length !== HEADER.length) {
        problems.push(`${where}: expected ${HEADER.length} cells, got ${c.length}`);
        continue;
      }
      const [credential, action, pkg, status, reasonCell, notice] = c;
      // The reason is the first `id` (or "-"); anything after it, like a link to a known dispute, is commentary.
      const reason = /^`([a-z0-9-]+)`/.exec(reasonCell)?.[1] ?? (reasonCell.startsWith('-') ? '-' : '');
      if (!/^\d{3}$/.test(status)) problems.push(`${where}: status "${status}" is not an HTTP status`);
      if (!reason) problems.push(`${where}: reason "${reasonCell}" is neither \`id\` nor -`);
      if (notice !== 'yes' && notice !== 'no') problems.push(`${where}: notice must be yes or no, got "${notice}"`);
      const leftOut = /^-\s*\(left out\)/.test(reasonCell);
      if (leftOut && (action !== 'stage list' || status !== '200'))
        problems.push(`${where}: only a 200 "stage list" row can leave the version out`);
      if (Number(status) < 400 && reason !== '-') problems.push(`${where}: an allowed row has reason "${reason}"`);
      const row = {
        line: i + 1,
        credential,
        action,
        pkg,
        status: Number(status),
        reason,
        notice: notice === 'yes',
        leftOut,
        section,
      };
      check(row, where, problems);
      rows.push(row);
    }
  }
  return { rows, problems };
}

/** The rows of the main fixture: every section but the company sign-in's. */
export function readMatrix(check?: Parameters<typeof parseMatrix>[1]): { rows: Row[]; problems: string[] } {
  return readWhere((r) => r.section !== SIGNIN_SECTION, check);
}

/** The rows of one `## ` section. */
export function readSection(
  section: string,
  check?: Parameters<typeof parseMatrix>[1],
): { rows: Row[]; problems: string[] } {
  return readWhere((r) => r.section === section, check);
}

function readWhere(
  keep: (r: Row) => boolean,
  check: Parameters<typeof parseMatrix>[1] = () => {},
): { rows: Row[]; problems: string[] } {
  const { rows, problems } = parseMatrix(readFileSync(MATRIX_DOC, 'utf8'), (row, where, problems) => {
    if (keep(row)) check(row, where, problems);
  });
  return { rows: rows.filter(keep), problems };
}

/** The packages of the matrix's `package` column that exist, all maintained by alice; `@acme/secret` and
 *  `@acme/open` belong to the organization acme (matrix-orgs.ts). */
export const EXISTING: Record<string, string> = {
  'public inside': 'acme-cli',
  'public outside': 'other-cli',
  'private inside': '@acme/secret',
  'private outside': '@other/secret',
  'public in @acme': '@acme/open',
};

/** npm's notice for a token that stopped working: the matrix's `notice` column. */
export const NOTICE = 'access token expired or revoked. Please try logging in again.';

/** Asserts an answer is the row's: status, reason header and notice (the body, cut, in the message). */
export async function assertAnswers(res: Response, row: Row): Promise<void> {
  const text = await res.text();
  const actual = {
    status: res.status,
    reason: res.headers.get('x-tessera-reason') ?? '-',
    notice: res.headers.get('npm-notice') === NOTICE,
  };
  assert.deepEqual(
    actual,
    { status: row.status, reason: row.reason, notice: row.notice },
    `body: ${text.slice(0, 300)}`,
  );
}

/** A row's request as npm sends it to `url` (ending in /): JSON in and out, with the caller's authorization
 *  and an npm-otp when given. */
export function rowRequest(
  url: string,
  method: string,
  path: string,
  authorization: string | null,
  body?: unknown,
  otp?: string,
): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (authorization) headers.authorization = authorization;
  if (otp) headers['npm-otp'] = otp;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}
