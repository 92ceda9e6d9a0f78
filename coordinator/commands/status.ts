// slipway status ENV and slipway versions ENV: what runs, and what is there.
import type { Command } from 'commander';
import { environment } from '../config.js';
import { Fleet } from '../fleet.js';
import { table, color, formatDuration, formatBytes } from '../output.js';
import { action, load, globals, printJson } from './common.js';

export function register(program: Command): void {
  program.command('status <env>')
    .description('host, app, version, state, pid, uptime and restarts on every host of ENV')
    .option('--host <host>', 'only this host')
    .addHelpText('after', '\nExit codes: 0 every host answered, 1 some host did not.')
    .action(action(async (envName: string, opts: { host?: string }, cmd: Command) => {
      const loaded = load(cmd);
      const fleet = Fleet.forEnv(loaded, envName, environment(loaded, envName), opts.host);
      const app = loaded.config.app;
      const outcomes = await fleet.each((c) => c.status(app).catch((err: unknown) => {
        // An agent that never saw the app answers NOT_FOUND; that host is reachable and runs nothing.
        if ((err as { code?: number }).code === 5) return c.status('').then((s) => ({ ...s, apps: [] }));
        throw err;
      })).finally(() => fleet.close());
      const now = Date.now();
      const hosts = outcomes.map((o) => {
        if (!o.ok) return { host: o.host, ok: false, error: { message: o.error.message, unreachable: o.error.unreachable } };
        const a = o.value.apps.find((x) => x.app === app);
        return {
          host: o.host, ok: true, agent: { version: o.value.agent?.version, hostname: o.value.agent?.hostname },
          app: a ? {
            app: a.app, state: a.state, state_reason: a.state_reason, version: a.version, sha256: a.sha256,
            desired_version: a.desired_version, pid: a.pid, started_at: a.started_at,
            uptime_s: a.started_at ? Math.max(0, (now - Date.parse(a.started_at)) / 1000) : 0, restarts: a.restarts,
            last_activation: a.last_activation,
          } : null,
        };
      });
      const ok = hosts.every((h) => h.ok);
      if (globals(cmd).json) {
        printJson({ command: 'status', ok, app, env: envName, hosts });
        return ok ? 0 : 1;
      }
      const versions = new Set(hosts.map((h) => h.app?.version).filter(Boolean));
      const mixed = versions.size > 1;
      process.stdout.write(`${table(['HOST', 'APP', 'VERSION', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'AGENT'], hosts.map((h) => {
        if (!h.ok) return [h.host, app, '-', color.bad(`! ${h.error?.message}`), '-', '-', '-', '-'];
        const a = h.app;
        const state = a?.state ?? 'stopped';
        return [
          h.host, app,
          a?.version ? (mixed ? color.warn(`${a.version} *`) : a.version) : '-',
          state === 'running' ? color.ok(state) : color.bad(`${state} !`),
          a?.pid ? String(a.pid) : '-',
          a?.pid ? formatDuration(a.uptime_s) : '-',
          String(a?.restarts ?? 0),
          h.agent?.version ?? '-',
        ];
      }))}\n`);
      if (mixed) process.stdout.write(color.warn(`* hosts run different versions: ${[...versions].join(', ')}\n`));
      return ok ? 0 : 1;
    }));

  program.command('versions <env>')
    .description('releases present on each host of ENV (stored tarballs and unpacked directories)')
    .option('--host <host>', 'only this host')
    .action(action(async (envName: string, opts: { host?: string }, cmd: Command) => {
      const loaded = load(cmd);
      const fleet = Fleet.forEnv(loaded, envName, environment(loaded, envName), opts.host);
      const app = loaded.config.app;
      const outcomes = await fleet.each((c) => c.listReleases(app)).finally(() => fleet.close());
      const hosts = outcomes.map((o) => (o.ok
        ? { host: o.host, ok: true, releases: o.value.map((r) => ({ ...r, size: Number(r.size) })) }
        : { host: o.host, ok: false, error: { message: o.error.message, unreachable: o.error.unreachable } }));
      const ok = hosts.every((h) => h.ok);
      if (globals(cmd).json) {
        printJson({ command: 'versions', ok, app, env: envName, hosts });
        return ok ? 0 : 1;
      }
      const rows: string[][] = [];
      for (const h of hosts) {
        if (!h.ok) { rows.push([h.host, '-', '-', color.bad(`! ${h.error?.message}`), '-']); continue; }
        const rels = [...(h.releases ?? [])].sort((a, b) => a.stored_at.localeCompare(b.stored_at));
        if (rels.length === 0) rows.push([h.host, '-', '-', 'no releases', '-']);
        for (const r of rels) {
          const marks = [r.current ? 'current' : '', r.rollback_target ? 'rollback target' : '', r.stored ? 'stored' : '', r.unpacked ? 'unpacked' : ''].filter(Boolean).join(', ');
          rows.push([h.host, r.version, r.sha256.slice(0, 12), r.current ? color.ok(marks) : marks, r.size ? formatBytes(r.size) : '-']);
        }
      }
      process.stdout.write(`${table(['HOST', 'VERSION', 'SHA256', 'WHERE', 'SIZE'], rows)}\n`);
      return ok ? 0 : 1;
    }));
}
