// The agent's Watch stream: a client that only watches sees every step of a
// deploy and a restart another client (the real CLI) started, in order, with
// the agent's times; a watcher of another app sees none of them; a watcher
// that goes away is forgotten and the agent carries on. Real agent over mTLS,
// real tarballs and processes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir, makeAppRepo, connect, startAgents, stopAgents, cleanup, cli, waitFor, type AppRepo } from '../helpers/env.js';
import type { AgentConnection } from '../../coordinator/client.js';
import type { LocalAgent } from '../../scripts/local-fleet.js';
import type { DeployEvent__Output } from '../../proto/gen/slipway/v1/DeployEvent.js';

let dir: string;
let agents: LocalAgent[];
let repo: AppRepo;
let conn: AgentConnection;

before(async () => {
  dir = tempDir('watch');
  agents = await startAgents(dir, 1);
  repo = await makeAppRepo(dir, agents.map((a) => a.address));
  conn = connect(agents[0], 10_000);
  repo.release('1.0.0', { 'message.txt': 'one\n' });
  repo.release('1.1.0', { 'message.txt': 'two\n' });
  for (const v of ['1.0.0', '1.1.0']) assert.equal((await cli(repo.dir, 'build', v)).code, 0);
  const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
});

after(async () => {
  conn?.close();
  await stopAgents(agents ?? []);
  cleanup(dir);
});

/** Starts watching app ('' = every app); resolves once the agent has subscribed the call. */
async function watching(app: string): Promise<{ events: DeployEvent__Output[]; stop: () => void; ended: Promise<void> }> {
  const events: DeployEvent__Output[] = [];
  const ac = new AbortController();
  let opened!: () => void;
  const open = new Promise<void>((r) => { opened = r; });
  const ended = conn.watch(app, (e) => events.push(e), ac.signal, opened);
  await Promise.race([open, ended.then(() => { throw new Error('Watch ended before it opened'); })]);
  return { events, stop: () => ac.abort(), ended };
}

const words = (es: DeployEvent__Output[]) => es.map((e) => e.event);

test('a watcher sees each step of a deploy started by another client, in order, with the agent times; a watcher of another app sees nothing', async () => {
  const all = await watching('');
  const hello = await watching('hello');
  const other = await watching('other');
  const d = await cli(repo.dir, 'deploy', 'staging', '1.1.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
  await waitFor(() => all.events.some((e) => e.event === 'done') && hello.events.some((e) => e.event === 'done'), 'the deploy\'s done on both watchers');
  const seen = words(all.events);
  for (const w of ['starting', 'ready', 'done']) assert.ok(seen.includes(w), `${w} in ${seen.join(', ')}`);
  assert.ok(seen.indexOf('starting') < seen.indexOf('ready') && seen.indexOf('ready') < seen.indexOf('done'), seen.join(', '));
  if (seen.includes('unpacking')) assert.equal(seen[0], 'unpacking');
  for (const e of all.events) {
    assert.equal(e.app, 'hello');
    assert.equal(e.version, '1.1.0');
    assert.equal(e.from_version, '1.0.0');
    assert.ok(Number.isFinite(Date.parse(e.at)), e.at);
  }
  const elapsed = all.events.map((e) => e.elapsed_s);
  assert.deepEqual(elapsed, [...elapsed].sort((a, b) => a - b), 'elapsed_s never goes back');
  assert.ok(all.events.find((e) => e.event === 'done')!.pid > 0);
  assert.deepEqual(words(hello.events), seen);
  assert.deepEqual(other.events, []);
  for (const w of [all, hello, other]) w.stop();
  await Promise.all([all.ended, hello.ended, other.ended]);
});

test('a restart from the CLI streams to a watcher too; watchers that went away are forgotten', async () => {
  // Many watchers come and go: none of them may hold the agent up or leak.
  for (let i = 0; i < 20; i++) {
    const w = await watching('');
    w.stop();
    await w.ended;
  }
  const w = await watching('hello');
  const r = await cli(repo.dir, 'restart', 'staging');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  await waitFor(() => w.events.some((e) => e.event === 'done'), 'the restart\'s done');
  assert.ok(words(w.events).includes('ready'), words(w.events).join(', '));
  assert.ok(w.events.every((e) => e.version === '1.1.0'));
  w.stop();
  await w.ended;
  assert.deepEqual(agents[0].logged('MaxListenersExceededWarning'), []);
  assert.deepEqual(agents[0].logged('internal error'), []);
});
