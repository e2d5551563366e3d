// docs/deployment.md's production configuration is a configuration Tessera accepts, as written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.ts';

const DOC = readFileSync(join(import.meta.dirname, '../../docs/deployment.md'), 'utf8');

test('the production configuration example loads, and says what it means to', () => {
  const yaml = /```yaml\n(# \/etc\/tessera\/tessera\.yaml\n[\s\S]*?)```/.exec(DOC)?.[1];
  assert.ok(yaml, 'docs/deployment.md has the tessera.yaml example');
  const file = join(mkdtempSync(join(tmpdir(), 'tessera-deploy-doc-')), 'tessera.yaml');
  writeFileSync(file, yaml);
  const c = loadConfig({ config: file }, {});
  assert.equal(c.data, '/var/lib/tessera');
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 4873 });
  assert.equal(c.publicUrl, 'https://npm.example.com/');
  assert.equal(c.signup, 'closed');
  assert.equal(c.email.smtp?.host, 'smtp.example.com');
  assert.equal(c.stage.requireSecondApprover, true);
});

test('the systemd units run the installed package with a named Node', () => {
  assert.match(
    DOC,
    /ExecStart=\/usr\/bin\/node --max-semi-space-size=16 \/usr\/lib\/node_modules\/tessera\/bin\/tessera\.js serve --config/,
  );
  assert.match(DOC, /tessera\.js backup \\\n\s+--config \/etc\/tessera\/tessera\.yaml --to /);
});
