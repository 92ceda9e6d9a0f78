// slipway start|stop|restart ENV [--host H], and slipway logs ENV.
import type { Command } from 'commander';
import { environment } from '../config.js';
import { Fleet } from '../fleet.js';
import { Progress, color, table } from '../output.js';
import { UsageError } from '../errors.js';
import { withLocks } from '../locks.js';
import { action, load, globals, printJson, operatorName } from './common.js';
import type { DeployEvent__Output } from '../../proto/gen/slipway/v1/DeployEvent.js';

const WHAT: Record<string, string> = {
  start: 'start the app on every host of ENV (its desired release); it stays under the watchdog',
  stop: 'stop the app on every host of ENV: its stop signal to the whole process group, SIGKILL at the drain deadline; it stays stopped',
  restart: 'restart the app on every host of ENV: a hot swap onto the same release where the manifest allows (picks up shared/env changes)',
};

export function register(program: Command): void {
  for (const verb of ['start', 'stop', 'restart'] as const) {
    program.command(`${verb} <env>`)
      .description(WHAT[verb])
      .option('--host <host>', 'only this host')
      .option('--timeout <seconds>', 'how long it may take per host', '120')
      .addHelpText('after', '\nExit codes: 0 done on every host, 1 failed somewhere, 2 bad usage.')
      .action(action(async (envName: string, opts: { host?: string; timeout: string }, cmd: Command) => {
        const json = globals(cmd).json === true;
        const loaded = load(cmd);
        const fleet = Fleet.forEnv(loaded, envName, environment(loaded, envName), opts.host);
        const progress = new Progress(!json);
        const app = loaded.config.app;
        const outcomes = await withLocks(fleet, app, `${verb === 'stop' ? 'stopping' : verb === 'start' ? 'starting' : 'restarting'} the app`, () => fleet.each(async (conn) => {
          const events: { event: string; message: string }[] = [];
          const last = await conn.control(app, verb, operatorName(), (ev: DeployEvent__Output) => {
            events.push({ event: ev.event, message: ev.message });
            progress.line(conn.host, `${ev.event.padEnd(11)} ${ev.event === 'failed' ? color.bad(ev.message) : ev.message}`);
            for (const l of ev.output) progress.line(conn.host, color.dim(`  | ${l}`));
          }, Number(opts.timeout) * 1000);
          if (last?.event !== 'done') throw new Error(last?.message || `${verb} ended without an outcome`);
          return { events, message: last.message };
        }), { warn: (host, m) => progress.line(host, color.warn(m)) }).finally(() => { progress.stop(); fleet.close(); });
        const ok = outcomes.every((o) => o.ok);
        if (json) {
          printJson({ command: verb, ok, app, env: envName, hosts: outcomes.map((o) => (o.ok ? { host: o.host, ok: true, ...o.value } : { host: o.host, ok: false, error: { message: o.error.message, unreachable: o.error.unreachable } })) });
        } else {
          process.stdout.write(`${table(['HOST', 'RESULT'], outcomes.map((o) => [o.host, o.ok ? color.ok(o.value.message) : color.bad(`failed: ${o.error.message}`)]))}\n`);
        }
        return ok ? 0 : 1;
      }));
  }

  program.command('logs <env>')
    .description('the app\'s output on every host of ENV, each line prefixed with its host')
    .option('--host <host>', 'only this host')
    .option('-n, --lines <n>', 'how many of the last lines', '50')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .action(action(async (envName: string, opts: { host?: string; lines: string; follow?: boolean }, cmd: Command) => {
      const n = Number(opts.lines);
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`--lines must be a whole number, not "${opts.lines}"`);
      const json = globals(cmd).json === true;
      const loaded = load(cmd);
      const fleet = Fleet.forEnv(loaded, envName, environment(loaded, envName), opts.host);
      const ac = new AbortController();
      const onInt = () => ac.abort();
      process.once('SIGINT', onInt);
      const width = Math.max(...fleet.hosts.map((h) => h.length));
      const outcomes = await fleet.each((conn) => conn.logs(loaded.config.app, n, opts.follow === true, (line) => {
        if (json) process.stdout.write(`${JSON.stringify({ schema: 1, host: conn.host, line })}\n`);
        else process.stdout.write(`${color.dim(conn.host.padEnd(width))} | ${line}\n`);
      }, ac.signal)).finally(() => { process.off('SIGINT', onInt); fleet.close(); });
      for (const o of outcomes) if (!o.ok) process.stderr.write(`${color.bad('error:')} ${o.host}: ${o.error.message}\n`);
      return outcomes.every((o) => o.ok) ? 0 : 1;
    }));
}
