// `tessera explain` on what people paste, second sweep: each sample is a real tool's real output format
// (Yarn 1's request-manager and tarball fetcher, bun install, GitLab's raw job log, npm's spinner), pasted
// the way people do (copied from a web page, quoted in Markdown, cut to the last lines). Every case must
// name its cause first, or say honestly that it found no error: never a wrong cause first.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { explainText } from '../../src/doctor/explain.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

interface Case {
  name: string;
  text: string;
  code?: string;
  status?: number;
  url?: string;
  /** The cause that must rank first. */
  first: string;
  wrong?: string[];
  /** The Tessera refusal read from the registry's words, and those words ("the registry said"). */
  reason?: string;
  said?: string;
  /** Text the first cause's fix must hold (the command for the client that failed). */
  fixIncludes?: string;
}

const CORP = 'https://npm.corp.example.test';
const BIN = join(import.meta.dirname, '../../bin/tessera.js');
const yarnFooter =
  'info If you think this is a bug, please open a bug report with the information provided in "/app/yarn-error.log".\n' +
  'info Visit https://yarnpkg.com/en/docs/cli/install for documentation about this command.\n';

const cases: Case[] = [
  // Yarn 1 rejects a packument request with `${url}: ${body.error}`: the registry's words, no status.
  {
    name: 'Yarn 1, a Tessera refusal quoted without its status (expired token)',
    text:
      'yarn install v1.22.22\n[1/4] Resolving packages...\n' +
      'error An unexpected error occurred: "http://127.0.0.1:4873/@acme%2fui: The access token expired on ' +
      '2026-01-01T00:00:00.000Z. Run `npm login` or create a new token".\n' +
      yarnFooter,
    code: 'E401',
    status: 401,
    url: 'http://127.0.0.1:4873/@acme%2fui',
    first: 'token-rejected',
    wrong: ['no-credential-for-registry', 'lockfile-registry-mismatch'],
  },
  {
    name: "Yarn 1, a Tessera 403 in the registry's words with its help link (a token limited to another scope)",
    text:
      'error An unexpected error occurred: "http://127.0.0.1:4873/@acme%2fui: This token is limited to @other and ' +
      'cannot read @acme/ui (http://127.0.0.1:4873/-/help/token-package-restricted)".\n',
    code: 'E403',
    status: 403,
    first: 'publish-forbidden',
    wrong: ['no-credential-for-registry', 'token-rejected'],
    fixIncludes: '--packages @acme/ui',
  },
  {
    name: 'Yarn 1, a Tessera refusal for a read without a credential',
    text:
      'yarn add v1.22.22\n[1/4] Resolving packages...\n' +
      `error An unexpected error occurred: "${CORP}/@acme%2fui: You must be logged in to read @acme/ui. Run ` +
      '`npm login` or configure a token for this registry".\n',
    code: 'E401',
    first: 'no-credential-for-registry',
    wrong: ['token-rejected'],
    fixIncludes: '//npm.corp.example.test/:_authToken',
  },
  {
    name: "Yarn 1, another registry's `error` text (authentication required)",
    text: `yarn install v1.22.22\n[1/4] Resolving packages...\nerror An unexpected error occurred: "${CORP}/@acme%2fui: authentication required".\n`,
    code: 'E401',
    first: 'no-credential-for-registry',
  },
  {
    name: 'Yarn 1, a scoped packument the registry does not have ("Not found")',
    text: `yarn add v1.22.22\n[1/4] Resolving packages...\nerror An unexpected error occurred: "${CORP}/@acme%2fui: Not found".\n${yarnFooter}`,
    code: 'E404',
    status: 404,
    first: 'scope-not-mapped',
    wrong: ['token-rejected'],
    fixIncludes: '@acme:registry',
  },
  {
    name: "Yarn 1's yarn-error.log trace of the same",
    text:
      'Trace: \n  Error: https://registry.example.test/@acme%2fui: Not found\n' +
      '      at Request.params.callback [as _callback] (/usr/lib/node_modules/yarn/lib/cli.js:66148:18)\n',
    code: 'E404',
    first: 'scope-not-mapped',
  },
  {
    name: 'Yarn 1, a 403 without a body: its own `Request "<url>" returned a 403`',
    text:
      'yarn install v1.22.22\n[1/4] Resolving packages...\n' +
      `error An unexpected error occurred: "${CORP}/@acme%2fui: Request \\"${CORP}/@acme%2fui\\" returned a 403".\n`,
    code: 'E403',
    url: `${CORP}/@acme%2fui`,
    first: 'no-credential-for-registry',
    wrong: ['token-rejected'],
  },
  {
    name: 'Yarn 1, "required by" in the not-found message',
    text:
      'yarn install v1.22.22\n[1/4] Resolving packages...\n' +
      'error Couldn\'t find package "@acme/ui@^1.0.0" required by "app@1.0.0" on the "npm" registry.\n',
    code: 'E404',
    first: 'scope-not-mapped',
  },
  {
    name: 'Yarn 1 cut mid-line after the status',
    text: `error An unexpected error occurred: "${CORP}/@acme/ui/-/ui-1.0.0.tgz: Request failed \\"401 Unauth`,
    code: 'E401',
    url: `${CORP}/@acme/ui/-/ui-1.0.0.tgz`,
    first: 'lockfile-registry-mismatch',
    wrong: ['token-rejected'],
  },
  // GitHub Actions lists a step's environment: setup-node's placeholder there is the token that was sent.
  {
    name: "GitHub Actions log whose step environment shows setup-node's placeholder (install, 401)",
    text: [
      '##[group]Run npm ci',
      'npm ci',
      'shell: /usr/bin/bash -e {0}',
      'env:',
      '  NPM_CONFIG_USERCONFIG: /home/runner/work/_temp/.npmrc',
      '  NODE_AUTH_TOKEN: XXXXX-XXXXX-XXXXX-XXXXX',
      '##[endgroup]',
      'npm error code E401',
      'npm error 401 Unauthorized - GET https://npm.pkg.github.com/@acme%2fui - unauthenticated: User cannot be ' +
        'authenticated with the token provided.',
      '##[error]Process completed with exit code 1.',
    ]
      .map((l, i) => `2026-01-02T03:04:${String(10 + i)}.1234567Z ${l}`)
      .join('\n'),
    code: 'E401',
    first: 'placeholder-token',
    wrong: ['token-rejected'],
    fixIncludes: 'to the step that installs',
  },
  {
    name: "the same placeholder echoed by a publish job (404 on PUT, npm's notice)",
    text:
      '$ cat $NPM_CONFIG_USERCONFIG\n//npm.corp.example.test/:_authToken=XXXXX-XXXXX-XXXXX-XXXXX\n' +
      'npm notice Publishing to https://npm.corp.example.test/ with tag latest and default access\n' +
      `npm error code E404\nnpm error 404 Not Found - PUT ${CORP}/@acme%2fcli - Not found\n`,
    code: 'E404',
    first: 'placeholder-token',
    fixIncludes: 'publish step',
  },
  // bun install's own words (every line starts with `error: `, which is a level, not a tool's prefix).
  {
    name: 'bun 1.2, a scoped packument refused (GET … - 401, failed to resolve)',
    text: `bun install v1.2.21 (7c45ed97)\nerror: GET ${CORP}/@acme%2fui - 401\nerror: @acme/ui@1.0.0 failed to resolve\n`,
    code: 'E401',
    status: 401,
    url: `${CORP}/@acme%2fui`,
    first: 'no-credential-for-registry',
    fixIncludes: 'bunfig.toml',
  },
  {
    name: 'bun 1.0, "forbidden while loading" with the status at the end',
    text: 'error: forbidden while loading "@acme/ui" 403\n',
    code: 'E403',
    first: 'no-credential-for-registry',
    wrong: ['token-rejected'],
    fixIncludes: '[install.scopes]',
  },
  {
    name: 'bun, the socket named in its own words (FailedToOpenSocket), pasted alone',
    text: 'error: FailedToOpenSocket downloading package manifest @acme/ui\nerror: @acme/ui@^0.1.22 failed to resolve\n',
    code: 'FailedToOpenSocket',
    first: 'network-unreachable',
    wrong: ['token-rejected', 'no-credential-for-registry'],
  },
  // Copied from a web page: the quotes are still HTML entities.
  {
    name: 'Yarn 1 copied from an HTML page (&quot;)',
    text:
      `error An unexpected error occurred: &quot;${CORP}/@acme%2fui: Request failed \\&quot;401 Unauthorized\\&quot;&quot;.\n` +
      'info If you think this is a bug, please open a bug report with the information provided in &quot;/app/yarn-error.log&quot;.\n',
    code: 'E401',
    url: `${CORP}/@acme%2fui`,
    first: 'no-credential-for-registry',
  },
  {
    name: 'npm 10 quoted in a Markdown reply and copied from the rendered page (&gt; npm ERR! …)',
    text:
      '&gt; npm ERR! code E401\n&gt; npm ERR! Unable to authenticate, your authentication token seems to be invalid.\n' +
      '&gt; npm ERR! To correct this please try logging in again with:\n&gt; npm ERR!     npm login\n',
    code: 'E401',
    first: 'token-rejected',
    wrong: ['no-credential-for-registry'],
  },
  {
    name: 'npm 11 in a fence inside a nested Markdown quote (>> ```)',
    text:
      '> Same here:\n>\n>> ```\n>> npm error code EINTEGRITY\n>> npm error sha512-AAAA integrity checksum failed when ' +
      'using sha512: wanted sha512-AAAA but got sha512-BBBB. (1234 bytes)\n>> ```\n',
    code: 'EINTEGRITY',
    first: 'lockfile-registry-mismatch',
    fixIncludes: 'npm cache verify',
  },
  {
    name: 'npm 9 quoted in Markdown: a one-time password',
    text:
      '> npm ERR! code EOTP\n> npm ERR! This operation requires a one-time password from your authenticator.\n' +
      '> npm ERR! You can provide a one-time password by passing --otp=<code> to the command you ran.\n',
    code: 'EOTP',
    first: 'otp-required',
  },
  {
    name: 'lines ended by \\r alone (no \\n anywhere in the paste)',
    text:
      'npm ERR! code EOTP\rnpm ERR! This operation requires a one-time password from your authenticator.\r' +
      'npm ERR! A complete log of this run can be found in: C:\\Users\\me\\AppData\\Local\\npm-cache\\_logs\\x-debug-0.log\r',
    code: 'EOTP',
    first: 'otp-required',
  },
  // Copied from a log viewer with its line numbers (space, `cat -n`'s tab, or glued to the text).
  {
    name: 'line numbers copied with the lines (42 npm ERR! …)',
    text:
      '41 $ npm publish\n42 npm ERR! code EOTP\n' +
      '43 npm ERR! This operation requires a one-time password from your authenticator.\n',
    code: 'EOTP',
    first: 'otp-required',
  },
  {
    name: 'line numbers as cat -n prints them, and glued to the text (42npm error …)',
    text:
      `    12\tnpm error code E401\n    13\tnpm error 401 Unauthorized - GET ${CORP}/@acme%2fui - ` +
      'authentication token not provided\n14npm error A complete log of this run can be found in: /tmp/x-debug-0.log\n',
    code: 'E401',
    url: `${CORP}/@acme%2fui`,
    first: 'no-credential-for-registry',
  },
  // GitLab's raw job log: section markers end in `\r` + erase-line, the next text on the same line.
  {
    name: 'GitLab raw log: the code on the same line as a section marker',
    text:
      '\x1b[0Ksection_start:1767323045:step_script\r\x1b[0K\x1b[32;1m$ npm publish\x1b[0;m\n' +
      'section_start:1767323046:npm\r\x1b[0Knpm ERR! code EOTP\n' +
      'npm ERR! This operation requires a one-time password from your authenticator.\n' +
      'section_end:1767323050:step_script\r\x1b[0K\x1b[31;1mERROR: Job failed: exit code 1\x1b[0;m\n',
    code: 'EOTP',
    first: 'otp-required',
  },
  {
    name: "npm's spinner rewritten with \\r before the error (a terminal recording)",
    text:
      '\r⠙ idealTree:app: sill idealTree buildDeps\r⠹ reify:fsevents: timing\rnpm error code E401\r\n' +
      `npm error 401 Unauthorized - GET ${CORP}/@acme%2fui - authentication token not provided\r\n`,
    code: 'E401',
    first: 'no-credential-for-registry',
  },
  {
    // pnpm prints a 401 without a body it reads as npm-registry-fetch's challenge line; Tessera puts why there.
    name: "pnpm 11, a refused token's reason in the Bearer challenge (error_description)",
    text:
      ' ERR_PNPM_FETCH_401  GET http://127.0.0.1:4873/@acme%2fui: Unauthorized - 401\n\n' +
      'Unable to authenticate, need: Bearer realm="tessera", error="invalid_token", error_description="The ' +
      'access token expired on 2026-01-01T00:00:00.000Z. Run `npm login` or create a new token ' +
      '(http://127.0.0.1:4873/-/help/token-expired)"\n',
    status: 401,
    reason: 'token-expired',
    said:
      'The access token expired on 2026-01-01T00:00:00.000Z. Run `npm login` or create a new token ' +
      '(http://127.0.0.1:4873/-/help/token-expired)',
    first: 'token-rejected',
    wrong: ['no-credential-for-registry'],
  },
];

describe('explain, second sweep: real formats as people paste them', { skip: onceInSqlitePass }, () => {
  for (const c of cases) {
    test(c.name, () => {
      const { explanation: ex, extracted } = explainText(c.text);
      const ids = ex.causes.map((x) => x.id);
      if (c.code) assert.equal(ex.code, c.code, `[${ids.join(', ')}]`);
      if (c.status) assert.equal(ex.status, c.status);
      if (c.url) assert.equal(ex.url, c.url);
      assert.equal(ids[0], c.first, `${ex.code} [${ids.join(', ')}]`);
      for (const w of c.wrong ?? []) assert.notEqual(ids[0], w);
      if (c.reason) assert.equal(extracted.reason, c.reason);
      if (c.said) assert.equal(extracted.registryError, c.said);
      if (c.fixIncludes) assert.ok(ex.causes[0].fix.includes(c.fixIncludes), ex.causes[0].fix);
    });
  }
});

describe('explain, second sweep: what it says when it understands nothing', { skip: onceInSqlitePass }, () => {
  const run = (input: string, ...args: string[]) =>
    spawnSync(process.execPath, [BIN, 'explain', '--no-config', ...args], { input, encoding: 'utf8' });

  test("only npm's pointer to its debug log: explain that file instead", () => {
    const log = '/home/runner/.npm/_logs/2026-01-02T03_04_05_123Z-debug-0.log';
    const r = run(`2026-01-02T03:04:05.1234567Z npm error A complete log of this run can be found in: ${log}\n`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /No npm, pnpm, Yarn or bun error found/);
    assert.ok(r.stdout.includes(`tessera explain ${log}`), r.stdout);
  });

  test('unrelated text: what to paste instead, and the JSON contract unchanged', () => {
    const r = run('Error: Process completed with exit code 1.\n');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Paste the whole error output/);
    assert.match(r.stdout, /debug-0\.log/);
    const j = run('Error: Process completed with exit code 1.\n', '--json');
    assert.deepEqual(JSON.parse(j.stdout), { code: 'UNKNOWN', causes: [] });
  });
});
