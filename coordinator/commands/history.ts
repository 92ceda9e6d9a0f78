// slipway history ENV [-n N]: who did what, when, on every host, merged in time order.
import type { Command } from 'commander';
import { AGENT_APP } from '../../common/agent-build.js';
import { environment } from '../config.js';
import { Fleet } from '../fleet.js';
import { UsageError } from '../errors.js';
import { color, table } from '../output.js';
import { action, load, globals, printJson } from './common.js';
import { failureJson } from '../rollout/bounded.js';
import { formatTime } from '../../common/time.js';

export interface MergedEntry {
  host: string;
  at: string;
  action: string;
  who: string;
  from_version: string;
  to_version: string;
  result: string;
  duration_s: number;
  message: string;
}

/** Pure: the hosts' histories in one list, oldest first, the newest n kept. */
export function mergeHistories(perHost: { host: string; entries: Omit<MergedEntry, 'host'>[] }[], n: number): MergedEntry[] {
  const all = perHost.flatMap((h) => h.entries.map((e) => ({ host: h.host, ...e })));
  all.sort((a, b) => (a.at === b.at ? a.host.localeCompare(b.host) : a.at < b.at ? -1 : 1));
  return all.slice(-n);
}

export function register(program: Command): void {
  program.command('history <env>')
    .description('who did what, when, on every host of ENV, merged in time order')
    .option('-n, --lines <n>', 'how many of the newest entries', '30')
    .option('--host <host>', 'only this host')
    .option('--agent', 'the agents\' own upgrades, rollbacks, confirmations and switches back (slipway agent upgrade) instead of the app\'s history')
    .action(action(async (envName: string, opts: { lines: string; host?: string; agent?: boolean }, cmd: Command) => {
      const n = Number(opts.lines);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--lines must be a whole number ≥ 1, not "${opts.lines}"`);
      const loaded = load(cmd);
      const fleet = Fleet.forEnv(loaded, envName, environment(loaded, envName), opts.host);
      const app = opts.agent ? AGENT_APP : loaded.config.app;
      const outcomes = await fleet.each((c) => c.history(app, n)).finally(() => fleet.close());
      const merged = mergeHistories(outcomes.filter((o) => o.ok).map((o) => ({ host: o.host, entries: o.ok ? o.value : [] })), n);
      const failed = outcomes.filter((o) => !o.ok);
      if (globals(cmd).json) {
        printJson({
          command: 'history', ok: failed.length === 0, app, env: envName, entries: merged,
          errors: failed.map((o) => (o.ok ? undefined : { host: o.host, ...failureJson(o.error) })),
        });
        return failed.length === 0 ? 0 : 1;
      }
      process.stdout.write(`${table(['WHEN', 'HOST', 'ACTION', 'WHO', 'VERSION', 'RESULT', 'TOOK', 'NOTE'], merged.map((e) => [
        formatTime(e.at), e.host, e.action, e.who || '-',
        e.from_version && e.to_version && e.from_version !== e.to_version ? `${e.from_version} → ${e.to_version}` : e.to_version || '-',
        e.result === 'done' ? color.ok(e.result) : color.bad(e.result),
        e.duration_s ? `${e.duration_s.toFixed(2)}s` : '-', e.message,
      ]))}\n`);
      for (const o of failed) if (!o.ok) process.stderr.write(`${color.bad('error:')} ${o.host}: ${o.error.message}\n`);
      return failed.length === 0 ? 0 : 1;
    }));
}
