// slipway rollback ENV [VERSION]: back to the previous (or the named) release
// on every host, checked for the whole fleet before any host is touched.
import type { Command } from 'commander';
import { environment } from '../config.js';
import { Fleet } from '../fleet.js';
import { activateOne, type HostDeploy } from '../deploy.js';
import { planRollback, type HostView } from '../plans.js';
import { parseVersionArg } from '../release-file.js';
import { Progress, color } from '../output.js';
import { summaryTable } from './deploy.js';
import { withLocks } from '../locks.js';
import { action, load, globals, printJson, operatorName } from './common.js';

export function register(program: Command): void {
  program.command('rollback <env> [version]')
    .description('undo the last activation on every host of ENV, or go to VERSION; as fast as a deploy, hot where the manifest allows')
    .option('--strategy <hot|restart>', 'how to switch versions (default: the manifest\'s upgrade)')
    .option('--timeout <seconds>', 'how long an activation may take per host', '300')
    .addHelpText('after', `
Without VERSION each host pops its activation stack: two rollbacks go back
two steps. Before any host is touched, every host must have the target; if
hosts would go back to different versions, name one.

Exit codes: 0 every host went back, 1 some host failed or nothing was done, 2 bad usage.
Example: slipway rollback staging   |   slipway rollback staging 1.0.0`)
    .action(action(async (envName: string, versionArg: string | undefined, opts: { strategy?: string; timeout: string }, cmd: Command) => {
      const json = globals(cmd).json === true;
      const loaded = load(cmd);
      const env = environment(loaded, envName);
      const version = versionArg === undefined ? undefined : parseVersionArg(versionArg).version;
      const app = loaded.config.app;
      const fleet = Fleet.forEnv(loaded, envName, env);
      const progress = new Progress(!json);
      try {
        const views = await fleet.each(async (conn): Promise<HostView> => {
          const [st, rels] = await Promise.all([conn.status(), conn.listReleases(app)]);
          const a = st.apps.find((x) => x.app === app);
          const stack = (a?.stack ?? []).map((s) => ({ version: s.version, sha256: s.sha256 }));
          return {
            host: conn.host,
            current: a?.desired_version ? { version: a.desired_version, sha256: a.desired_sha256 } : undefined,
            target: stack.length >= 2 ? stack[stack.length - 2] : undefined,
            present: rels.filter((r) => r.stored || r.unpacked).map((r) => ({ version: r.version, sha256: r.sha256 })),
            stack,
          };
        });
        const down = views.filter((v) => !v.ok);
        if (down.length > 0) {
          const why = down.map((d) => (d.ok ? '' : `${d.host}: ${d.error.message}`)).join('; ');
          throw new Error(`not every host answered, so nothing was changed: ${why}`);
        }
        const plan = planRollback(views.map((v) => (v.ok ? v.value : (undefined as never))), version);
        if (!plan.ok) throw new Error(plan.problem);
        const results: HostDeploy[] = await withLocks(fleet, app, `rolling back to ${plan.steps[0]?.version ?? 'the previous version'}`, () => Promise.all(plan.steps.map(async (step) => {
          const conn = fleet.connections.find((c) => c.host === step.host);
          const view = views.find((v) => v.host === step.host);
          const r: HostDeploy = {
            host: step.host, ok: false, outcome: 'failed', upload: 'not_started', uploaded_bytes: 0, upload_channel: null,
            before: view?.ok ? view.value.current ?? null : null, state: '', pid: 0, events: [], output: [],
          };
          progress.line(step.host, `${r.before?.version ?? 'nothing'} → ${step.version}`);
          const ok = await activateOne(conn!, {
            app, version: step.version, sha256: step.sha256, strategy: opts.strategy ?? '', reason: 'rollback', requested_by: operatorName(), undo: step.undo,
          }, r, progress, Number(opts.timeout) * 1000);
          r.ok = ok;
          r.outcome = ok ? 'switched' : 'failed';
          r.state = ok ? `running ${step.version}` : '';
          return r;
        })), { warn: (host, m) => progress.line(host, color.warn(m)) });
        progress.stop();
        const ok = results.every((r) => r.ok);
        const target = plan.steps[0]?.version;
        if (json) printJson({ command: 'rollback', ok, app, env: envName, version: target, hosts: results });
        else {
          process.stdout.write(`${summaryTable(results)}\n`);
          process.stdout.write(ok ? `${app} is back on ${target} on every host of ${envName}\n` : color.bad('some hosts failed to go back\n'));
        }
        return ok ? 0 : 1;
      } finally {
        progress.stop();
        fleet.close();
      }
    }));
}
