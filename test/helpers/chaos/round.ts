// One round of the fault-injection run: run an operation through the real
// CLI, SIGKILL the victim when the planned step is reached (triggers.ts),
// bring the agent back on the same state dir, check that the interrupted
// activation was recorded, run the operation again (releasing our own
// lease first when the killed agent kept it) and check the invariants
// (invariants.ts). Everything is measured on the load's clock.
import { supervisorPid } from '../../../scripts/local-fleet.js';
import type { ChaosHost } from './harness.js';
import { VERSION_A, VERSION_B } from './harness.js';
import { CliRun, runCli, type CliExit } from './cli-run.js';
import { StepTrigger, StateDirWatch } from './triggers.js';
import { snapshot, releaseDirs, supervisedBy, supervisorProcesses, type Landing } from './host-view.js';
import { checkInterruptedRecorded, checkInvariants, checkRecovery, historyAgrees, type Expectation, type InvariantContext } from './invariants.js';
import { windowStats, type WindowStats } from './load-window.js';
import { roundEvidence } from './evidence.js';
import type { Round } from './plan.js';

export interface RoundResult extends WindowStats {
  round: Round;
  /** The victim was killed (a named step whose trigger never came is a miss). */
  hit: boolean;
  /** From the operation's start. */
  killedAtMs?: number;
  landing?: Landing;
  /** The CLI events seen before the kill. */
  eventsBeforeKill: string[];
  /** Pids the CLI said were told to stop (draining) before the kill. */
  toldToStop: number[];
  version: { from: string; to: string };
  op?: { args: string[]; code: number; tail: string[] };
  rerun?: { args: string[]; code: number; unlocked: boolean; tail: string[] };
  /** Kill → the agent reports the app running on its desired release in a live supervising process's care, and that pid has answered since. */
  recoveryMs?: number;
  violations: string[];
  /** Agent log lines and CLI output that show why, when there are violations. */
  evidence: string[];
  /** What the round's set-up ran into (a lease still held, a set-up that failed). */
  notes: string[];
}

interface Prepared { args: string[]; rerun: string[]; to: string; envLine?: string; activation: boolean }

const OP_DEADLINE_MS = 120_000;
const RECOVERY_DEADLINE_MS = 90_000;
const tail = (r: CliExit) => r.output.split('\n').filter(Boolean).slice(-6);

/** Builds what the round needs and says what to run: a target version, a rollback target, releases to prune. */
async function prepare(h: ChaosHost, r: Round): Promise<Prepared> {
  const { app, env } = h.repo;
  const other = (v: string) => (v === VERSION_A ? VERSION_B : VERSION_A);
  let cur = h.desired();
  switch (r.op) {
    case 'deploy': {
      const to = r.fresh ? await h.freshVersion() : other(cur.version);
      return { args: ['deploy', env, to], rerun: ['deploy', env, to], to, activation: true };
    }
    case 'rollback': {
      // A rollback needs a target beneath the current activation, of another
      // version, still on the host (a prune may have removed what was third).
      const usable = (t: { version: string; sha256: string } | undefined) => t !== undefined && t.version !== cur.version &&
        releaseDirs(h.stateDir, app).includes(`${t.version}-${t.sha256.slice(0, 12)}`);
      if (!usable(cur.stack.at(-2))) {
        await h.repo.must('deploy', env, other(cur.version));
        cur = h.desired();
      }
      const to = cur.stack.at(-2)!.version;
      return { args: ['rollback', env], rerun: ['rollback', env, to], to, activation: true };
    }
    case 'restart': return { args: ['restart', env], rerun: ['restart', env], to: cur.version, activation: true };
    case 'env': {
      const line = `CHAOS_ROUND=${r.n}`;
      return { args: ['env', env, 'set', line], rerun: ['env', env, 'set', line], to: cur.version, envLine: line, activation: false };
    }
    case 'prune': {
      // Something to remove beyond the current release, the rollback target and the newest one.
      while (releaseDirs(h.stateDir, app).length < 4) {
        const back = other(h.desired().version);
        await h.repo.must('deploy', env, await h.freshVersion());
        await h.repo.must('deploy', env, back);
      }
      return { args: ['prune', env, '--keep', '1'], rerun: ['prune', env, '--keep', '1'], to: h.desired().version, activation: false };
    }
    case 'idle': return { args: [], rerun: [], to: cur.version, activation: false };
  }
}

/** systemd's RestartSec in the agent's unit (systemd/slipway-agent.service). */
const AGENT_RESTART_DELAY_MS = 2000;

/** Sends SIGKILL to the victim; returns what was wrong, if it could not. */
function kill(h: ChaosHost, r: Round): string | undefined {
  if (r.victim === 'agent') {
    if (!h.agent.child?.pid) return 'no agent process to kill';
    h.agent.child.kill('SIGKILL');
    return undefined;
  }
  const pid = supervisorPid(h.stateDir);
  if (!pid) return 'no supervising process to kill (run/supervisor.pid missing)';
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    return `could not kill the supervising process ${pid}: ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * Polls until the agent reports the app running on its desired release, the
 * pid it names is in the care of a live supervising process (not the one
 * just killed: its child, or adopted), and that pid has answered a request
 * since the kill.
 */
async function recovered(h: ChaosHost, killedAt: number): Promise<boolean> {
  const until = performance.now() + RECOVERY_DEADLINE_MS;
  while (performance.now() < until) {
    const s = await h.quickStatus();
    if (typeof s !== 'string' && s.state === 'running' && s.version && s.version === s.desired_version &&
      supervisorProcesses(h.stateDir).some((sup) => supervisedBy(s.pid, sup)) &&
      h.load.outcomes.some((o) => o.ok && o.pid === s.pid && o.end > killedAt)) return true;
    await new Promise((res) => setTimeout(res, 50));
  }
  return false;
}

/** The pids the CLI said were told to stop (`draining 1.1.0 (pid 123)`). */
function drainedPids(lines: readonly string[]): number[] {
  return lines.flatMap((l) => {
    const m = /\bdraining \S+ \(pid (\d+)\)/.exec(l);
    return m ? [Number(m[1])] : [];
  });
}

function invariantContext(h: ChaosHost): InvariantContext {
  // drainMs: hello's stop.drain_timeout_s (10 s) and slack.
  return { stateDir: h.stateDir, app: h.repo.app, status: () => h.cliStatus(), outcomes: h.load.outcomes, drainMs: 15_000, leftoversMs: 30_000 };
}

export async function runRound(h: ChaosHost, r: Round): Promise<RoundResult> {
  const notesBefore = h.repo.notes.length;
  let p: Prepared;
  try {
    p = await prepare(h, r);
  } catch (err) {
    // Not a kill: the round is reported as missed, with why.
    const now = performance.now();
    return {
      ...windowStats(h.load.outcomes, now, now), round: r, hit: false, eventsBeforeKill: [], toldToStop: [], version: { from: '', to: '' },
      violations: [`the round's set-up failed: ${(err as Error).message.split('\n').slice(0, 3).join(' | ')}`], evidence: roundEvidence(h.saveLog(), undefined, undefined),
      notes: h.repo.notes.slice(notesBefore),
    };
  }
  const from = h.desired().version;
  const historyBefore = historyAgrees(h.stateDir, h.repo.app, from);
  const before = new Set(snapshot(h.stateDir, h.repo.app).appPids);
  h.saveLog();
  const violations: string[] = [];
  const t0 = performance.now();
  const startedAt = new Date();
  let killedAt: number | undefined;
  let landing: Landing | undefined;
  let eventsBeforeKill: string[] = [];
  let toldToStop: number[] = [];
  const cli = p.args.length ? new CliRun(h.repo.dir, p.args) : undefined;
  // A killed agent comes back as systemd brings it back (Restart=always, RestartSec=2s): while the CLI
  // still runs, which may wait for the host to answer again (a revert's grace for a host whose outcome is unknown).
  let restarted: Promise<void> | undefined;

  const fire = () => {
    if (killedAt !== undefined) return;
    const problem = kill(h, r);
    killedAt = performance.now();
    if (r.victim === 'agent' && !problem) {
      restarted = (async () => {
        await h.agent.stop('SIGKILL');
        await new Promise((res) => setTimeout(res, AGENT_RESTART_DELAY_MS));
        await h.agent.start(60_000);
        h.reconnect();
      })().catch((err: unknown) => { violations.push(`the agent did not start again after the kill: ${(err as Error).message.split('\n')[0]}`); });
    }
    landing = snapshot(h.stateDir, h.repo.app);
    eventsBeforeKill = [...(cli?.events ?? [])];
    toldToStop = drainedPids(cli?.lines ?? []);
    if (problem) violations.push(problem);
  };
  const watch = new StateDirWatch(h.stateDir, h.repo.app);
  let timer: Promise<void> = Promise.resolve();
  if (r.step === 'random' || r.step === 'idle') {
    timer = new Promise((res) => setTimeout(() => { fire(); res(); }, r.delayMs));
  } else {
    const trigger = new StepTrigger(r.step, h.repo.app);
    const reached = () => (r.delayMs > 0 ? void setTimeout(fire, r.delayMs) : fire());
    watch.onSignal((s) => { if (trigger.feed(s)) reached(); });
    cli?.onEvent((e) => { if (trigger.feed({ kind: 'cli', event: e })) reached(); });
  }

  let opExit: CliExit | undefined;
  if (cli) {
    let deadlineTimer: NodeJS.Timeout | undefined;
    const deadline = new Promise<undefined>((res) => { deadlineTimer = setTimeout(() => res(undefined), OP_DEADLINE_MS); });
    opExit = await Promise.race([cli.exited, deadline]);
    clearTimeout(deadlineTimer);
    if (!opExit) {
      violations.push(`slipway ${p.args.join(' ')} did not end within ${OP_DEADLINE_MS / 1000} s after the kill`);
      cli.kill();
      opExit = await cli.exited;
    }
  }
  await timer;
  // A jittered kill may still be due just after the CLI ended.
  if (killedAt === undefined && r.delayMs > 0 && r.step !== 'random' && r.step !== 'idle') await new Promise((res) => setTimeout(res, r.delayMs + 5));
  watch.close();

  let recoveryMs: number | undefined;
  let rerun: RoundResult['rerun'];
  if (killedAt !== undefined) {
    if (r.victim === 'agent') await restarted;
    if (await recovered(h, killedAt)) recoveryMs = Math.round(performance.now() - killedAt);
    else violations.push(`the agent did not report the app running on its desired release within ${RECOVERY_DEADLINE_MS / 1000} s of the kill: ${JSON.stringify(await h.quickStatus())}`);
    violations.push(...await checkRecovery(invariantContext(h), toldToStop, performance.now()));
    // The activation had started a new version when the kill came: its outcome must be on record.
    const started = landing!.appPids.some((pid) => !before.has(pid)) || eventsBeforeKill.includes('starting');
    if (p.activation && started) violations.push(...checkInterruptedRecorded(h.stateDir, h.repo.app, startedAt, p.to));
    if (p.rerun.length) {
      let again = await runCli(h.repo.dir, ...p.rerun);
      let unlocked = false;
      if (again.code !== 0 && /is locked by/.test(again.output)) {
        // The killed agent kept our lease (its release came while it was down): as an operator would.
        unlocked = true;
        await runCli(h.repo.dir, 'unlock', h.repo.env);
        again = await runCli(h.repo.dir, ...p.rerun);
      }
      rerun = { args: p.rerun, code: again.code, unlocked, tail: tail(again) };
      if (again.code !== 0) violations.push(`the re-run slipway ${p.rerun.join(' ')} exited ${again.code}: ${tail(again).join(' | ')}`);
    }
  }

  // A step that never came: the operation ran to its end, or failed and changed nothing.
  const version = killedAt === undefined && opExit && opExit.code !== 0 ? from : p.to;
  if (killedAt === undefined && opExit && opExit.code !== 0) violations.push(`slipway ${p.args.join(' ')} failed before its step: ${tail(opExit).join(' | ')}`);
  const exp: Expectation = { version, envLine: p.envLine, answersSince: performance.now(), historyBefore };
  violations.push(...await checkInvariants(invariantContext(h), exp));
  const stats = windowStats(h.load.outcomes, t0, performance.now());
  const lines = h.saveLog();
  return {
    ...stats, round: r, hit: killedAt !== undefined, killedAtMs: killedAt === undefined ? undefined : Math.round(killedAt - t0), landing,
    eventsBeforeKill, toldToStop, version: { from, to: p.to }, op: opExit ? { args: p.args, code: opExit.code, tail: tail(opExit) } : undefined,
    rerun, recoveryMs, violations, evidence: violations.length || stats.failed ? roundEvidence(lines, opExit, rerun?.tail) : [],
    notes: h.repo.notes.slice(notesBefore),
  };
}
