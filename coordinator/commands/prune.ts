// slipway prune ENV [--keep N] [--dry-run]: removes old releases (never the
// current one, the rollback target, or one in use), their tarballs, temp
// leftovers and old rotated logs on every host; the agents decide
// (agent/storage/prune.ts) and also do it on their own schedule.
import type { Command } from 'commander';
import { environment } from '../config.js';
import { Fleet } from '../fleet.js';
import { UsageError } from '../errors.js';
import { table, color, formatBytes } from '../output.js';
import { action, load, globals, printJson } from './common.js';
import { failureJson } from '../rollout/bounded.js';

export function register(program: Command): void {
  program.command('prune <env>')
    .description('remove releases beyond keep_releases on every host of ENV (never the current one, the rollback target or one in use), their tarballs, temp leftovers and old rotated logs')
    .option('--keep <n>', 'keep the newest N releases (default: each agent\'s keep_releases)')
    .option('--dry-run', 'show what would be removed; remove nothing')
    .option('--host <host>', 'only this host')
    .addHelpText('after', `
Agents also prune on their own schedule (prune_schedule, hourly by default).

Exit codes: 0 done on every host, 1 failed somewhere, 2 bad usage.
Example: slipway prune staging --keep 3 --dry-run`)
    .action(action(async (envName: string, opts: { keep?: string; dryRun?: boolean; host?: string }, cmd: Command) => {
      const keep = opts.keep === undefined ? 0 : Number(opts.keep);
      if (!Number.isInteger(keep) || keep < (opts.keep === undefined ? 0 : 1) || keep > 1000) throw new UsageError(`--keep must be a whole number from 1 to 1000, not "${opts.keep}"`);
      const json = globals(cmd).json === true;
      const dryRun = opts.dryRun === true;
      const loaded = load(cmd);
      const app = loaded.config.app;
      const fleet = Fleet.forEnv(loaded, envName, environment(loaded, envName), opts.host);
      const outcomes = await fleet.each((c) => c.prune(app, keep, dryRun)).finally(() => fleet.close());
      const ok = outcomes.every((o) => o.ok);
      const hosts = outcomes.map((o) => (o.ok
        ? {
          host: o.host, ok: true as const, bytes_freed: Number(o.value.bytes_freed),
          removed: o.value.removed.map((i) => ({ kind: i.kind, version: i.version, sha256: i.sha256, path: i.path, bytes: Number(i.bytes) })),
          kept: o.value.kept.map((r) => ({ version: r.version, sha256: r.sha256, current: r.current, rollback_target: r.rollback_target, stored: r.stored, unpacked: r.unpacked })),
        }
        : { host: o.host, ok: false as const, error: failureJson(o.error) }));
      if (json) {
        printJson({ command: 'prune', ok, app, env: envName, dry_run: dryRun, hosts });
        return ok ? 0 : 1;
      }
      const rows: string[][] = [];
      for (const h of hosts) {
        if (!h.ok) { rows.push([h.host, color.bad('failed'), '-', '-', h.error.message]); continue; }
        if (h.removed.length === 0) rows.push([h.host, 'nothing to remove', '-', '-', '']);
        for (const i of h.removed) rows.push([h.host, i.kind, i.version || '-', formatBytes(i.bytes), i.path]);
      }
      process.stdout.write(`${table(['HOST', dryRun ? 'WOULD REMOVE' : 'REMOVED', 'VERSION', 'SIZE', 'PATH'], rows)}\n`);
      for (const h of hosts) {
        if (!h.ok) continue;
        const kept = h.kept.map((r) => `${r.version}${r.current ? ' (current)' : r.rollback_target ? ' (rollback target)' : ''}`).join(', ');
        process.stdout.write(`${h.host}: ${dryRun ? 'would free' : 'freed'} ${formatBytes(h.bytes_freed)}; kept ${kept || 'nothing'}\n`);
      }
      return ok ? 0 : 1;
    }));
}
