// slipway ping ENV: is every agent there, and how far away? One grpc.health.v1
// check per host to connect, then a few more on the open connection; the
// round trip is their median.
import type { Command } from 'commander';
import { environment } from '../config.js';
import { Fleet, tlsFor, selectHosts, READ_CONCURRENCY } from '../fleet.js';
import { table, color } from '../output.js';
import { action, load, globals, printJson } from './common.js';
import { UsageError } from '../errors.js';
import { failureJson } from '../rollout/bounded.js';

export function register(program: Command): void {
  program.command('ping <env>')
    .description('per-host round trip to the agents of ENV (the standard gRPC health check)')
    .option('--host <host>', 'only this host')
    .option('-n, --count <n>', 'checks per host after connecting; the round trip is their median', '3')
    .addHelpText('after', '\nExit codes: 0 every agent answered SERVING, 1 some did not.')
    .action(action(async (envName: string, opts: { host?: string; count: string }, cmd: Command) => {
      const count = Number(opts.count);
      if (!Number.isInteger(count) || count < 1 || count > 100) throw new UsageError(`--count must be a whole number from 1 to 100, not ${opts.count}`);
      const loaded = load(cmd);
      const env = environment(loaded, envName);
      const hosts = selectHosts(envName, env, opts.host);
      const fleet = new Fleet(hosts, tlsFor(loaded, envName, env), loaded.config.deadline_s * 1000, Math.max(1, Math.min(hosts.length, READ_CONCURRENCY)));
      const outcomes = await fleet.each(async (c) => {
        const first = await c.health();
        const times: number[] = [];
        let status = first.status;
        for (let i = 0; i < count; i++) {
          const r = await c.health();
          times.push(r.ms);
          status = r.status;
        }
        times.sort((a, b) => a - b);
        return { status, connect_ms: first.ms, rtt_ms: times[Math.floor(times.length / 2)], min_ms: times[0], max_ms: times.at(-1)! };
      }).finally(() => fleet.close());
      const r2 = (n: number) => Math.round(n * 100) / 100;
      const out = outcomes.map((o) => (o.ok
        ? { host: o.host, ok: o.value.status === 'SERVING', status: o.value.status, rtt_ms: r2(o.value.rtt_ms), min_ms: r2(o.value.min_ms), max_ms: r2(o.value.max_ms), connect_ms: r2(o.value.connect_ms) }
        : { host: o.host, ok: false, error: failureJson(o.error) }));
      const ok = out.every((h) => h.ok);
      if (globals(cmd).json) {
        printJson({ command: 'ping', ok, env: envName, hosts: out });
        return ok ? 0 : 1;
      }
      process.stdout.write(`${table(['HOST', 'STATUS', 'RTT', 'MIN', 'MAX', 'FIRST CALL'], out.map((h) => ('error' in h
        ? [h.host, color.bad(`${h.error?.unreachable ? 'unreachable' : 'error'} !`), '-', '-', '-', color.bad(h.error?.message ?? '')]
        : [h.host, h.ok ? color.ok(h.status ?? '') : color.bad(`${h.status} !`), `${h.rtt_ms} ms`, `${h.min_ms} ms`, `${h.max_ms} ms`, `${h.connect_ms} ms (with connecting)`])))}\n`);
      return ok ? 0 : 1;
    }));
}
