// The agent's pure parts: restart decisions, state transitions, env files,
// its config, and the choice of strategy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRestart, emptyHistory } from '../../agent/runtime/restart-policy.js';
import { afterActivation, afterFailure, emptyState, type ActivationRecord } from '../../agent/runtime/state.js';
import { parseEnvFile, appEnvironment, lookupUser } from '../../agent/runtime/app-env.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentConfigSchema, isLoopback } from '../../agent/config.js';
import { parseConfigText, ConfigError } from '../../common/config-file.js';
import { chooseStrategy } from '../../agent/runtime/strategies/index.js';
import { runSchema } from '../../common/manifest.js';

const policy = runSchema.parse({ command: ['x'] }).restart;

test('restart policy: backoff grows ×1.5 from 100 ms, capped at 15 s', () => {
  let h = emptyHistory();
  const delays: number[] = [];
  let t = 0;
  const p = { ...policy, max_restarts: 100, window_s: 1e6 };
  for (let i = 0; i < 14; i++) {
    const d = decideRestart(p, h, 200, (t += 1000));
    assert.equal(d.action, 'restart');
    if (d.action === 'restart') delays.push(d.delayMs);
    h = d.history;
  }
  assert.deepEqual(delays.slice(0, 4), [100, 150, 225, 338]);
  assert.equal(delays.at(-1), 15_000);
});

test('restart policy: at once after more than a second up; reset after reset_after_s up', () => {
  const d1 = decideRestart(policy, { crashes: [], consecutive: 5 }, 5000, 1e6);
  assert.equal(d1.action === 'restart' && d1.delayMs, 0);
  const d2 = decideRestart(policy, { crashes: [], consecutive: 5 }, 31_000, 1e6);
  assert.equal(d2.history.consecutive, 1);
  const d3 = decideRestart(policy, { crashes: [], consecutive: 5 }, 500, 1e6);
  assert.equal(d3.history.consecutive, 6);
});

test('restart policy: more than max_restarts crashes within the window is a crash loop', () => {
  let h = emptyHistory();
  let last;
  for (let i = 0; i < 6; i++) {
    last = decideRestart(policy, h, 100, 1000 + i * 1000);
    h = last.history;
  }
  assert.equal(last?.action, 'crashloop');
  assert.match(last?.reason ?? '', /6 crashes within 60 s/);
  // Old crashes fall out of the window.
  const later = decideRestart(policy, h, 100, 1000 + 120_000);
  assert.equal(later.action, 'restart');
});

const rec = (version: string, result: 'done' | 'failed' = 'done'): ActivationRecord => ({
  version, sha256: version.replace(/\./g, '').padEnd(64, 'a'), at: '2026-11-27T00:00:00Z', strategy: 'hot', reason: 'deploy', result, message: '', requested_by: 't',
});

test('state: a successful activation becomes desired and is pushed; a failure only enters the history', () => {
  let s = emptyState('hello');
  s = afterActivation(s, rec('1.0.0'));
  s = afterActivation(s, rec('1.1.0'));
  assert.equal(s.desired?.version, '1.1.0');
  assert.deepEqual(s.stack.map((r) => r.version), ['1.0.0', '1.1.0']);
  const f = afterFailure(s, rec('1.2.0', 'failed'));
  assert.equal(f.desired?.version, '1.1.0');
  assert.deepEqual(f.stack.map((r) => r.version), ['1.0.0', '1.1.0']);
  assert.deepEqual(f.history.map((r) => r.version), ['1.0.0', '1.1.0', '1.2.0']);
});

test('shared/env files: KEY=VALUE lines, comments, quotes; bad lines ignored', () => {
  assert.deepEqual(parseEnvFile('# node\nNODE_NAME=a@host\nQUOTED="x y"\nSINGLE=\'z\'\n bad line\n1BAD=x\nEMPTY=\n'), {
    NODE_NAME: 'a@host', QUOTED: 'x y', SINGLE: 'z', EMPTY: '',
  });
});

test('agent config: defaults, loopback rule, unknown keys with their line', () => {
  const c = parseConfigText('listen: 127.0.0.1:7070\ntls: { insecure: true }\n', agentConfigSchema, 'agent.yaml');
  assert.equal(c.state_dir, '/var/lib/slipway');
  assert.equal(c.keep_releases, 5);
  assert.equal(c.limits.entries, 200_000);
  assert.throws(() => parseConfigText('listen: 10.0.0.5:7070\ntls: { insecure: true }\n', agentConfigSchema, 'agent.yaml'),
    (e: ConfigError) => e.problems.some((p) => /insecure TLS is only allowed when listen is a loopback address/.test(p)));
  assert.throws(() => parseConfigText('listen: 127.0.0.1:7070\ntls: { insecure: true }\nallow_unsigned: true\nkeep: 3\n', agentConfigSchema, 'agent.yaml'),
    (e: ConfigError) => e.problems.some((p) => /line 4: unknown key "keep"/.test(p)));
  assert.throws(() => parseConfigText('tls: { ca: a, cert: b, key: c }\nkeep_releases: "five"\n', agentConfigSchema, 'agent.yaml'),
    (e: ConfigError) => e.problems.some((p) => /line 2: keep_releases/.test(p)));
  assert.throws(() => parseConfigText('tls: [oops\n', agentConfigSchema, 'agent.yaml'), (e: ConfigError) => /line \d+: /.test(e.problems[0]));
  assert.ok(isLoopback('127.0.0.3') && isLoopback('::1') && !isLoopback('10.0.0.1') && !isLoopback('0.0.0.0'));
});

test('strategy: the request wins, else the manifest; hot needs sockets', () => {
  const withSockets = runSchema.parse({ command: ['x'], listen: [{ name: 'http', port: 1 }] });
  const without = runSchema.parse({ command: ['x'] });
  assert.equal(chooseStrategy('', withSockets).name, 'hot');
  assert.equal(chooseStrategy('restart', withSockets).name, 'restart');
  assert.equal(chooseStrategy('', without).name, 'restart');
  assert.throws(() => chooseStrategy('hot', without), /needs sockets/);
});

test('temp entries: this process\'s own are in use, others are leftovers', async () => {
  const { tempEntryName, isLeftover } = await import('../../agent/paths.js');
  const mine = tempEntryName('upload');
  assert.match(mine, /^\.tmp-upload-\d+-[0-9a-f]{12}$/);
  assert.equal(isLeftover(mine), false);
  assert.equal(isLeftover(mine.replace(`-${process.pid}-`, `-${process.pid + 1}-`)), true);
  assert.equal(isLeftover('.tmp-upload-abcdef123456'), true, 'names from before pids were in them');
  assert.equal(isLeftover('1.0.0-abcdef123456'), false);
});

test('app environment: with app_user, HOME, USER and LOGNAME are that user\'s; run.env and shared/env still win', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-env-'));
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/sh\nweb:x:998:997:web app:/srv/web:/usr/sbin/nologin\nnohome:x:997:996::::\n');
  const user = await lookupUser('web', passwd);
  assert.deepEqual(user, { name: 'web', uid: 998, gid: 997, home: '/srv/web' });
  assert.equal((await lookupUser('nohome', passwd))?.home, '/');
  assert.equal(await lookupUser('nobody-here', passwd), undefined);
  const shared = join(dir, 'env');
  writeFileSync(shared, 'LOGNAME=override\n');
  const env = await appEnvironment({ HOME: '/srv/web/data' }, shared, user);
  assert.equal(env.USER, 'web');
  assert.equal(env.HOME, '/srv/web/data');
  assert.equal(env.LOGNAME, 'override');
  const plain = await appEnvironment({}, join(dir, 'missing'));
  assert.equal(plain.HOME, process.env.HOME);
});
