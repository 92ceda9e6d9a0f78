// slipway start|stop|restart ENV [--host H], and slipway logs ENV.
import type { Command } from 'commander';
import { environment } from '../config.js';
import { Fleet } from '../fleet.js';
import { color, table } from '../output.js';
import { UsageError } from '../errors.js';
import { holdLocks } from '../locks.js';
import { withCleanup } from '../cleanup.js';
import { runRollout, type HostSet, type StepLink } from '../rollout/executor.js';
import { HostRecords, type HostDeploy } from '../rollout/records.js';
import { rendererFor } from '../rollout/render.js';
import type { Emit } from '../rollout/events.js';
import { action, load, globals, printJson, operatorName } from './common.js';

const WHAT: Record<string, string> = {
  start: 'start the app on every host of ENV (its desired release); it stays under the watchdog',
  stop: 'stop the app on every host of ENV: its stop signal to the whole process group, SIGKILL at the drain deadline; it stays stopped',
  restart: 'restart the app on every host of ENV: a hot swap onto the same release where the manifest allows (picks up shared/env changes)',
};

/** start, stop or restart on every host at once (within the fleet's concurrency): one batch, nothing to put back. */
export async function controlAll(fleet: HostSet<StepLink>, app: string, verb: 'start' | 'stop' | 'restart', timeoutMs: number, out: Emit): Promise<HostDeploy[]> {
  const hosts = fleet.connections.map((c) => c.host);
  const records = new HostRecords(hosts);
  await runRollout({
    app, name: verb, batch: Math.max(1, hosts.length), pauseS: 0, strategy: '', requestedBy: operatorName(), timeoutMs,
    steps: hosts.map((host) => ({ host, action: { kind: 'control', action: verb }, from: null, back: null })),
  }, fleet, { emit: (e) => { records.apply(e); out(e); } });
  return records.list().map((r) => ({ ...r, ok: r.outcome === 'switched' || r.outcome === 'unchanged' }));
}

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
        const app = loaded.config.app;
        const hosts = await withCleanup(async (defer) => {
          const fleet = Fleet.forEnv(loaded, envName, environment(loaded, envName), opts.host);
          defer(() => fleet.close());
          const view = rendererFor(json, { name: verb });
          defer(() => view.stop());
          const locks = await holdLocks(fleet, app, `${verb === 'stop' ? 'stopping' : verb === 'start' ? 'starting' : 'restarting'} the app`, { warn: (host, m) => view.note(host, color.warn(m)) });
          defer(() => locks.release());
          return controlAll(fleet, app, verb, Number(opts.timeout) * 1000, (e) => view.event(e));
        });
        const ok = hosts.every((h) => h.ok);
        if (json) {
          printJson({ command: verb, ok, app, env: envName, hosts: hosts.map((h) => (h.ok
            ? { host: h.host, ok: true, events: h.events.map((e) => ({ event: e.event, message: e.message })), message: h.events.at(-1)?.message ?? '' }
            : { host: h.host, ok: false, ...(h.outcome === 'unknown' ? { outcome: 'unknown' } : {}), error: h.error })) });
        } else {
          // A host whose outcome was not seen (cut off mid-way) is not said to have failed.
          const result = (h: HostDeploy) => (h.ok ? color.ok(h.events.at(-1)?.message ?? '') : h.outcome === 'unknown' ? color.warn(`UNKNOWN ? ${h.error?.message}`) : color.bad(`failed: ${h.error?.message}`));
          process.stdout.write(`${table(['HOST', 'RESULT'], hosts.map((h) => [h.host, result(h)]))}\n`);
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
