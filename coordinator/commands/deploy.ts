// slipway deploy ENV VERSION
import type { Command } from 'commander';
import { environment } from '../config.js';
import { Fleet } from '../fleet.js';
import { holdLocks } from '../locks.js';
import { localRelease } from '../release-file.js';
import { deploy } from '../rollout/deploy.js';
import { rendererFor, summaryTable, switchCounts } from '../rollout/render.js';
import { withCleanup, once } from '../cleanup.js';
import { UsageError } from '../errors.js';
import { color, formatBytes } from '../output.js';
import { action, load, globals, printJson, operatorName } from './common.js';
import { rolloutSettings, stopAfterBatchOnCtrlC, unknownLines, UNKNOWN_GRACE_OPTION } from './rollout-options.js';
import { recordOutcomes } from '../unknown-outcomes.js';
import { deployHooks, HookFailed } from '../hooks.js';
import { runTaskOn } from './run.js';
import { storeFor, agentUrl, publishIfMissing, storeVars } from '../artifact-store/index.js';
import { redactUrl } from '../../common/store-http.js';

export function register(program: Command): void {
  program.command('deploy <env> <version>')
    .description('upload a built release to every host of ENV (only where it is missing), then activate it batch by batch')
    .option('--strategy <hot|restart>', 'how to switch versions (default: the manifest\'s upgrade)')
    .option('--batch <n|n%>', 'hosts per batch (default: the environment\'s rollout.batch, else 1)')
    .option('--upload-only', 'upload, but do not activate')
    .option('--host <host>', 'only this host of the environment')
    .option('--timeout <seconds>', 'how long an activation may take per host', '300')
    .option(...UNKNOWN_GRACE_OPTION)
    .addHelpText('after', `
Every host receives the release first (with a store in slipway.yaml, the
release is published there once and every host fetches it); then batches are activated one after
another, each done when all its hosts are ready, with rollout.pause_s between.
When a host fails the rollout stops and, with rollout.revert: all (the
default), every host it switched goes back to the version it had.
Ctrl-C stops after the current batch; pressed during the last batch or
after it, it stops nothing and the deploy ends as it would have.
A host that already runs VERSION is "unchanged" (counted apart from "switched").

A host whose activation was not seen to end (cut off mid-way) is "unknown",
never failed or done: the rollout stops, and the revert asks it what it runs
(up to --unknown-grace seconds) and puts it back too if it switched. One that
does not answer in time is named at the end; slipway status marks it.

Exit codes: 0 every host runs VERSION, 1 some host failed or is unknown, 2 bad usage or config.
Example: slipway deploy staging 1.1.0 --batch 25%`)
    .action(action(async (envName: string, versionArg: string, opts: { strategy?: string; batch?: string; uploadOnly?: boolean; host?: string; timeout: string; unknownGrace?: string }, cmd: Command) => {
      const json = globals(cmd).json === true;
      if (opts.strategy && !['hot', 'restart'].includes(opts.strategy)) throw new UsageError(`--strategy must be hot or restart, not "${opts.strategy}"`);
      const loaded = load(cmd);
      const env = environment(loaded, envName);
      const settings = rolloutSettings(env, opts);
      const rel = await localRelease(loaded, versionArg);
      if (!json) for (const n of rel.notes) process.stderr.write(`note: ${n}\n`);
      return withCleanup(async (defer) => {
        const fleet = Fleet.forEnv(loaded, envName, env, opts.host);
        defer(() => fleet.close());
        // pre_deploy runs before any host is touched; no hooks for --upload-only.
        const hooks = deployHooks(opts.uploadOnly ? undefined : loaded.config.hooks,
          { app: rel.app, env: envName, version: rel.version, sha256: rel.sha256, hosts: fleet.hosts, root: loaded.root });
        // The deploy lock is held from before pre_deploy until after post_deploy.
        const locks = await holdLocks(fleet, rel.app, `deploying ${rel.version}`, { warn: (h, m) => process.stderr.write(`${h}: ${m}\n`) });
        defer(() => locks.release());
        await hooks.pre();
        const view = rendererFor(json, { name: 'deploy' });
        const stopView = once(() => view.stop());
        defer(stopView);
        if (!json) process.stderr.write(`deploying ${rel.app} ${rel.version} (${rel.sha256.slice(0, 12)}, ${formatBytes(rel.size)}) to ${envName}: ${fleet.hosts.length} host(s)\n`);
        // With an artifact store: publish once (unless it is there), then each agent fetches; the coordinator sends only the URL.
        const store = storeFor(loaded, env);
        let storeUrl: string | undefined;
        let storeJson: { url: string; published: boolean; how?: string; seconds?: number } | undefined;
        if (store) {
          const vars = storeVars(rel, envName);
          storeUrl = await agentUrl(store, vars, loaded.root);
          const say = (l: string) => { if (!json) process.stderr.write(`${l}\n`); };
          const pub = await publishIfMissing(store, rel, vars, storeUrl, loaded.root, say);
          storeJson = { url: redactUrl(storeUrl), published: pub !== undefined, ...(pub ? { how: pub.how, seconds: Math.round(pub.seconds * 1000) / 1000 } : {}) };
          say(pub ? `published to the artifact store in ${pub.seconds.toFixed(1)} s (${pub.how}); the hosts fetch ${storeJson.url}` : `the artifact store has it; the hosts fetch ${storeJson.url}`);
        }
        const ctrlC = stopAfterBatchOnCtrlC();
        defer(ctrlC.dispose);
        const result = await deploy(fleet, rel, {
          strategy: opts.strategy ?? '', requestedBy: operatorName(), uploadOnly: opts.uploadOnly === true, storeUrl,
          activateTimeoutMs: settings.timeoutMs, batch: settings.batch, pauseS: settings.pauseS, revert: settings.revert,
          unknownGraceMs: settings.unknownGraceMs, emit: (e) => view.event(e), interrupted: ctrlC.interrupted,
          beforeActivate: loaded.config.before_activate ? async (first) => {
            const task = loaded.config.before_activate as string;
            if (!json) process.stderr.write(`running before_activate task "${task}" of ${rel.version} on ${first.host}\n`);
            const r = await runTaskOn(first, { app: rel.app, task, version: rel.version, sha256: rel.sha256 }, json);
            if (r.exitCode !== 0) throw new HookFailed(r.message);
          } : undefined,
        });
        stopView();
        const { hosts } = result;
        // Ctrl-C once every host had switched (the last batch, the settling, a hook) stopped nothing: the deploy is done.
        const deployed = hosts.every((r) => r.ok);
        const ok = await hooks.end(deployed, hosts.filter((r) => !r.ok).map((r) => r.host)) && deployed;
        ctrlC.dispose();
        const interrupted = ctrlC.interrupted();
        if (!opts.uploadOnly) await recordOutcomes(loaded.root, envName, 'deploy', hosts, rel.version, new Date());
        const unknown = hosts.filter((r) => r.outcome === 'unknown').map((r) => r.host);
        if (json) {
          printJson({ command: 'deploy', ok, app: rel.app, env: envName, version: rel.version, sha256: rel.sha256, interrupted, batches: result.batches, unknown, hosts, hooks: hooks.results, ...(storeJson ? { store: storeJson } : {}) });
        } else {
          process.stdout.write(`${summaryTable(hosts)}\n`);
          const failed = hosts.filter((r) => !r.ok).length;
          const counts = opts.uploadOnly ? '' : switchCounts(hosts);
          process.stdout.write(deployed ? `${rel.app} ${rel.version} ${opts.uploadOnly ? 'uploaded to' : 'runs on'} every host of ${envName}${counts ? ` (${counts})` : ''}\n`
            : color.bad(`${failed} of ${hosts.length} host(s) do not run ${rel.version}${interrupted ? ' (interrupted)' : ''}\n`));
          if (deployed && interrupted) process.stdout.write(`Ctrl-C came after every host had ${opts.uploadOnly ? 'the release' : 'switched'}: the deploy completed\n`);
          if (deployed && !ok) process.stdout.write(color.bad('the post_deploy hook failed\n'));
          process.stdout.write(color.bad(unknownLines(hosts, rel.version, envName)));
        }
        return ok ? 0 : 1;
      });
    }));
}
