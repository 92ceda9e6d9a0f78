// slipway deploy ENV VERSION
import type { Command } from 'commander';
import { environment } from '../config.js';
import { Fleet } from '../fleet.js';
import { holdLocks } from '../locks.js';
import { localRelease } from '../release-file.js';
import { deploy, type HostDeploy } from '../deploy.js';
import { batchSize } from '../plans.js';
import { UsageError } from '../errors.js';
import { Progress, table, color, formatBytes } from '../output.js';
import { action, load, globals, printJson, operatorName } from './common.js';
import { deployHooks } from '../hooks.js';
import { runTaskOn } from './run.js';

const OUTCOME_TEXT: Record<HostDeploy['outcome'], string> = {
  switched: 'switched', failed: 'failed', reverted: 'put back', revert_failed: 'put back failed',
  not_reached: 'not reached', upload_failed: 'upload failed', uploaded: 'uploaded',
};

export function summaryTable(results: HostDeploy[]): string {
  return table(['HOST', 'UPLOAD', 'RESULT', 'NOW', 'PID', 'WHY'], results.map((r) => [
    r.host,
    r.upload === 'sent' ? formatBytes(r.uploaded_bytes) : r.upload === 'not_started' ? '-' : r.upload,
    r.ok ? color.ok(OUTCOME_TEXT[r.outcome]) : r.outcome === 'not_reached' || r.outcome === 'reverted' ? color.warn(OUTCOME_TEXT[r.outcome]) : color.bad(OUTCOME_TEXT[r.outcome]),
    r.state || '-',
    r.pid ? String(r.pid) : '-',
    r.error?.message ?? (r.outcome === 'reverted' ? `back on ${r.before?.version} after another host failed` : ''),
  ]));
}

export function register(program: Command): void {
  program.command('deploy <env> <version>')
    .description('upload a built release to every host of ENV (only where it is missing), then activate it batch by batch')
    .option('--strategy <hot|restart>', 'how to switch versions (default: the manifest\'s upgrade)')
    .option('--batch <n|n%>', 'hosts per batch (default: the environment\'s rollout.batch, else 1)')
    .option('--upload-only', 'upload, but do not activate')
    .option('--host <host>', 'only this host of the environment')
    .option('--timeout <seconds>', 'how long an activation may take per host', '300')
    .addHelpText('after', `
Every host receives the release first; then batches are activated one after
another, each done when all its hosts are ready, with rollout.pause_s between.
When a host fails the rollout stops and, with rollout.revert: all (the
default), every host it switched goes back to the version it had.
Ctrl-C stops after the current batch.

Exit codes: 0 every host runs VERSION, 1 some host failed, 2 bad usage or config.
Example: slipway deploy staging 1.1.0 --batch 25%`)
    .action(action(async (envName: string, versionArg: string, opts: { strategy?: string; batch?: string; uploadOnly?: boolean; host?: string; timeout: string }, cmd: Command) => {
      const json = globals(cmd).json === true;
      if (opts.strategy && !['hot', 'restart'].includes(opts.strategy)) throw new UsageError(`--strategy must be hot or restart, not "${opts.strategy}"`);
      const timeout = Number(opts.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`--timeout must be a number of seconds, not "${opts.timeout}"`);
      const loaded = load(cmd);
      const env = environment(loaded, envName);
      const batch = opts.batch ?? env.rollout?.batch ?? 1;
      try {
        batchSize(batch, env.hosts.length);
      } catch (err) {
        throw new UsageError(`--batch: ${(err as Error).message}`);
      }
      const rel = await localRelease(loaded, versionArg);
      if (!json) for (const n of rel.notes) process.stderr.write(`note: ${n}\n`);
      const fleet = Fleet.forEnv(loaded, envName, env, opts.host);
      // Hooks (issue 7): pre_deploy before any host is touched; none for --upload-only.
      const hooks = deployHooks(opts.uploadOnly ? undefined : loaded.config.hooks,
        { app: rel.app, env: envName, version: rel.version, sha256: rel.sha256, hosts: fleet.hosts, root: loaded.root });
      // Deploy locks (issue 6): held from before pre_deploy until after post_deploy.
      const locks = await holdLocks(fleet, rel.app, `deploying ${rel.version}`, { warn: (h, m) => process.stderr.write(`${h}: ${m}\n`) })
        .catch((err: unknown) => { fleet.close(); throw err; });
      await hooks.pre().catch(async (err: unknown) => { await locks.release(); fleet.close(); throw err; });
      const progress = new Progress(!json);
      if (!json) process.stderr.write(`deploying ${rel.app} ${rel.version} (${rel.sha256.slice(0, 12)}, ${formatBytes(rel.size)}) to ${envName}: ${fleet.hosts.length} host(s)\n`);
      let interrupted = false;
      const onInt = () => {
        if (interrupted) process.exit(130);
        interrupted = true;
        process.stderr.write('\nCtrl-C: stopping after the current batch (again to quit now)\n');
      };
      process.on('SIGINT', onInt);
      let results;
      try {
        results = await deploy(fleet, rel, {
          strategy: opts.strategy ?? '', requestedBy: operatorName(), uploadOnly: opts.uploadOnly === true,
          activateTimeoutMs: timeout * 1000, progress, batch, pauseS: env.rollout?.pause_s ?? 0, revert: env.rollout?.revert ?? 'all',
          interrupted: () => interrupted,
          beforeActivate: loaded.config.before_activate ? async (first) => {
            const task = loaded.config.before_activate as string;
            if (!json) process.stderr.write(`running before_activate task "${task}" of ${rel.version} on ${first.host}\n`);
            const r = await runTaskOn(first, { app: rel.app, task, version: rel.version, sha256: rel.sha256 }, json);
            if (r.exitCode !== 0) throw new Error(r.message);
          } : undefined,
        });
      } finally {
        process.off('SIGINT', onInt);
        progress.stop();
        if (!results) { await locks.release(); fleet.close(); }
      }
      const deployed = results.every((r) => r.ok) && !interrupted;
      const ok = await hooks.end(deployed, results.filter((r) => !r.ok).map((r) => r.host))
        .finally(async () => { await locks.release(); fleet.close(); }) && deployed;
      if (json) {
        printJson({ command: 'deploy', ok, app: rel.app, env: envName, version: rel.version, sha256: rel.sha256, interrupted, hosts: results, hooks: hooks.results });
      } else {
        process.stdout.write(`${summaryTable(results)}\n`);
        const failed = results.filter((r) => !r.ok).length;
        process.stdout.write(deployed ? `${rel.app} ${rel.version} ${opts.uploadOnly ? 'uploaded to' : 'runs on'} every host of ${envName}\n`
          : color.bad(`${failed} of ${results.length} host(s) do not run ${rel.version}${interrupted ? ' (interrupted)' : ''}\n`));
        if (deployed && !ok) process.stdout.write(color.bad('the post_deploy hook failed\n'));
      }
      return ok ? 0 : 1;
    }));
}
