// npm's console output (both prefix generations, npm 2–12) and its debug log.
import type { Extracted } from './extracted.ts';
import type { Line } from './normalise.ts';

const HTTP_LINE = /(\d{3}) [A-Za-z][A-Za-z -]*? - (GET|PUT|POST|DELETE|HEAD|PATCH) (\S+)(?: -? ?(.*))?$/;
const NOT_A_NOTICE =
  /^(PING|PONG|New |Changelog|To update|Run `npm|package:|=== Tarball|Tarball |name:|version:|filename:|package size|unpacked size|shasum|integrity|total files|Publishing to|📦|\d[\d.]*k?B )/;

export function parseNpm(lines: Line[], x: Extracted): void {
  for (const { level, text: t } of lines) {
    let m: RegExpExecArray | null;
    if (level === 'error' && (m = /^code (\S+)/.exec(t))) x.code ??= m[1];
    if ((m = /^code (E\d{3}|E[A-Z]+)$/.exec(t))) x.code ??= m[1]; // the `npm ERR! ` of the first line lost in pasting
    if (level === 'error' && (m = /^(?:errno|network) .*?\b(E[A-Z]{4,})\b/.exec(t))) x.code ??= m[1];
    if ((level === 'notice' || /^npm-notice: /.test(t)) && t && !NOT_A_NOTICE.test(t)) {
      const n = t.replace(/^npm-notice: /, '');
      if (!x.notices.includes(n)) x.notices.push(n);
    }
    if (level === 'warn' && /^notice /.test(t)) x.notices.push(t.slice('notice '.length));
    if (level === 'notice' && (m = /^package: (\S+@\S+)$/.exec(t))) x.spec ??= m[1]; // the publish summary
    if ((m = /^using npm@(\S+)/.exec(t)) || (m = /^npm {1,2}v(\d\S*)/.exec(t))) x.npmVersion ??= m[1];
    if ((m = /^title npm (\S+)/.exec(t))) x.command ??= m[1];
    if ((m = /^argv "([^"]+)"/.exec(t)) && !m[1].includes('/')) x.command ??= m[1];
    if ((m = /^config load:file:(.+)$/.exec(t))) x.configFiles.push(m[1]);
    if ((m = /^pkgid \S+?@(https?:\/\/\S+)/.exec(t))) x.pkgidUrl ??= m[1];
    // The OIDC exchange npm tries before a publish is a clue (oidc lines), not the request that failed.
    if (
      (m = /^(?:http )?fetch (GET|PUT|POST|DELETE|HEAD) (\d{3}) (\S+)/.exec(t)) &&
      Number(m[2]) >= 400 &&
      !/\/oidc\//.test(m[3])
    ) {
      x.method ??= m[1];
      x.status ??= Number(m[2]);
      x.url ??= m[3];
    }
    if ((m = /^(?:verbose )?request (?:Failed )?(PUT|GET)/.exec(t)) && /publish Failed PUT/.test(t)) x.method = 'PUT';
    if (/^publish Failed PUT (\d{3})/.test(t)) {
      x.method = 'PUT';
      x.status ??= Number(/PUT (\d{3})/.exec(t)![1]);
    }
    if ((level === 'error' || level === 'verbose' || level === '') && (m = HTTP_LINE.exec(t))) {
      x.status = Number(m[1]);
      x.method = m[2];
      x.url = m[3];
      if (m[4]?.trim()) x.registryError = m[4].trim();
    }
    // npm-registry-fetch's 401 without a body it prints (pnpm shows it): "Unable to authenticate, need: Bearer
    // realm=…, error="invalid_token", error_description="<why> (<help page>)"" (RFC 6750; Tessera sends why).
    if ((m = /Unable to authenticate, need: .*\berror_description="([^"]*)"/.exec(t))) {
      x.status ??= 401;
      x.registryError ??= m[1];
    }
    // npm 5–6: "401 Unauthorized: @scope/pkg@^1.0.0", "403 Forbidden: pkg@1.0.0", "Registry returned 404 for GET on url"
    if ((m = /^(?:\d{3} )?(\d{3}) [A-Z][A-Za-z ]+: (\S+)$/.exec(t)) && !t.includes(' - ')) {
      x.status ??= Number(m[1]);
      if (/^https?:/.test(m[2])) x.url ??= m[2];
      else x.spec ??= m[2];
    }
    if ((m = /^(\d{3}) (.+?): (\S+@\S+)$/.exec(t)) && !/^https?:/.test(m[3])) {
      x.status ??= Number(m[1]);
      x.registryError ??= m[2];
      x.spec ??= m[3];
    }
    if ((m = /Registry returned (\d{3}) for (GET|PUT) on (\S+)/.exec(t))) {
      x.status ??= Number(m[1]);
      x.method ??= m[2];
      x.url ??= m[3];
    }
    if ((m = /Unable to authenticate, need: (.*)/i.exec(t))) {
      x.authChallenge = m[1].trim();
      const need = x.authChallenge.toLowerCase();
      x.authScheme = need.includes('otp')
        ? 'otp'
        : need.includes('ipaddress')
          ? 'ipaddress'
          : need.includes('bearer')
            ? 'bearer'
            : need.includes('basic')
              ? 'basic'
              : x.authScheme;
    }
    if (/your authentication token seems to be invalid/.test(t)) x.authScheme ??= 'bearer';
    if (/Incorrect or missing password/.test(t)) x.authScheme ??= 'basic';
    if (/requires a one-time password/.test(t)) x.authScheme = 'otp';
    if (/not allowed from your IP address/.test(t)) x.authScheme = 'ipaddress';
    if ((m = /^registry URI: (\S+)/.exec(t))) x.noAuthForUri = { uri: m[1], scopedKey: x.noAuthForUri?.scopedKey };
    if ((m = /^registry Scoped Registry Key: (\S+)/.exec(t)))
      x.noAuthForUri = { uri: x.noAuthForUri?.uri ?? '', scopedKey: m[1] };
    if (/No auth for URI, but auth present for scoped registry/.test(t)) x.noAuthForUri ??= { uri: '' };
    if ((m = /request to (\S+?) ?failed, reason: (.*)$/.exec(t))) {
      x.url ??= m[1];
      x.networkReason = m[2].trim();
    }
    if ((m = /getaddrinfo (ENOTFOUND|EAI_AGAIN) (\S+)/.exec(t))) {
      x.code ??= m[1];
      x.networkReason ??= `getaddrinfo ${m[1]} ${m[2]}`;
      x.url ??= `https://${m[2]}/`;
    }
    if ((m = /^Error: connect (ECONNREFUSED|ECONNRESET|ETIMEDOUT) (\S+)/.exec(t))) {
      x.code ??= m[1];
      x.networkReason ??= `connect ${m[1]} ${m[2]}`;
    }
    if ((m = /network timeout at: (\S+)/.exec(t))) {
      x.url ??= m[1];
      x.networkReason = 'timeout';
    }
    if ((m = /invalid json response body at (\S+)/.exec(t))) x.url ??= m[1];
    // No such version (npm's ETARGET, pnpm's NO_MATCHING_VERSION, Yarn's YN0082): the spec names the package.
    if ((m = /No matching version found for (\S+?)\.?(?:\s|$)/.exec(t))) x.spec ??= m[1];
    if (t.includes(': No candidates found') && (m = /(\S+)@npm:\S+: No candidates found/.exec(t))) x.spec ??= m[1];
    if ((m = /tarball data for (\S+?)@(https?:\/\/\S+) \(sha/.exec(t))) x.url ??= m[2];
    if ((m = /need auth This command requires you to be logged in(?: to (\S+))?/.exec(t))) {
      x.code ??= 'ENEEDAUTH';
      if (m[1]) x.url ??= m[1];
    }
  }
}
