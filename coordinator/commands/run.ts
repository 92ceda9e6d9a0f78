// slipway run ENV TASK [--host H | --all]: a manifest task (a migration, say)
// in the current release on one host (by default: migrations must run once),
// or on every host; output streamed with the host's name; the task's exit
// code becomes the command's.
import type { Command } from 'commander';
import { environment } from '../config.js';
import { Fleet } from '../fleet.js';
import { UsageError } from '../errors.js';
import { color } from '../output.js';
import { action, load, globals, printJson, operatorName } from './common.js';
import { withLocks } from '../locks.js';
import type { AgentConnection } from '../client.js';

export interface TaskRun {
  host: string;
  exitCode: number;
  message: string;
  lines: number;
}

/** Runs a task on one connection, printing its lines with the host's name (or as JSON lines). */
export async function runTaskOn(conn: AgentConnection, req: { app: string; task: string; version?: string; sha256?: string }, json: boolean, signal?: AbortSignal): Promise<TaskRun> {
  let lines = 0;
  const res = await conn.runTask({ ...req, requested_by: operatorName() }, (line, stream) => {
    lines++;
    if (json) process.stderr.write(`${JSON.stringify({ host: conn.host, stream, line })}\n`);
    else (stream === 'stderr' ? process.stderr : process.stdout).write(`${color.dim(conn.host)} | ${line}\n`);
  }, signal);
  return { host: conn.host, exitCode: res.exitCode, message: res.message, lines };
}

export function register(program: Command): void {
  program.command('run <env> <task>')
    .description('run a manifest task (e.g. migrate) in the current release, on one host by default')
    .option('--host <host>', 'the host to run it on (default: the environment\'s first host)')
    .option('--all', 'run it on every host of ENV, one after another')
    .addHelpText('after', '\nThe task runs in the release\'s directory with the app\'s environment (shared/env included).\nExit code: the task\'s own (with --all, the first non-zero one); 1 if a host could not run it; 2 bad usage.\nExample: slipway run production migrate')
    .action(action(async (envName: string, task: string, opts: { host?: string; all?: boolean }, cmd: Command) => {
      if (opts.host && opts.all) throw new UsageError('--host and --all exclude each other');
      const json = globals(cmd).json === true;
      const loaded = load(cmd);
      const env = environment(loaded, envName);
      // Only the hosts the task runs on: those are the ones it locks.
      const fleet = Fleet.forEnv(loaded, envName, env, opts.host ?? (opts.all ? undefined : env.hosts[0]));
      const ac = new AbortController();
      const onInt = () => ac.abort();
      process.once('SIGINT', onInt);
      const runs: TaskRun[] = [];
      let failure: { host: string; message: string } | undefined;
      const runAll = async () => {
        for (const conn of fleet.connections) {
          try {
            const r = await runTaskOn(conn, { app: loaded.config.app, task }, json, ac.signal);
            runs.push(r);
            if (!json) process.stderr.write(`${r.exitCode === 0 ? color.ok(r.message) : color.bad(r.message)} on ${conn.host}\n`);
          } catch (err) {
            failure = { host: conn.host, message: (err as Error).message };
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
      const code = failure ? 1 : firstBad ? (firstBad.exitCode > 0 && firstBad.exitCode < 256 ? firstBad.exitCode : 1) : 0;
      if (json) printJson({ command: 'run', ok: code === 0, app: loaded.config.app, env: envName, task, runs, error: failure });
      return code;
    }));
}
