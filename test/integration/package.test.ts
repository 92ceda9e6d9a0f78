// The published package (issue 13 item 16): what `npm pack` puts in, that
// `npm ci --omit=dev` works (no build step that needs a devDependency), and
// that the packed package, installed where there is no node_modules of the
// project, runs: the CLI and the agent are bundles that carry what they use,
// and an app that depends on slipway for slipway/app gets nothing else.
// Offline: no registry is asked (there is nothing to fetch).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, cleanup, ROOT } from '../helpers/env.js';

let dir: string;
let tgz: string;
const npm = (args: string[], cwd: string) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--offline'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

before(() => {
  dir = tempDir('package');
  // --ignore-scripts: prepack would rebuild dist/ under the other tests; `npm test` has built it.
  const out = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT)) as { filename: string }[];
  tgz = join(dir, out[0].filename);
});

after(() => cleanup(dir));

test('the package holds what an operator runs, not the tests, benches, scripts or source maps', () => {
  const list = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
  for (const f of ['dist/bin/slipway.cjs', 'dist/bin/slipway-cli.cjs', 'dist/bin/slipway-agent.mjs', 'dist/bin/supervisor.mjs', 'dist/bin/unpack-worker.mjs',
    'dist/bin/hash-worker.mjs', 'dist/bin/slipway.json', 'dist/ui/index.html', 'dist/app/index.js', 'dist/app/index.d.ts',
    'systemd/slipway-agent.service', 'systemd/install.sh', 'docs/setup.md', 'proto/slipway.proto', 'package.json', 'README.md']) {
    assert.ok(list.includes(f), `${f} is in the package`);
  }
  const stray = list.filter((f) => /^dist\/(test|bench|scripts|agent|coordinator|common)\//.test(f) || f.endsWith('.map'));
  assert.deepEqual(stray, []);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies?: object; exports: Record<string, { types: string }> };
  assert.deepEqual(Object.keys(pkg.dependencies ?? {}), [], 'the bundles carry their packages: nothing to install at run time');
  assert.equal(pkg.exports['./app'].types, './dist/app/index.d.ts');
});

test('npm ci --omit=dev works: nothing to build, nothing to fetch', () => {
  const ci = join(dir, 'ci');
  mkdirSync(ci);
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, f), join(ci, f));
  npm(['ci', '--omit=dev'], ci);
  assert.deepEqual(existsSync(join(ci, 'node_modules')) ? readdirSync(join(ci, 'node_modules')).filter((n) => !n.startsWith('.')) : [], []);
});

test('installed from the tarball with no project node_modules: the CLI and the agent run; an app gets slipway/app and nothing else', () => {
  const prefix = join(dir, 'prefix');
  npm(['install', '--global', '--prefix', prefix, tgz], dir);
  const env = { ...process.env, NODE_PATH: '' };
  assert.match(execFileSync(join(prefix, 'bin', 'slipway'), ['--version'], { encoding: 'utf8', env }), /^\d+\.\d+\.\d+/);
  assert.match(execFileSync(join(prefix, 'bin', 'slipway'), ['setup', '--help'], { encoding: 'utf8', env }), /over ssh/);
  writeFileSync(join(dir, 'agent.yaml'), `listen: 127.0.0.1:7070\nstate_dir: ${join(dir, 'state')}\ntls: { insecure: true }\nallow_unsigned: true\n`);
  assert.match(execFileSync(join(prefix, 'bin', 'slipway-agent'), ['--config', join(dir, 'agent.yaml'), '--check'], { encoding: 'utf8', env }), /valid/);

  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "name": "an-app", "version": "1.0.0", "type": "module" }\n');
  npm(['install', tgz], app);
  assert.deepEqual(readdirSync(join(app, 'node_modules')).filter((n) => !n.startsWith('.')), ['slipway']);
  const keys = execFileSync(process.execPath, ['-e', "import('slipway/app').then((m) => process.stdout.write(Object.keys(m).sort().join(',')))"], { cwd: app, encoding: 'utf8' });
  assert.match(keys, /listen/);
  assert.ok(existsSync(join(app, 'node_modules', 'slipway', 'dist', 'app', 'index.d.ts')));
});
