// slipway rollback ENV [VERSION]: back to the previous (or the named) release
// on every host, checked for the whole fleet before any host is touched, then
// moved batch by batch like a deploy, with its revert.
import type { Command } from 'commander';
import { environment } from '../config.js';
import { Fleet } from '../fleet.js';
import { planRollback } from '../plans.js';
import { parseVersionArg } from '../release-file.js';
import { color } from '../output.js';
import { holdLocks } from '../locks.js';
import { inspectHosts, rollback } from '../rollout/rollback.js';
import { rendererFor, summaryTable } from '../rollout/render.js';
import { withCleanup, once } from '../cleanup.js';
import { UsageError } from '../errors.js';
import { action, load, globals, printJson, operatorName } from './common.js';
import { rolloutSettings, stopAfterBatchOnCtrlC, unknownLines, UNKNOWN_GRACE_OPTION } from './rollout-options.js';
import { recordOutcomes } from '../unknown-outcomes.js';
import { SlipwayError } from '../../common/errors.js';

export function register(program: Command): void {
  program.command('rollback <env> [version]')
    .description('undo the last activation on every host of ENV, or go to VERSION; as fast as a deploy, hot where the manifest allows')
    .option('--strategy <hot|restart>', 'how to switch versions (default: the manifest\'s upgrade)')
    .option('--batch <n|n%>', 'hosts per batch (default: the environment\'s rollout.batch, else 1)')
    .option('--timeout <seconds>', 'how long an activation may take per host', '300')
    .option(...UNKNOWN_GRACE_OPTION)
    .addHelpText('after', `
Without VERSION each host pops its activation stack: two rollbacks go back
two steps. Before any host is touched, every host must have the target; if
hosts would go back to different versions, name one.

Hosts go back batch by batch, like a deploy (rollout.batch, pause_s). When
a host fails the rollback stops and, with rollout.revert: all (the default),
every host it moved goes forward again to what it ran. Ctrl-C stops after
the current batch (during the last batch or after it, it stops nothing and
the rollback ends as it would have). A host whose step was not seen to end is "unknown", as
with deploy (--unknown-grace).

Exit codes: 0 every host went back, 1 some host failed, is unknown or nothing was done, 2 bad usage.
Example: slipway rollback staging   |   slipway rollback staging 1.0.0 --batch 25%`)
    .action(action(async (envName: string, versionArg: string | undefined, opts: { strategy?: string; batch?: string; timeout: string; unknownGrace?: string }, cmd: Command) => {
      const json = globals(cmd).json === true;
      if (opts.strategy && !['hot', 'restart'].includes(opts.strategy)) throw new UsageError(`--strategy must be hot or restart, not "${opts.strategy}"`);
      const loaded = load(cmd);
      const env = environment(loaded, envName);
      const settings = rolloutSettings(env, opts);
      const version = versionArg === undefined ? undefined : parseVersionArg(versionArg).version;
      const app = loaded.config.app;
      return withCleanup(async (defer) => {
        const fleet = Fleet.forEnv(loaded, envName, env);
        defer(() => fleet.close());
        const views = await inspectHosts(fleet, app);
        const plan = planRollback(views, version);
        if (!plan.ok) throw new SlipwayError('SLIPWAY_ERR_PLAN', plan.problem);
        const target = plan.steps[0]?.version;
        const view = rendererFor(json, { name: 'rollback', showMoves: true });
        const stopView = once(() => view.stop());
        defer(stopView);
        const locks = await holdLocks(fleet, app, `rolling back to ${target ?? 'the previous version'}`, { warn: (host, m) => view.note(host, color.warn(m)) });
        defer(() => locks.release());
        const ctrlC = stopAfterBatchOnCtrlC();
        defer(ctrlC.dispose);
        const result = await rollback(fleet, app, views, plan.steps, {
          strategy: opts.strategy ?? '', requestedBy: operatorName(), activateTimeoutMs: settings.timeoutMs,
          batch: settings.batch, pauseS: settings.pauseS, revert: settings.revert, unknownGraceMs: settings.unknownGraceMs,
          emit: (e) => view.event(e), interrupted: ctrlC.interrupted,
        });
        ctrlC.dispose();
        stopView();
        const interrupted = ctrlC.interrupted();
        // Ctrl-C once every host had gone back stopped nothing: the rollback is done.
        const ok = result.hosts.every((r) => r.ok);
        await recordOutcomes(loaded.root, envName, 'rollback', result.hosts, target ?? '', new Date());
        const unknown = result.hosts.filter((r) => r.outcome === 'unknown').map((r) => r.host);
        if (json) printJson({ command: 'rollback', ok, app, env: envName, version: target, interrupted, batches: result.batches, unknown, hosts: result.hosts });
        else {
          process.stdout.write(`${summaryTable(result.hosts)}\n`);
          process.stdout.write(ok ? `${app} is back on ${target} on every host of ${envName}\n`
            : color.bad(`some hosts failed to go back${interrupted ? ' (interrupted)' : ''}\n`));
          if (ok && interrupted) process.stdout.write('Ctrl-C came after every host had gone back: the rollback completed\n');
          process.stdout.write(color.bad(unknownLines(result.hosts, target ?? '', envName)));
        }
        return ok ? 0 : 1;
      });
    }));
}
