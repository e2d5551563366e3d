// pnpm's reporter: " ERR_PNPM_FETCH_401  GET https://…: Unauthorized - 401", the authorization summary
// under it, and the warnings about .npmrc files it could not read.
import type { Extracted } from './extracted.ts';
import type { Line } from './normalise.ts';

export function parsePnpm(lines: Line[], x: Extracted): void {
  let settings = false;
  for (const { text: t } of lines) {
    let m: RegExpExecArray | null;
    // pnpm ≤ 10 prints ` ERR_PNPM_FETCH_401  GET …`, pnpm 11 `[ERR_PNPM_FETCH_401] GET …`.
    if ((m = /(ERR_PNPM_[A-Z0-9_]+)\]?\s*(?:(GET|PUT|POST|DELETE|HEAD) (\S+?):?\s(?:.*?- ?(\d{3}))?)?/.exec(t))) {
      x.code ??= m[1];
      if (m[2]) x.method = m[2];
      if (m[3]) x.url = m[3].replace(/:$/, '');
      if (m[4]) x.status = Number(m[4]);
      else if ((m = /_(\d{3})$/.exec(x.code))) x.status ??= Number(m[1]);
    }
    // pnpm 11's own write commands (dist-tag, deprecate, unpublish, owner, access) name no method or URL:
    // `[ERR_PNPM_FORBIDDEN] You do not have permission to deprecate this package. {"error":"…"}`.
    if ((m = /ERR_PNPM_(UNAUTHORIZED|FORBIDDEN|REGISTRY_ERROR)\]?\s+(.*)$/.exec(t))) {
      const failed = /^Failed to (.+?): (\d{3})\b/.exec(m[2]);
      x.status ??= m[1] === 'UNAUTHORIZED' ? 401 : m[1] === 'FORBIDDEN' ? 403 : failed ? Number(failed[2]) : undefined;
      // Reading the packument first (`Failed to fetch package info: 401`) is a GET; the change itself a write.
      x.method ??= /^Failed to fetch\b/.test(m[2]) ? 'GET' : /\bunpublish\b/.test(m[2]) ? 'DELETE' : 'PUT';
      const body = /(\{"error":"(?:[^"\\]|\\.)*")/.exec(m[2]);
      if (body) {
        try {
          x.registryError ??= (JSON.parse(`${body[1]}}`) as { error: string }).error;
        } catch {
          /* the words stay in the line */
        }
      }
    }
    if (/ERR_PNPM_(WHOAMI_UNAUTHORIZED|TEAM_MISSING_AUTH)\b/.test(t)) x.pnpmNoAuthHeader ??= true;
    if ((m = /Got unexpected checksum for "(https?:\/\/[^"]+)"/.exec(t))) x.url ??= m[1];
    if (/No authorization header was set for the request/.test(t)) x.pnpmNoAuthHeader = true;
    if (/An authorization header was used/.test(t)) x.pnpmNoAuthHeader = false;
    if (/These authorization settings were found/.test(t)) settings = true;
    else if (settings && (m = /^(@[^:]+:)?registry=(\S+)/.exec(t))) x.configuredRegistries.push(m[2]);
    else if (settings && !/^\/\//.test(t)) settings = false;
  }
  if (!x.code && lines.some((l) => /Failed to replace env in config/.test(l.text))) x.code = 'ERR_PNPM_CONFIG';
}
