// `tessera explain`: read what people paste — npm 2–12 console output and debug logs, pnpm, Yarn 1, Yarn
// Berry and bun errors, inside CI and Docker logs — extract what happened, and rank the likely causes with
// their fixes (reference §4, §5.4, §6.4). The parts live in explain/: the normaliser, one parser per
// client, the clues, the weights table and the fixes.
import type { FindingId } from '../domain/findings.ts';
import { reasons } from '../domain/reasons.ts';
import { isTesseraToken, tokenChecksumValid } from '../domain/tokens.ts';
import { credentialForRegistry, credentialForRequest, maskSecrets, redact } from './credentials.ts';
import { parseBerry } from './explain/berry.ts';
import { parseBun } from './explain/bun.ts';
import { evidenceOf, sameMachine, vendorOf } from './explain/evidence.ts';
import { hostOf, origin, pkgFrom } from './explain/extracted.ts';
import type { Client, Extracted } from './explain/extracted.ts';
import { fixFor } from './explain/fixes.ts';
import { normalise } from './explain/normalise.ts';
import type { Line } from './explain/normalise.ts';
import { parseNpm } from './explain/npm.ts';
import { parsePnpm } from './explain/pnpm.ts';
import { WEIGHTS } from './explain/weights.ts';
import { parseYarn1 } from './explain/yarn1.ts';
import type { NpmConfig } from './npm-config.ts';
import { findingForReason, reasonFix } from './reasons.ts';
import { npmTokenCheck } from './rules/values.ts';
import { azureFeedOfUrl, azureFix, passwordNotBase64 } from './rules/vendors.ts';

export type { Extracted } from './explain/extracted.ts';

export interface Cause {
  id: FindingId;
  fix: string;
}

export interface Explanation {
  code: string;
  method?: string;
  url?: string;
  status?: number;
  causes: Cause[];
}

/** Regexes that recognise each Tessera reason's error text. */
let reasonMatchers: [string, RegExp][] | undefined;
function reasonPatterns(): [string, RegExp][] {
  if (reasonMatchers) return reasonMatchers;
  const SENT = '\u0000';
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const out: [string, RegExp][] = [];
  for (const [id, r] of Object.entries(reasons) as [string, { error: (p: object) => string }][]) {
    for (const params of [new Proxy({}, { get: (_t, k) => (typeof k === 'string' ? SENT : undefined) }), {}]) {
      let text: string;
      try {
        text = r.error(params);
      } catch {
        continue;
      }
      const literal = text.split(SENT).map(esc).join('.*?');
      if (literal.replace(/\.\*\?/g, '').length < 12) continue;
      out.push([id, new RegExp(literal)]);
    }
  }
  return (reasonMatchers = out);
}

function clientOf(all: string): Client {
  if (
    /\bYN\d{4}\b|➤|\.yarnrc\.yml|__archiveUrl=|Invalid authentication \(as an? (anonymous|unknown) user\)|HTTPError: Response code|\.yarn\/releases\/|The remote server failed to provide the requested resource/.test(
      all,
    )
  )
    return 'berry';
  if (
    /ERR_PNPM_|\bpnpm\b|^\s*(ERROR|WARN)\s+(Issue while reading|Failed to replace env)|Lockfile is up to date/m.test(
      all,
    ) &&
    !/npm (error|ERR!) code /.test(all)
  )
    return 'pnpm';
  if (
    /An unexpected error occurred|^yarn (install|add) v|Request failed \\?"|Couldn't find package .* on the "npm" registry|yarn-error\.log|^\s*verbose [\d.]+ |Trace:\s*\n?\s*Error: https?:|\/yarn\/lib\/|yarnpkg\.com\/en\/docs\/cli/m.test(
      all,
    )
  )
    return 'yarn1';
  if (
    /^bun (?:install|add|i|update) v\d|^error: (?:GET|PUT) https?:\/\/\S+ - \d{3}$|^error: \S+ failed to resolve$|^error: \w+ downloading (?:package manifest|tarball) |^error: package "[^"]+" not found \S+ \d{3}$|^error: [a-z ]+ while loading "[^"]+" \d{3}$|\bbunfig\.toml\b|\bbun\.lockb?\b/m.test(
      all,
    )
  )
    return 'bun';
  return 'npm';
}

// Codes people meet whose line was lost in pasting (or that the client never printed).
const BARE_CODES: [RegExp, string][] = [
  [/self.signed certificate in certificate chain|SELF_SIGNED_CERT_IN_CHAIN/i, 'SELF_SIGNED_CERT_IN_CHAIN'],
  [/unable to get local issuer certificate/i, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
  [/is not a legal HTTP header value/, 'ERR_INVALID_CHAR'],
  [/Failed to replace env in config/, 'EENVREPLACE'],
  [/Environment variable not found/, 'YN0000'],
  [/all user tokens have been invalidated/, 'E401'],
  [/must be scoped to a registry/, 'ERR_INVALID_AUTH'],
];

/** The status a registry's `error` text implies when the client printed none (Yarn 1 shows only the words). */
function statusOfWords(text: string): number | undefined {
  if (/^not found$|no such package/i.test(text)) return 404;
  if (/forbidden|permission|not allowed|denied/i.test(text)) return 403;
  if (/authenticat|unauthori[sz]ed|logged in|log in|login|credentials/i.test(text)) return 401;
  return undefined;
}

/** Lines of a long log that can say nothing about the failure: progress, timing, successful fetches. */
function noise(l: Line): boolean {
  if (l.level === 'silly' || l.level === 'timing') return !/^(config load:|fetch |logfile|oidc )/.test(l.text);
  if (l.level === 'http') return !/ [45]\d\d /.test(l.text);
  if (l.level === 'info') return !/^using /.test(l.text);
  return false;
}

/** Several runs pasted one after the other: the last one is the failure to explain. */
function lastRun(lines: Line[]): Line[] {
  const codes = lines.flatMap((l, i) => (l.level === 'error' && /^code \S+$/.test(l.text) ? [i] : []));
  if (codes.length < 2) return lines;
  const last = codes[codes.length - 1];
  let start = codes[codes.length - 2] + 1;
  for (let i = start; i < last; i++)
    if (/^A complete log of this run can be found in/.test(lines[i].text)) start = i + 1;
  return lines.slice(start);
}

export function extract(text: string): Extracted {
  // What is extracted is shown again (URLs, the registry's words, notices, fixes): never a secret from the
  // paste. Masked once the noise is gone, all lines in one pass (a line never holds a line break).
  const kept = lastRun(normalise(text).filter((l) => !noise(l)));
  const masked = maskSecrets(kept.map((l) => l.text).join('\n')).split('\n');
  const lines = kept.map((l, i) => ({ ...l, text: masked[i] }));
  const all = lines.map((l) => l.text).join('\n');
  const x: Extracted = {
    notices: [],
    client: clientOf(all),
    configFiles: [],
    configuredRegistries: [],
    lines: lines.map((l) => l.text),
    errBang: /npm ERR!/.test(text),
  };
  const typed = /^\s*(?:[$>❯λ]|\S*[%$#]) ?((?:npm|pnpm|yarn|npx)\b.*)$/m.exec(text)?.[1];
  x.commandLine = typed && maskSecrets(typed);
  if (x.client === 'pnpm') parsePnpm(lines, x);
  if (x.client === 'yarn1') parseYarn1(lines, x);
  if (x.client === 'berry') parseBerry(lines, x);
  if (x.client === 'bun') parseBun(lines, x);
  parseNpm(lines, x); // npm's own lines appear inside the others' output too (pnpm publish, npx)
  if (!x.code) {
    const e = lines.find(
      (l) => (l.level === 'error' || l.level === '') && /^(?:Error: )?(E[A-Z]{3,}[A-Z0-9_]*)\b/.test(l.text),
    );
    if (e) x.code = /^(?:Error: )?(E[A-Z]{3,}[A-Z0-9_]*)/.exec(e.text)![1];
  }
  if (!x.code) x.code = BARE_CODES.find(([re]) => re.test(all))?.[1];
  const errorLines = lines.filter((l) => l.level === 'error' || l.level === '').map((l) => l.text);
  const haystack = [x.registryError ?? '', ...errorLines].join('\n');
  for (const [id, re] of reasonPatterns()) {
    if (re.test(haystack)) {
      x.reason = id;
      break;
    }
  }
  // A Tessera refusal quoted without its status (Yarn 1 prints only the registry's words): the catalogue knows it.
  if (!x.status && x.reason) x.status = (reasons as Record<string, { status: number }>)[x.reason].status;
  if (!x.status && x.registryError) x.status = statusOfWords(x.registryError);
  if (!x.status && x.authChallenge) x.status = 401; // WWW-Authenticate pasted alone
  if (!x.code && x.status) x.code = `E${x.status}`;
  if (!x.status && x.code && /^E\d{3}$/.test(x.code)) x.status = Number(x.code.slice(1));
  if (x.code === 'EOTP') x.authScheme = 'otp';
  if (x.code === 'EAUTHIP') x.authScheme = 'ipaddress';
  return x;
}

/** Causes, most likely first: the weights table summed over the clues present. */
export function rankCauses(x: Extracted): Cause[] {
  const clues = evidenceOf(x);
  const score = new Map<FindingId, number>();
  for (const [clue, cause, w] of WEIGHTS) {
    if (clue.split('+').every((c) => clues.has(c))) score.set(cause, (score.get(cause) ?? 0) + w);
  }
  const causes = [...score]
    .filter(([, s]) => s > 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([id]) => ({ id, fix: fixFor(id, x) }));
  // A Tessera refusal recognised by its wording says exactly what happened: its own cause comes first.
  const own = reasonCause(x);
  return own ? [own, ...causes.filter((c) => c.id !== own.id)] : causes;
}

function reasonCause(x: Extracted): Cause | undefined {
  const id = findingForReason(x.reason);
  if (!id) return undefined;
  const pkg = x.url ? pkgFrom(x) : undefined;
  const fix = reasonFix({
    reason: x.reason,
    registry: x.url ? origin(x.url) : '<registry>',
    where: 'the line that holds it (`tessera doctor` names it)',
    place: 'the line or variable npm reads it from (`tessera doctor` names it)',
    pkg: pkg && !pkg.startsWith('<') ? pkg : undefined,
    detail: x.registryError,
    command: x.command ? `npm ${x.command}` : undefined,
  });
  return { id, fix };
}

/** What to say when nothing in the input is recognised, and what to paste instead (npm's own pointer to its debug
 *  log, if the paste has it). One text for `tessera explain` and the web page; backticks mark commands. */
export function notUnderstood(lines: string[]): string[] {
  const log = lines.map((l) => /(\S*[\\/]_logs[\\/]\S+-debug(?:-\d+)?\.log)\b/.exec(l)?.[1]).find(Boolean);
  const out = ['No npm, pnpm, Yarn or bun error found in the input.'];
  if (log) out.push(`It names npm's debug log: run \`tessera explain ${log}\` on the machine that wrote it.`);
  else
    out.push(
      'Paste the whole error output of the command that failed (npm: from `npm error code …` to the end; pnpm: the ' +
        "`ERR_PNPM_…` block; Yarn: the `error`/`YN0…` lines; bun: the `error:` lines), or npm's debug log " +
        '(`~/.npm/_logs/*-debug-0.log`); or run `tessera doctor` in the project folder.',
    );
  return out;
}

export function explainText(text: string): { extracted: Extracted; explanation: Explanation } {
  const x = extract(text);
  const causes = x.code ? rankCauses(x) : [];
  // A code the client printed as its code is an error even when no cause is known for it (ETARGET on an
  // unscoped name); a code guessed from other text counts only with a cause or a status.
  const printed =
    x.code !== undefined && (/^(ERR_PNPM_|YN0(?!000))/.test(x.code) || x.lines.includes(`code ${x.code}`));
  const out: Explanation = { code: causes.length || x.status || printed ? (x.code ?? 'UNKNOWN') : 'UNKNOWN', causes };
  if (x.method) out.method = x.method;
  if (x.url) out.url = x.url;
  if (x.status) out.status = x.status;
  return { extracted: x, explanation: out };
}

/**
 * Whether the live configuration concerns the registry in the paste: the URL's host is a registry it
 * configures (default or scoped) or holds a credential for. Someone else's registry (a lockfile from
 * another machine, a log from another project) says nothing about this configuration.
 */
export function concernsSameRegistry(x: Extracted, cfg: NpmConfig): boolean {
  if (!x.url || !/^https?:/.test(x.url)) return false;
  const host = hostOf(x.url);
  const hosts: string[] = [];
  for (const key of cfg.keys()) {
    const v = cfg.get(key);
    if ((key === 'registry' || /^@[^:]+:registry$/.test(key)) && typeof v === 'string') hosts.push(hostOf(v));
    const m = /^\/\/([^/]+)\//.exec(key);
    if (m) hosts.push(m[1]);
  }
  hosts.push(hostOf(String(cfg.get('registry'))));
  return hosts.some((h) => sameMachine(h, host));
}

/** What the live configuration says about the failing request: which credential npm sent, from which line. */
export function joinConfig(x: Extracted, ex: Explanation, cfg: NpmConfig): string[] {
  if (!x.url || !/^https?:/.test(x.url)) return [];
  if (!concernsSameRegistry(x, cfg)) {
    return [`The output concerns ${hostOf(x.url)}, which the configuration here does not use: not joined.`];
  }
  const notes: string[] = [];
  const pkg = pkgFrom(x);
  const cred = credentialForRequest(cfg, x.url, pkg.startsWith('<') ? undefined : pkg);
  const at = (o?: { file: string; line: number }) =>
    o ? (o.line ? `${o.file} line ${o.line}` : o.file) : 'npm defaults';
  const verb = x.method ?? 'request';
  // Only an authentication failure can be caused by the credential itself; a 403 means it was accepted.
  const authFailure =
    ex.status === 401 ||
    ex.status === 404 ||
    ['E401', 'E404', 'ENEEDAUTH', 'ERR_INVALID_CHAR'].includes(ex.code) ||
    (ex.status === 403 && x.method !== 'PUT' && ex.causes[0]?.id !== 'package-blocked');
  const said =
    cred.kind === 'none'
      ? `The ${verb} went to ${x.url}, and your configuration here sends no credential to ${hostOf(x.url)}.`
      : `The ${verb} went to ${x.url}, and your ${cred.kind} for it (${redact(cred.value ?? '')}) comes from ${at(cred.origin)} (key ${cred.key}).`;
  notes.push(said);
  if (!authFailure) return notes;
  if (cred.kind === 'none') {
    promote(
      ex,
      'no-credential-for-registry',
      vendorOf(x)
        ? fixFor('no-credential-for-registry', x)
        : `Add \`//${hostOf(x.url)}/:_authToken=\${NPM_TOKEN}\` to ~/.npmrc and export NPM_TOKEN, or \`npm login --registry=${origin(x.url)}\`.`,
    );
    return notes;
  }
  const v = cred.value ?? '';
  if (/\$\{[^}]+\}/.test(v)) {
    promote(
      ex,
      'unexpanded-env-var',
      `${at(cred.origin)} holds the literal ${/\$\{[^}]+\}/.exec(v)![0]}: the variable is not set in this shell. Export it before running npm.`,
    );
  } else if (/[\s\x00-\x1f]/.test(v)) {
    promote(
      ex,
      'token-has-whitespace',
      `The credential from ${at(cred.origin)} contains whitespace or a newline: re-export it without one.`,
    );
  } else if (
    (isTesseraToken(v) && !tokenChecksumValid(v)) ||
    (v.startsWith('npm_') && npmTokenCheck(v) === 'bad-length')
  ) {
    promote(
      ex,
      'token-checksum-invalid',
      `The token from ${at(cred.origin)} is truncated or mistyped (its checksum fails): paste the whole token again.`,
    );
  } else if (/^(XXXXX-XXXXX-XXXXX-XXXXX|undefined|null)$/.test(v)) {
    promote(ex, 'placeholder-token', `${at(cred.origin)} holds the placeholder ${v}: set the real token.`);
  } else if (cred.kind === 'username-password' && vendorOf(x) === 'azure' && passwordNotBase64(v)) {
    promote(
      ex,
      'azure-artifacts-credentials',
      `The _password at ${at(cred.origin)} ${passwordNotBase64(v)}: npm decodes it and sends garbage. ${azureFix(azureFeedOfUrl(x.url))}`,
    );
  }
  if (x.method === 'PUT') {
    const exact = credentialForRegistry(cfg, String(cfg.get('registry')));
    if (exact.kind === 'none')
      notes.push(`npm publish/whoami look for a credential at exactly ${exact.regKey} and find none.`);
  }
  return notes;
}

function promote(ex: Explanation, id: FindingId, fix: string): void {
  ex.causes = [{ id, fix }, ...ex.causes.filter((c) => c.id !== id)];
}
