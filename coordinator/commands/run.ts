// slipway run ENV TASK [--host H | --all] [--stdin] [-- ARGS…]: a manifest
// task (a migration, say) in the current release on one host (by default:
// migrations must run once), or on every host; ARGS are appended to the
// task's command, --stdin streams this command's standard input to the task
// as it comes (RunTaskStream: no size limit, and a terminal's lines go as they
// are typed, Ctrl-D ends them); output streamed with the host's name; the task's exit code
// becomes the command's. The task gets SLIPWAY_PID, the app's running
// process, so that e.g. `eval: [bin/app, rpc]` reaches exactly that node.
import type { Command } from 'commander';
import { environment } from '../config.js';
import { Fleet } from '../fleet.js';
import { UsageError } from '../errors.js';
import { color } from '../output.js';
import { action, catalogued, load, globals, printJson, operatorName } from './common.js';
import { withLocks } from '../locks.js';
import type { AgentConnection } from '../client.js';
import type { Readable } from 'node:stream';

export interface TaskRun {
  host: string;
  exitCode: number;
  message: string;
  lines: number;
}

/** Runs a task on one connection, printing its lines with the host's name (or as JSON lines). */
export async function runTaskOn(conn: AgentConnection, req: { app: string; task: string; version?: string; sha256?: string; args?: string[] }, json: boolean, signal?: AbortSignal, stdin?: Readable): Promise<TaskRun> {
  let lines = 0;
  const res = await conn.runTask({ ...req, requested_by: operatorName() }, (line, stream) => {
    lines++;
    if (json) process.stderr.write(`${JSON.stringify({ host: conn.host, stream, line })}\n`);
    else (stream === 'stderr' ? process.stderr : process.stdout).write(`${color.dim(conn.host)} | ${line}\n`);
  }, signal, stdin);
  return { host: conn.host, exitCode: res.exitCode, message: res.message, lines };
}

export function register(program: Command): void {
  program.command('run <env> <task> [args...]')
    .description('run a manifest task (e.g. migrate) in the current release, on one host by default')
    .option('--host <host>', 'the host to run it on (default: the environment\'s first host)')
    .option('--all', 'run it on every host of ENV, one after another')
    .option('--stdin', 'stream this command\'s standard input to the task as it comes (a pipe, a file, or typed lines; Ctrl-D ends them)')
    .addHelpText('after', `
ARGS after -- are appended to the task's command. The task runs in the
release's directory with the app's environment (shared/env included) and
SLIPWAY_PID, the app's running process (during a hot swap: the newest ready one).
Exit code: the task's own (with --all, the first non-zero one); 1 if a host could not run it; 2 bad usage.
Examples:
  slipway run production migrate
  slipway run production eval -- 'IO.inspect(node())'     # eval: [bin/app, rpc] in slipway.yaml's tasks
  slipway run production seed --stdin < seeds.exs
  slipway run production shell --stdin                # lines typed here reach the task as they are typed; Ctrl-D ends them`)
    .action(action(async (envName: string, task: string, args: string[], opts: { host?: string; all?: boolean; stdin?: boolean }, cmd: Command) => {
      if (opts.host && opts.all) throw new UsageError('--host and --all exclude each other');
      if (opts.stdin && opts.all) throw new UsageError('--stdin runs a task on one host; it cannot be combined with --all');
      const stdin = opts.stdin ? process.stdin : undefined;
      const json = globals(cmd).json === true;
      const loaded = load(cmd);
      const env = environment(loaded, envName);
      // Only the hosts the task runs on: those are the ones it locks.
      const fleet = Fleet.forEnv(loaded, envName, env, opts.host ?? (opts.all ? undefined : env.hosts[0]));
      const ac = new AbortController();
      const onInt = () => ac.abort();
      process.once('SIGINT', onInt);
      const runs: TaskRun[] = [];
      let failure: { host: string; code: string; message: string; exit_code: number } | undefined;
      // A host that could not run it: 1, or 2 for what is bad input (an unknown task, unreadable credentials).
      let failureExit = 1;
      const runAll = async () => {
        for (const conn of fleet.connections) {
          try {
            const r = await runTaskOn(conn, { app: loaded.config.app, task, args }, json, ac.signal, stdin);
            runs.push(r);
            if (!json) process.stderr.write(`${r.exitCode === 0 ? color.ok(r.message) : color.bad(r.message)} on ${conn.host}\n`);
          } catch (err) {
            const e = catalogued(err);
            failure = { host: conn.host, code: e.code, message: e.message, exit_code: e.exitCode };
            failureExit = e.exitCode;
            if (!json) process.stderr.write(`${color.bad('error:')} ${conn.host}: ${failure.message}\n`);
            return;
          }
          if (ac.signal.aborted) return;
        }
      };
      try {
        await withLocks(fleet, loaded.config.app, `running task ${task}`, runAll);
      } finally {
        process.off('SIGINT', onInt);
        fleet.close();
      }
      const firstBad = runs.find((r) => r.exitCode !== 0);
      const code = failure ? failureExit : firstBad ? (firstBad.exitCode > 0 && firstBad.exitCode < 256 ? firstBad.exitCode : 1) : 0;
      if (json) {
        const hosts = runs.map((r) => ({ host: r.host, exit_code: r.exitCode, message: r.message, lines: r.lines }));
        printJson({ command: 'run', ok: code === 0, app: loaded.config.app, env: envName, task, runs: hosts, error: failure });
      }
      return code;
    }));
}
