// The hot, restart and command strategies on their own, with processes of
// the in-memory runner (test/helpers/fake-runner.ts): what each starts and
// stops, in which order, and what it leaves serving when the new version
// fails or the activation is cancelled.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { hotStrategy } from '../../agent/runtime/strategies/hot.js';
import { restartStrategy } from '../../agent/runtime/strategies/restart.js';
import { commandStrategy } from '../../agent/runtime/strategies/command.js';
import { ActivationFailed, type SwapContext } from '../../agent/runtime/strategies/strategy.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeRunner, type FakeProcess } from '../helpers/fake-runner.js';
import { FakeReleases, recorder } from '../helpers/runtime-fixture.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Release } from '../../agent/storage/releases.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

interface Rig {
  runner: FakeRunner;
  v1: Release;
  v2: Release;
  /** What happened, in order: "start 1.1.0", "stop 1.0.0", "command …". */
  log: string[];
  ctx(from: { proc: FakeProcess; release: Release } | undefined, signal?: AbortSignal, command?: (argv: string[]) => Promise<number | null>): SwapContext;
  emitted: ReturnType<typeof recorder>;
}

function rig(run: Record<string, unknown> = {}): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-strategies-'));
  dirs.push(dir);
  const clock = new FakeClock();
  const runner = new FakeRunner(clock.now);
  const releases = new FakeReleases(dir);
  const v1 = releases.add('1.0.0', run);
  const v2 = releases.add('1.1.0', run);
  const log: string[] = [];
  const emitted = recorder();
  return {
    runner, v1, v2, log, emitted,
    ctx(from, signal = new AbortController().signal, command = async () => 0) {
      return {
        app: 'hello', from, to: v2, signal, emit: emitted.emit,
        start: (r) => {
          log.push(`start ${r.version}`);
          return runner.start({ app: 'hello', version: r.version, sha256: r.sha256, releaseDir: r.dir, command: ['x'], env: {}, sockets: [], logDir: dir, logBytes: 1, logFiles: 1 });
        },
        waitReady: (p, _r, s) => (p as FakeProcess).waitReady(s),
        stop: async (p, r) => {
          log.push(`stop ${r.version}`);
          await p.stop('SIGTERM', 1000);
        },
        runCommand: async (argv, r, pid, s) => {
          log.push(`command ${argv.join(' ')} in ${r.version} for ${pid}`);
          const code = await command(argv);
          return { code: s?.aborted ? null : code, output: ['relup output'] };
        },
      };
    },
  };
}

/** The old version, running. */
async function old(r: Rig): Promise<{ proc: FakeProcess; release: Release }> {
  const proc = (await r.runner.start({ app: 'hello', version: '1.0.0', sha256: r.v1.sha256, releaseDir: r.v1.dir, command: ['x'], env: {}, sockets: [], logDir: '', logBytes: 1, logFiles: 1 })) as FakeProcess;
  return { proc, release: r.v1 };
}

async function failure(p: Promise<unknown>): Promise<ActivationFailed> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ActivationFailed, String(err));
    return err;
  }
  throw new Error('the activation did not fail');
}

test('hot: the new version starts beside the old one; once it is ready, the old one is handed back to retire, not yet signalled', async () => {
  const r = rig();
  const from = await old(r);
  r.runner.behaviour.set('1.1.0', 'wait');
  const startedNext = r.runner.nextStart();
  const done = hotStrategy.activate(r.ctx(from));
  const next = await startedNext;
  await next.readinessAsked;
  assert.deepEqual(r.log, ['start 1.1.0']);
  next.ready();
  const { proc, retire } = await done;
  assert.equal(proc, next);
  assert.equal(retire?.proc, from.proc, 'the activation drains it once the swap is recorded');
  assert.deepEqual(r.log, ['start 1.1.0']);
  assert.deepEqual(from.proc.signals, [], 'the old one still serves');
  assert.deepEqual(r.emitted.names(), ['starting', 'ready']);
});

test('hot: a new version that is not ready is stopped; the old one is untouched and serves', async () => {
  const r = rig();
  const from = await old(r);
  r.runner.behaviour.set('1.1.0', 'wait');
  const startedNext = r.runner.nextStart();
  const done = failure(hotStrategy.activate(r.ctx(from)));
  const next = await startedNext;
  await next.readinessAsked;
  next.failReady('tcp 127.0.0.1:4000 refused');
  const err = await done;
  assert.equal(err.message, 'tcp 127.0.0.1:4000 refused');
  assert.equal(err.restored, from.proc);
  assert.deepEqual(r.log, ['start 1.1.0', 'stop 1.1.0']);
  assert.deepEqual(from.proc.signals, []);
});

test('hot: a new version that cannot start fails with the old one serving', async () => {
  const r = rig();
  const from = await old(r);
  r.runner.behaviour.set('1.1.0', 'fail-start');
  const err = await failure(hotStrategy.activate(r.ctx(from)));
  assert.match(err.message, /^could not start 1\.1\.0: cannot exec/);
  assert.equal(err.restored, from.proc);
});

test('restart: the old version is stopped before the new one starts', async () => {
  const r = rig();
  const from = await old(r);
  const { proc } = await restartStrategy.activate(r.ctx(from));
  assert.equal(proc.version, '1.1.0');
  assert.deepEqual(r.log, ['stop 1.0.0', 'start 1.1.0']);
  assert.deepEqual(from.proc.signals, ['SIGTERM']);
});

test('restart: a new version that exits before it is ready is stopped and the old release is started again', async () => {
  const r = rig();
  const from = await old(r);
  r.runner.behaviour.set('1.1.0', 'crash');
  const err = await failure(restartStrategy.activate(r.ctx(from)));
  assert.match(err.message, /exited with code 3 before it was ready/);
  assert.deepEqual(r.log, ['stop 1.0.0', 'start 1.1.0', 'stop 1.1.0', 'start 1.0.0']);
  assert.equal(err.restored?.version, '1.0.0');
  assert.ok(err.restored?.running());
  assert.notEqual(err.restored, from.proc);
});

test('restart: when the old version cannot start again either, it is stopped and the error says why nothing serves', async () => {
  const r = rig();
  const from = await old(r);
  r.runner.behaviour.set('1.1.0', 'crash');
  r.runner.behaviour.set('1.0.0', 'crash');
  const err = await failure(restartStrategy.activate(r.ctx(from)));
  assert.match(err.message, /^the new version exited with code 3 before it was ready; starting 1\.0\.0 again failed too: the new version exited with code 3/);
  assert.deepEqual(r.log, ['stop 1.0.0', 'start 1.1.0', 'stop 1.1.0', 'start 1.0.0', 'stop 1.0.0']);
  assert.equal(err.restored, undefined);
});

test('restart: with nothing running before, a failure restores nothing', async () => {
  const r = rig();
  r.runner.behaviour.set('1.1.0', 'fail-start');
  const err = await failure(restartStrategy.activate(r.ctx(undefined)));
  assert.equal(err.restored, undefined);
  assert.deepEqual(r.log, ['start 1.1.0']);
});

test('command: the upgrade command runs in the running release with {version}; the same process carries on', async () => {
  const r = rig({ upgrade: ['relup', '{version}'] });
  const from = await old(r);
  const { proc } = await commandStrategy.activate(r.ctx(from));
  assert.equal(proc, from.proc);
  assert.deepEqual(r.log, [`command relup 1.1.0 in 1.0.0 for ${from.proc.pid}`]);
  assert.deepEqual(from.proc.signals, []);
});

test('command: a failing upgrade command leaves the running process as it was, with the command\'s output', async () => {
  const r = rig({ upgrade: ['relup', '{version}'] });
  const from = await old(r);
  const err = await failure(commandStrategy.activate(r.ctx(from, undefined, async () => 4)));
  assert.equal(err.message, 'upgrade command relup 1.1.0 exited with code 4; 1.0.0 keeps running');
  assert.deepEqual(err.output, ['relup output']);
  assert.equal(err.restored, from.proc);
});

test('command: with nothing running, a plain start (the restart strategy)', async () => {
  const r = rig({ upgrade: ['relup', '{version}'] });
  const { proc } = await commandStrategy.activate(r.ctx(undefined));
  assert.equal(proc.version, '1.1.0');
  assert.deepEqual(r.log, ['start 1.1.0']);
});

test('hot: cancelled as the new version became ready: it is stopped, the old one never drains', async () => {
  const r = rig();
  const from = await old(r);
  r.runner.behaviour.set('1.1.0', 'wait');
  const ac = new AbortController();
  const startedNext = r.runner.nextStart();
  const done = failure(hotStrategy.activate(r.ctx(from, ac.signal)));
  const next = await startedNext;
  await next.readinessAsked;
  next.ready();
  ac.abort('cancelled by the client');
  const err = await done;
  assert.equal(err.message, 'activation cancelled by the client');
  assert.equal(err.restored, from.proc);
  assert.deepEqual(r.log, ['start 1.1.0', 'stop 1.1.0']);
  assert.deepEqual(from.proc.signals, []);
});

test('restart: cancelled before it began: the old one is not signalled', async () => {
  const r = rig();
  const from = await old(r);
  const ac = new AbortController();
  ac.abort('cancelled by the client');
  const err = await failure(restartStrategy.activate(r.ctx(from, ac.signal)));
  assert.equal(err.message, 'activation cancelled by the client');
  assert.equal(err.restored, from.proc);
  assert.deepEqual(r.log, []);
});

test('command: cancelled while the upgrade command runs: it is killed, the running process carries on', async () => {
  const r = rig({ upgrade: ['relup', '{version}'] });
  const from = await old(r);
  const ac = new AbortController();
  let began!: () => void;
  const running = new Promise<void>((res) => { began = res; });
  const command = () => new Promise<number | null>((res) => {
    began();
    ac.signal.addEventListener('abort', () => res(null), { once: true });
  });
  const done = failure(commandStrategy.activate(r.ctx(from, ac.signal, command)));
  await running;
  ac.abort('cancelled by the client');
  const err = await done;
  assert.equal(err.message, 'activation cancelled by the client: the upgrade command relup 1.1.0 was killed; 1.0.0 keeps running');
  assert.equal(err.restored, from.proc);
  assert.deepEqual(from.proc.signals, []);
});
