// slipway agent upgrade ENV [--to FILE|VERSION] and slipway agent rollback ENV:
// the agents themselves, upgraded through the release pipeline in batches,
// their apps untouched (coordinator/agent-upgrade/, agent/upgrade/).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { environment } from '../config.js';
import { Fleet } from '../fleet.js';
import { withCleanup } from '../cleanup.js';
import { color, formatBytes, table } from '../output.js';
import { action, load, globals, printJson, operatorName } from './common.js';
import { rolloutSettings, stopAfterBatchOnCtrlC } from './rollout-options.js';
import { agentReleasesDir, makeAgentRelease, releaseKeptOnHosts, resolveBuildSource, type AgentRelease } from '../agent-upgrade/build.js';
import { SlipwayError } from '../../common/errors.js';
import { runAgentRollout, type AgentHostResult, type AgentRolloutEvent } from '../agent-upgrade/rollout.js';
import { AGENT_APP, AGENT_CONFIRM_DEADLINE_S, AGENT_START_ATTEMPTS } from '../../common/agent-build.js';
import { SLIPWAY_VERSION } from '../../common/package-info.js';

const HOW = `
Each host (batch by batch: --batch, else the environment's rollout.batch)
receives the build as a signed release of the reserved app slipway-agent
(the same upload, dedupe, disk check and trusted_keys check as an app's
release), unpacks it beside its other builds, switches its current build,
and restarts into it. The supervising process and the apps keep running,
with the same pids: the new agent re-attaches to them. It must confirm it is
healthy (re-attached, its health endpoint answering) within
${AGENT_CONFIRM_DEADLINE_S} s of the switch; a build that crashes ${AGENT_START_ATTEMPTS} times at start,
fails --check, or does not confirm in time is switched back by the host's
launcher on its own, and the rollout stops after that batch and names the
host. Ctrl-C stops after the current batch.

Needs agents started through the launcher of this slipway version's unit
(slipway setup, or systemd/install.sh). docs/operating.md, "Agent upgrades".
Exit codes: 0 every host runs the build, 1 some host did not (switched back,
failed, unknown, not reached), 2 bad usage or config.`;

export function register(program: Command): void {
  const agent = program.command('agent')
    .description('upgrade or roll back the slipway agents themselves (apps keep running, same pids)');

  agent.command('upgrade <env>')
    .description('upgrade every agent of ENV to this CLI\'s agent build (or --to), in batches; a build that does not come up healthy is undone by the host itself')
    .option('--to <file|version>', 'the agent build: its bundle (dist/bin/slipway-agent.mjs) and/or single executable (--to twice: one release with both, each host keeps what it runs), or a version: this CLI\'s, one packed here before (.slipway/agent-builds/) or one the hosts keep (default: this CLI\'s bundle, and its single executable when npm run build:sea made one)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--batch <n|n%>', 'hosts per batch (default: the environment\'s rollout.batch, else 1)')
    .option('--host <host>', 'only this host of the environment')
    .option('--timeout <seconds>', 'how long the switch may take per host (the wait for its confirmation comes on top)', '300')
    .addHelpText('after', `${HOW}

Examples:
  slipway agent upgrade staging
  slipway agent upgrade production --batch 10% --to ./slipway-agent
  slipway agent upgrade production --to dist/bin/slipway-agent.mjs --to dist/sea/slipway-agent
  slipway agent upgrade production --to 1.4.2     # a build packed here before, or kept on the hosts`)
    .action(action(async (envName: string, opts: { to?: string[]; batch?: string; host?: string; timeout: string }, cmd: Command) => {
      const json = globals(cmd).json === true;
      const loaded = load(cmd);
      const env = environment(loaded, envName);
      const settings = rolloutSettings(env, opts);
      const signingKey = loaded.config.signing_key ? resolve(loaded.root, loaded.config.signing_key) : undefined;
      const source = resolveBuildSource(opts.to, agentReleasesDir(loaded.root), signingKey);
      const rel = source.kind === 'files' ? await makeAgentRelease(source.files, agentReleasesDir(loaded.root), signingKey)
        : source.kind === 'packed' ? source.release
          : await keptOnHosts(loaded, envName, env, opts.host, source.version);
      if (!json) process.stderr.write(`upgrading the agents of ${envName} to ${rel.version} (${rel.kind ? `${rel.kind} ` : ''}${rel.source}, ${rel.sha256.slice(0, 12)}${rel.file ? `, ${formatBytes(rel.size)}` : ''}${rel.signature || !rel.file ? '' : ', unsigned'})\n`);
      return run(loaded, envName, env, opts, settings, rel, json);
    }));

  agent.command('rollback <env>')
    .description('put every agent of ENV back on its previous build (the one before its last upgrade), in batches')
    .option('--batch <n|n%>', 'hosts per batch (default: the environment\'s rollout.batch, else 1)')
    .option('--host <host>', 'only this host of the environment')
    .option('--timeout <seconds>', 'how long the switch may take per host', '300')
    .addHelpText('after', `
Each host switches its current build back to its previous one and restarts
into it, confirmed and undone like an upgrade. A host that was never
upgraded has no previous build and fails with SLIPWAY_ERR_AGENT_UPGRADE.
docs/operating.md, "Agent upgrades".
Exit codes: 0 every host runs its previous build, 1 some host did not
(switched back, failed, unknown, not reached), 2 bad usage or config.

Example: slipway agent rollback production`)
    .action(action(async (envName: string, opts: { batch?: string; host?: string; timeout: string }, cmd: Command) => {
      const json = globals(cmd).json === true;
      const loaded = load(cmd);
      const env = environment(loaded, envName);
      const settings = rolloutSettings(env, opts);
      if (!json) process.stderr.write(`rolling the agents of ${envName} back to their previous builds\n`);
      return run(loaded, envName, env, opts, settings, undefined, json);
    }));
}

/** --to VERSION that only the hosts may have: each one's releases of the reserved app; every host must keep it (else exit 2, nothing changed). */
async function keptOnHosts(loaded: ReturnType<typeof load>, envName: string, env: ReturnType<typeof environment>, host: string | undefined, version: string): Promise<AgentRelease> {
  return withCleanup(async (defer) => {
    const fleet = Fleet.forEnv(loaded, envName, env, host);
    defer(() => fleet.close());
    const held = new Map<string, { version: string; sha256: string; size: number | string }[]>();
    const unreachable: string[] = [];
    await Promise.all(fleet.connections.map(async (c) => {
      try {
        held.set(c.host, (await c.listReleases(AGENT_APP)).filter((r) => r.stored || r.unpacked));
      } catch (err) {
        unreachable.push(`${c.host} (${(await c.explain(err)).message})`);
      }
    }));
    const notFound = (why: string) => new SlipwayError('SLIPWAY_ERR_AGENT_BUILD_NOT_FOUND', `--to ${version}: ${why}; nothing was changed. This CLI is slipway ${SLIPWAY_VERSION}, and .slipway/agent-builds/ has no build of ${version}: give the build's file (--to path/to/slipway-agent.mjs, or the single executable)`);
    if (unreachable.length > 0) throw notFound(`could not ask ${unreachable.join(', ')} whether it keeps an agent build of ${version}`);
    const r = releaseKeptOnHosts(version, held);
    if ('missing' in r) throw notFound(r.conflict ?? `${r.missing.length === held.size ? 'no host of ' + envName : r.missing.join(', ')} keeps an agent build of ${version}`);
    return r;
  });
}

async function run(loaded: ReturnType<typeof load>, envName: string, env: ReturnType<typeof environment>, opts: { host?: string },
  settings: ReturnType<typeof rolloutSettings>, rel: AgentRelease | undefined, json: boolean): Promise<number> {
  return withCleanup(async (defer) => {
    const fleet = Fleet.forEnv(loaded, envName, env, opts.host);
    defer(() => fleet.close());
    const ctrlC = stopAfterBatchOnCtrlC();
    defer(ctrlC.dispose);
    const say = (line: string) => { if (!json) process.stderr.write(`${line}\n`); };
    const report = await runAgentRollout(fleet.connections, fleet.concurrency, {
      release: rel, batch: settings.batch, pauseS: settings.pauseS, requestedBy: operatorName(), timeoutMs: settings.timeoutMs,
      interrupted: ctrlC.interrupted, emit: (e) => say(describe(e)),
    });
    ctrlC.dispose();
    const ok = report.hosts.every((h) => h.ok) && !report.interrupted;
    const command = rel ? 'agent upgrade' : 'agent rollback';
    if (json) {
      printJson({ command, ok, env: envName, ...(rel ? { version: rel.version, sha256: rel.sha256, kind: rel.kind } : {}), interrupted: report.interrupted, batches: report.batches, hosts: report.hosts });
    } else {
      process.stdout.write(`${table(['HOST', 'BEFORE', 'AFTER', 'RESULT', 'TIME'], report.hosts.map((h) => [
        h.host, h.from || '-', h.to || '-', h.ok ? color.ok(h.outcome) : color.bad(`${h.outcome.toUpperCase()} !`), h.seconds ? `${h.seconds}s` : '-',
      ]))}\n`);
      for (const h of report.hosts.filter((x) => !x.ok && x.outcome !== 'not_reached')) process.stdout.write(color.bad(`${h.host}: ${h.message}\n`));
      const bad = report.hosts.filter((h) => !h.ok).length;
      process.stdout.write(ok ? `every agent of ${envName} runs ${rel ? rel.version : 'its previous build'}\n`
        : color.bad(`${bad} of ${report.hosts.length} host(s) did not ${rel ? `move to ${rel.version}` : 'roll back'}${report.interrupted ? ' (interrupted)' : ''}\n`));
    }
    return ok ? 0 : 1;
  });
}

function describe(e: AgentRolloutEvent): string {
  switch (e.type) {
    case 'batch': return `batch ${e.index + 1}/${e.count}: ${e.hosts.join(', ')}`;
    case 'interrupted': return 'interrupted: stopped after the batch';
    case 'step': return `  ${e.host}: ${e.step === 'waiting' ? `switched; waiting for the new agent to confirm (up to ${AGENT_CONFIRM_DEADLINE_S} s)` : e.step.replace('_', ' ')}`;
    case 'result': return `  ${e.result.host}: ${resultLine(e.result)}`;
  }
}

function resultLine(r: AgentHostResult): string {
  switch (r.outcome) {
    case 'upgraded': return `${r.from} → ${r.to}, confirmed (${r.seconds}s)`;
    case 'unchanged': return `runs ${r.from} already`;
    case 'rolled_back': return `SWITCHED BACK by itself to ${r.to}: ${r.message}`;
    default: return `${r.outcome.toUpperCase()}: ${r.message}`;
  }
}
