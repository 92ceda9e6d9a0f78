// slipway ui's pure parts: a host's view from a Status answer (garbage
// included), what changed between two views, which requests may run an
// action, --listen, and the token/Host guard. No clock: times are passed in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { reachableView, failedView, happenings, stepHappening, visibleKey, waitingView, wantsOutput, type HostView } from '../../coordinator/ui/model.js';
import { actionArgs, stepLines } from '../../coordinator/ui/actions.js';
import { Guard } from '../../coordinator/ui/guard.js';
import { parseListen } from '../../coordinator/commands/ui.js';
import type { StatusResponse__Output } from '../../proto/gen/slipway/v1/StatusResponse.js';

const AT = new Date('2030-01-02T03:04:05.000Z');

function status(apps: Record<string, unknown>[]): StatusResponse__Output {
  return {
    agent: { version: '0.1.0', hostname: 'h', started_at: '2030-01-01T00:00:00.000Z', open_files_limit: '1048576', warnings: [] },
    host: { cpu_percent: 12.34, load1: 0.5, memory_total: '1000', memory_available: '250', disk_path: '/x', disk_total: '100', disk_free: '40', uptime_s: 1, sampled_at: '' },
    apps,
  } as unknown as StatusResponse__Output;
}
const app = (o: Record<string, unknown>) => ({ app: 'hello', state: 'running', version: '1.0.0', desired_version: '1.0.0', pid: 10, started_at: '2030-01-02T03:00:00.000Z', restarts: 0, state_reason: '', state_since: '2030-01-02T03:00:00.000Z', cpu_percent: 1, memory_rss: '1000', open_files_limit: '1024', last_activation: null, ...o });

test('a Status answer becomes a view; figures are numbers, percentages computed', () => {
  const v = reachableView('a:1', status([app({})]), 3.21, AT);
  assert.equal(v.reach, 'reachable');
  assert.equal(v.rtt_ms, 3.2);
  assert.equal(v.system?.memory_used_percent, 75);
  assert.equal(v.system?.disk_used_percent, 60);
  assert.equal(v.apps.hello.state, 'running');
  assert.equal(v.apps.hello.rss, 1000);
  assert.equal(v.apps.hello.nofile, 1024);
});

test('an answer of garbage gives blanks, never a throw', () => {
  for (const res of [null, {}, { apps: 'x' }, { apps: [null, 5, { app: 7 }, { app: 'ok', pid: 'NaN', restarts: {} }] }, { agent: { warnings: 'no' } }]) {
    const v = reachableView('a:1', res as unknown as StatusResponse__Output, 1, AT);
    assert.equal(v.reach, 'reachable');
    for (const c of Object.values(v.apps)) { assert.equal(typeof c.pid, 'number'); assert.ok(Number.isFinite(c.restarts)); }
  }
});

test('a failed poll keeps the last cells, marked unreachable', () => {
  const ok = reachableView('a:1', status([app({})]), 1, AT);
  const down = failedView(ok, 'unreachable', 'unreachable: connection refused', AT);
  assert.equal(down.reach, 'unreachable');
  assert.equal(down.apps.hello.version, '1.0.0');
  assert.equal(down.rtt_ms, null);
  const h = happenings('prod', ok, down, AT);
  assert.deepEqual(h.map((x) => x.kind), ['unreachable']);
  assert.deepEqual(happenings('prod', down, ok, AT).map((x) => x.kind), ['back']);
  assert.deepEqual(happenings('prod', waitingView('a:1'), down, AT), [], 'the first answer is no change');
});

test('an activation: activating, then done with the versions; a rollback says so', () => {
  const before = reachableView('a:1', status([app({})]), 1, AT);
  const during = reachableView('a:1', status([app({ state: 'activating', state_reason: 'to 1.1.0', desired_version: '1.1.0' })]), 1, AT);
  assert.deepEqual(happenings('prod', before, during, AT).map((x) => [x.kind, x.text]), [['activating', 'activating to 1.1.0']]);
  const la = { version: '1.1.0', sha256: '', at: '2030-01-02T03:04:04.000Z', strategy: 'hot', reason: 'deploy', result: 'done', message: '', requested_by: 'ci-1' };
  const after = reachableView('a:1', status([app({ version: '1.1.0', desired_version: '1.1.0', last_activation: la })]), 1, AT);
  const done = happenings('prod', during, after, AT);
  assert.deepEqual(done.map((x) => [x.kind, x.at]), [['done', la.at]]);
  assert.match(done[0].text, /now runs 1\.1\.0 \(was 1\.0\.0\)/);
  const back = reachableView('a:1', status([app({ last_activation: { ...la, version: '1.0.0', reason: 'rollback', at: '2030-01-02T03:05:00.000Z' } })]), 1, AT);
  assert.match(happenings('prod', after, back, AT)[0].text, /rolled back to 1\.0\.0/);
});

test('a crash, a crash loop, and when the output is fetched', () => {
  const run = reachableView('a:1', status([app({})]), 1, AT);
  const backoff = reachableView('a:1', status([app({ state: 'backoff', version: '', pid: 0, restarts: 1, state_reason: 'was killed by SIGKILL' })]), 1, AT);
  const h = happenings('prod', run, backoff, AT);
  assert.deepEqual(h.map((x) => x.kind), ['crashed'], 'not also "now runs nothing": the desired version stands');
  assert.ok(wantsOutput(run.apps.hello, backoff.apps.hello));
  assert.ok(!wantsOutput(backoff.apps.hello, backoff.apps.hello), 'not again for the same crash');
  const loop = reachableView('a:1', status([app({ state: 'crashloop', version: '', pid: 0, restarts: 6 })]), 1, AT);
  assert.deepEqual(happenings('prod', backoff, loop, AT).map((x) => x.kind), ['crashloop']);
});

test('visibleKey ignores the poll time and the round trip', () => {
  const a = reachableView('a:1', status([app({})]), 1, AT);
  const b = reachableView('a:1', status([app({})]), 9, new Date(AT.getTime() + 1000));
  assert.equal(visibleKey(a), visibleKey(b));
  const c: HostView = { ...b, apps: { hello: { ...b.apps.hello, restarts: 1 } } };
  assert.notEqual(visibleKey(a), visibleKey(c));
});

test('actions: only known ones, on shown environments and hosts, arguments never options', () => {
  const hostsOf = (e: string) => (e === 'prod' ? ['a:1', 'b:1'] : undefined);
  assert.deepEqual(actionArgs({ action: 'rollback', env: 'prod' }, hostsOf), { args: ['rollback', 'prod'] });
  assert.deepEqual(actionArgs({ action: 'restart', env: 'prod', host: 'a:1' }, hostsOf), { args: ['restart', 'prod', '--host=a:1'] });
  assert.deepEqual(actionArgs({ action: 'lock', env: 'prod', reason: ' db migration ' }, hostsOf), { args: ['lock', 'prod', '--reason=db migration'] });
  for (const bad of [null, 'x', { action: 'deploy', env: 'prod' }, { action: 'rollback', env: 'staging' }, { action: 'restart', env: 'prod', host: '--all' }, { action: 'lock', env: 'prod' }, { action: 'rollback', env: 'prod', host: 'a:1' }]) {
    assert.ok('error' in actionArgs(bad, hostsOf), JSON.stringify(bad));
  }
});

test('--listen: HOST:PORT, IPv6 in brackets; anything else is a usage error', () => {
  assert.deepEqual(parseListen('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseListen('[::1]:7079'), { host: '::1', port: 7079 });
  for (const bad of ['7079', 'localhost', ':80', '1.2.3.4:70000', 'a:b']) assert.throws(() => parseListen(bad), /--listen must be HOST:PORT/);
});

test('the guard: a token when set (Bearer or cookie); on loopback without one, only loopback Host names', () => {
  const req = (headers: Record<string, string>) => ({ headers } as unknown as IncomingMessage);
  const open = new Guard(undefined, true);
  assert.equal(open.refuse(req({ host: '127.0.0.1:7079' })), undefined);
  assert.equal(open.refuse(req({ host: 'localhost:7079' })), undefined);
  assert.equal(open.refuse(req({ host: '[::1]:7079' })), undefined);
  assert.equal(open.refuse(req({ host: 'evil.example' }))?.status, 403);
  const t = new Guard('0123456789abcdef0123', false);
  assert.equal(t.refuse(req({ host: 'x' }))?.status, 401);
  assert.equal(t.refuse(req({ host: 'x', authorization: 'Bearer nope' }))?.status, 401);
  assert.equal(t.refuse(req({ host: 'x', authorization: 'Bearer 0123456789abcdef0123' })), undefined);
  assert.equal(t.refuse(req({ host: 'x', cookie: 'a=b; slipway_ui=0123456789abcdef0123' })), undefined);
  assert.match(open.refuseAction(req({ host: 'h' })) ?? '', /x-slipway-ui/);
  assert.match(open.refuseAction(req({ host: 'h:1', 'x-slipway-ui': '1', origin: 'http://evil.example' })) ?? '', /another origin/);
  assert.equal(open.refuseAction(req({ host: 'h:1', 'x-slipway-ui': '1', origin: 'http://h:1' })), undefined);
});

test('a rollout\'s --json answer as activity lines: batch, steps with the agents\' times, output on failure; nonsense skipped', () => {
  const doc = {
    batches: [['a:1'], ['b:1']],
    hosts: [
      { host: 'a:1', outcome: 'switched', events: [{ event: 'starting', at: '2030-01-02T03:04:05.100Z' }, { event: 'ready', at: '2030-01-02T03:04:05.400Z' }, { event: 'done', at: '2030-01-02T03:04:05.900Z' }] },
      { host: 'b:1', outcome: 'failed', events: [{ event: 'starting', at: 'x' }, { event: 'failed', at: 'y' }], output: ['boom'] },
      { host: 5 }, null, { host: 'c:1', events: 'no' },
    ],
  };
  const lines = stepLines(doc, 'prod', 'hello', AT.toISOString());
  assert.deepEqual(lines.map((l) => [l.host, l.kind, l.text]), [
    ['a:1', 'steps', 'batch 1: starting 03:04:05.100Z → ready 03:04:05.400Z → done 03:04:05.900Z (switched)'],
    ['b:1', 'failed', 'batch 2: starting x → failed y (failed)'],
  ]);
  assert.deepEqual(lines[1].output, ['boom']);
  for (const bad of [null, 'x', 1, { hosts: 'x' }, { hosts: [{ host: 'a', events: [null] }] }]) assert.deepEqual(stepLines(bad, 'p', 'a', ''), []);
});

test('a Watch event becomes an activity line: the event word first, the agent time, output on failed; nonsense gives none', () => {
  const ready = stepHappening('staging', 'h1', { app: 'hello', version: '1.1.0', event: 'ready', message: 'answers /healthz', at: '2030-01-02T03:04:06.500Z', elapsed_s: 1.25, output: [] }, AT);
  assert.deepEqual(ready, { at: '2030-01-02T03:04:06.500Z', env: 'staging', host: 'h1', app: 'hello', kind: 'step', version: '1.1.0', text: 'ready after 1.3 s: answers /healthz' });
  const failed = stepHappening('staging', 'h1', { app: 'hello', version: '1.1.0', event: 'failed', message: 'exited with code 3', at: '', elapsed_s: 0, output: ['boom'] }, AT);
  assert.equal(failed?.kind, 'failed');
  assert.equal(failed?.at, AT.toISOString());
  assert.equal(failed?.text, 'failed: exited with code 3');
  assert.deepEqual(failed?.output, ['boom']);
  assert.equal(stepHappening('staging', 'h1', { event: 'done' }, AT), undefined);
  assert.equal(stepHappening('staging', 'h1', { app: 'hello', event: 42 as unknown as string }, AT), undefined);
});
