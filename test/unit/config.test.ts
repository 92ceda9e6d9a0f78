// coordinator/config.ts (with common/config-file.ts), common/manifest.ts and coordinator/init.ts
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfigText } from '../../common/config-file.js';
import { environment, loadConfig, slipwayConfigSchema } from '../../coordinator/config.js';
import { defaultStrategy, manifestSchema, runSchema } from '../../common/manifest.js';
import { appNameFrom, initConfigText, writeInitConfig } from '../../coordinator/init.js';
import { BuildError } from '../../coordinator/build/errors.js';
import { UsageError } from '../../coordinator/errors.js';

const VALID = `app: hello
build:
  command: npm ci --omit=dev
  include: [server.js, package.json, node_modules]
run:
  command: [node, server.js]
  env: { NODE_ENV: production }
  listen: [{ name: http, port: 4000, host: 0.0.0.0 }]
  health: { http: { listen: http, path: /healthz }, timeout_s: 30 }
  stop: { signal: SIGTERM, drain_timeout_s: 30 }
  upgrade: hot
tasks: { migrate: [node, migrate.js] }
before_activate: migrate
hooks: { pre_deploy: ./scripts/announce.sh, post_deploy: ./scripts/smoke.sh }
environments:
  staging:    { hosts: [127.0.0.1:7070] }
  production:
    hosts: [app1.internal:7070, app2.internal:7070]
    rollout: { batch: 1, pause_s: 5, revert: all }
tls: { ca: certs/ca.pem, cert: certs/coordinator.pem, key: certs/coordinator-key.pem }
signing_key: keys/release.key
`;

/** The problems of a config text; [] when it is valid. */
function problems(text: string): string[] {
  try {
    parseConfigText(text, slipwayConfigSchema, 'slipway.yaml');
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
}

describe('slipway.yaml', () => {
  test('the design\'s example parses, with defaults filled in', () => {
    const c = parseConfigText(VALID, slipwayConfigSchema, 'slipway.yaml');
    assert.equal(c.app, 'hello');
    assert.equal(c.build.timeout_s, 1800);
    assert.equal(c.run.min_uptime_s, 2);
    assert.equal(c.run.restart.max_restarts, 5);
    assert.equal(c.environments.production.rollout?.revert, 'all');
    assert.equal(c.environments.staging.concurrency, 8);
    assert.deepEqual(c.tasks, { migrate: ['node', 'migrate.js'] });
  });

  test('an unknown top-level key names the key and its line', () => {
    assert.deepEqual(problems(`${VALID}deploy_to: prod\n`), [`line ${VALID.split('\n').length}: unknown key "deploy_to"`]);
  });

  test('an unknown nested key names the full key and its line', () => {
    const text = VALID.replace('  listen: [{', '  lisen: []\n  listen: [{');
    assert.deepEqual(problems(text), ['line 8: unknown key "run.lisen"']);
    const rollout = VALID.replace('revert: all', 'revert: all, pauses: 1');
    assert.deepEqual(problems(rollout), ['line 19: unknown key "environments.production.rollout.pauses"']);
  });

  test('wrong types name the key and the line', () => {
    const text = VALID.replace('port: 4000', 'port: "4000"').replace('include: [server.js, package.json, node_modules]', 'include: server.js');
    const p = problems(text);
    assert.equal(p.length, 2);
    assert.equal(p[0], 'line 4: build.include: must be a list, not string "server.js"');
    assert.equal(p[1], 'line 8: run.listen.0.port: must be a number, not string "4000"');
  });

  test('semantic checks: hosts, task names, health listen', () => {
    assert.deepEqual(problems(VALID.replace('127.0.0.1:7070', 'nohost')), ['line 16: environments.staging.hosts.0: a host is NAME:PORT or IP:PORT (for example 10.0.0.5:7070)']);
    assert.deepEqual(problems(VALID.replace('127.0.0.1:7070', '127.0.0.1:0')), ['line 16: environments.staging.hosts.0: the port must be 1 to 65535']);
    assert.deepEqual(problems(VALID.replace('before_activate: migrate', 'before_activate: migrat')), ['line 13: before_activate: names task "migrat", which is not in tasks']);
    assert.match(problems(VALID.replace('listen: http, path', 'listen: web, path')).join('\n'), /health\.http\.listen names "web", which is not in run\.listen/);
  });

  test('tls is one of two shapes, said plainly', () => {
    assert.deepEqual(problems(VALID.replace(/^tls: .*$/m, 'tls: { ca: x }')), ['line 20: tls: either { insecure: true } or { ca, cert, key } (paths of PEM files)']);
    assert.deepEqual(problems(VALID.replace(/^tls: .*$/m, 'tls: { insecure: true }')), []);
  });

  test('missing required keys are named', () => {
    const p = problems('app: hello\n');
    assert.ok(p.some((l) => l.startsWith('build:')), p.join('\n'));
    assert.ok(p.some((l) => l.startsWith('run:')));
    assert.ok(p.some((l) => l.startsWith('environments:')));
  });

  test('YAML syntax errors and duplicate keys are errors', () => {
    assert.equal(problems('app: [x\n').length, 1);
    assert.match(problems('app: a\napp: b\n')[0], /unique/);
  });

  describe('files', () => {
    let dir: string;
    before(async () => { dir = await mkdtemp(join(tmpdir(), 'slipway-config-test-')); });
    after(async () => { await rm(dir, { recursive: true, force: true }); });

    test('loadConfig reads a file and knows its directory; unknown environments list the known ones', async () => {
      await writeFile(join(dir, 'slipway.yaml'), VALID);
      const loaded = loadConfig(join(dir, 'slipway.yaml'));
      assert.equal(loaded.root, dir);
      assert.equal(loaded.file, join(dir, 'slipway.yaml'));
      assert.deepEqual(environment(loaded, 'staging').hosts, ['127.0.0.1:7070']);
      assert.throws(() => environment(loaded, 'stagin'), /unknown environment "stagin" \(did you mean "staging"\?\)/);
      assert.throws(() => environment(loaded, 'prod'), (err: unknown) => {
        // A bad argument, not a bad file: a usage error (exit 2), not "slipway.yaml is not valid".
        assert.ok(err instanceof UsageError && !(err instanceof ConfigError));
        assert.match(err.message, /unknown environment "prod"; .*slipway\.yaml defines: staging, production/);
        return true;
      });
    });

    test('a missing file is a ConfigError saying so', () => {
      assert.throws(() => loadConfig(join(dir, 'nope.yaml')), /file not found/);
    });

    test('writeInitConfig writes a valid file and refuses to overwrite it without force', async () => {
      const app = join(dir, 'My App');
      await mkdir(app);
      const { file: path } = await writeInitConfig(app);
      assert.equal(path, join(app, 'slipway.yaml'));
      assert.equal(loadConfig(path).config.app, 'my-app');
      await assert.rejects(writeInitConfig(app), (e: unknown) => e instanceof BuildError && e.usage && /already exists/.test(e.message));
      await writeFile(path, 'mine\n');
      await writeInitConfig(app, { force: true, app: 'other' });
      assert.match(await readFile(path, 'utf8'), /^app: other$/m);
      await writeFile(join(app, 'package.json'), '{"name":"@acme/web-api"}');
      await writeInitConfig(app, { force: true });
      assert.equal(loadConfig(path).config.app, 'web-api');
    });
  });
});

describe('init text', () => {
  test('parses against the schema as it is', () => {
    const c = parseConfigText(initConfigText('hello'), slipwayConfigSchema, 'slipway.yaml');
    assert.equal(c.app, 'hello');
    assert.deepEqual(Object.keys(c.environments), ['staging']);
    assert.equal(defaultStrategy(c.run), 'hot');
  });
  test('refuses a bad app name; derives one from a package or directory name', () => {
    assert.throws(() => initConfigText('Bad Name'), (e: unknown) => e instanceof BuildError && e.usage);
    assert.equal(appNameFrom('@scope/Pkg.Name'), 'pkg-name');
    assert.equal(appNameFrom('---'), undefined);
  });
});

describe('manifest schema', () => {
  const manifest = {
    app: 'hello', version: '1.4.2',
    git: { commit: '9f1c'.repeat(10), tag: '1.4.2' },
    source_date: '2026-11-27T10:00:00Z',
    run: {
      command: ['node', 'server.js'], env: { NODE_ENV: 'production' },
      listen: [{ name: 'http', port: 4000, host: '0.0.0.0' }],
      health: { http: { listen: 'http', path: '/healthz' }, timeout_s: 30 },
      stop: { signal: 'SIGTERM', drain_timeout_s: 30 }, min_uptime_s: 2,
      restart: { max_restarts: 5, window_s: 60, backoff_initial_ms: 100, backoff_max_ms: 15000, reset_after_s: 30, min_healthy_s: 60 },
      upgrade: 'hot',
    },
    tasks: { migrate: ['node', 'migrate.js'] },
  };
  test('the design\'s example is valid', () => {
    assert.equal(manifestSchema.parse(manifest).version, '1.4.2');
  });
  test('rejects bad names, versions, commits, dates and unknown keys', () => {
    for (const bad of [{ app: 'Hello' }, { version: 'v1.4.2' }, { git: { commit: 'xyz', tag: '1' } }, { source_date: 'yesterday' }, { extra: 1 }]) {
      assert.equal(manifestSchema.safeParse({ ...manifest, ...bad }).success, false, JSON.stringify(bad));
    }
  });
  test('run rules: hot needs sockets, listen names are unique, health needs a target', () => {
    assert.equal(runSchema.safeParse({ command: ['x'], upgrade: 'hot' }).success, false);
    assert.equal(runSchema.safeParse({ command: ['x'], listen: [{ name: 'a', port: 1 }, { name: 'a', port: 2 }] }).success, false);
    assert.equal(runSchema.safeParse({ command: ['x'], health: { tcp: {} } }).success, false);
    assert.equal(runSchema.safeParse({ command: [] }).success, false);
    assert.equal(defaultStrategy(runSchema.parse({ command: ['x'] })), 'restart');
    assert.deepEqual(defaultStrategy(runSchema.parse({ command: ['x'], upgrade: ['bin/x', 'upgrade', '{version}'] })), ['bin/x', 'upgrade', '{version}']);
  });
});
