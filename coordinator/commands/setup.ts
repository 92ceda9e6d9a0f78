// slipway setup ENV [--dry-run] [--uninstall [--purge]] [--host HOST]:
// every host of ENV from bare to a running, verified agent over ssh
// (coordinator/setup/). docs/setup.md.
import type { Command } from 'commander';
import { environment } from '../config.js';
import { color } from '../output.js';
import { UsageError } from '../errors.js';
import { setupInputs } from '../setup/desired.js';
import { setupAll, uninstallAll, type HostResult, type SetupContext } from '../setup/run.js';
import { selectHosts } from '../fleet.js';
import { action, load, globals, printJson } from './common.js';

function report(results: HostResult[], opts: { dryRun: boolean; uninstall: boolean }): string {
  const lines: string[] = [];
  for (const r of results) {
    if (!r.ok) {
      lines.push(`${color.bad('✗')} ${r.host}: ${r.error?.message ?? 'failed'}`);
      lines.push(color.dim(`    ${r.error?.code}`));
    } else if (!r.changed) {
      lines.push(`${color.ok('✓')} ${r.host}: up to date, nothing to change${r.serving ? '; the agent answers SERVING' : ''}`);
      continue;
    } else {
      const verb = opts.dryRun ? 'would' : opts.uninstall ? 'uninstalled' : 'set up';
      lines.push(`${color.ok(opts.dryRun ? '•' : '✓')} ${r.host}: ${verb}${r.serving ? '; the agent answers SERVING' : ''}`);
    }
    for (const s of r.steps) lines.push(`    ${opts.dryRun ? '- ' : ''}${s}`);
    for (const o of r.output) if (/^(warning|started the agent without systemd)/.test(o)) lines.push(color.dim(`    ${o}`));
  }
  const failed = results.filter((r) => !r.ok).length;
  const changed = results.filter((r) => r.ok && r.changed).length;
  const n = results.length;
  if (opts.dryRun) lines.push(`dry run: ${changed} of ${n} host${n === 1 ? '' : 's'} would change${failed ? `, ${failed} could not be probed` : ''}; nothing was changed`);
  else if (failed) lines.push(color.bad(`${failed} of ${n} host${n === 1 ? '' : 's'} failed`) + (changed ? `; ${changed} changed` : ''));
  else if (changed === 0) lines.push(`nothing to change on ${n} host${n === 1 ? '' : 's'}${opts.uninstall ? '' : ': every agent is installed and answers'}`);
  else lines.push(`${changed} of ${n} host${n === 1 ? '' : 's'} ${opts.uninstall ? 'uninstalled' : 'set up'}, ${n - changed} unchanged`);
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  program.command('setup <env>')
    .description('install, configure and start the agent on every host of ENV over ssh, then check it answers (idempotent)')
    .option('--dry-run', 'probe the hosts and print what would change; change nothing')
    .option('--uninstall', 'stop the agent and remove what setup installed (the state dir and user stay)')
    .option('--purge', 'with --uninstall: also remove the state dir (releases, logs) and the user slipway')
    .option('--host <host>', 'only this host')
    .addHelpText('after', `
Over the system's ssh (BatchMode: keys or an ssh agent), honouring ~/.ssh/config,
or the file of ssh.config in slipway.yaml or SLIPWAY_SSH_CONFIG (ssh -F). As root,
or a user that may sudo without a password. Per host: the agent executable
(/usr/local/bin/slipway-agent, from npm run build:sea or setup.agent_bin), the
systemd unit, /etc/slipway/agent.yaml (listen on the environment's port), the CA,
the host's certificate (issued from the CA into CERTS/agents/ on first need) and
the release public key; the unit enabled and started; then a health check over mTLS.
A second run changes nothing and says so. Details: docs/setup.md.
Exit codes: 0 every host set up (or unchanged), 1 some host failed, 2 usage or config.`)
    .action(action(async (envName: string, opts: { dryRun?: boolean; uninstall?: boolean; purge?: boolean; host?: string }, cmd: Command) => {
      if (opts.purge && !opts.uninstall) throw new UsageError('--purge goes with --uninstall');
      const loaded = load(cmd);
      const env = environment(loaded, envName);
      const hosts = selectHosts(envName, env, opts.host);
      const json = globals(cmd).json === true;
      const tty = !json && process.stderr.isTTY;
      const ctx: SetupContext = {
        loaded, envName, env, dryRun: opts.dryRun === true,
        progress: (host, what) => { if (tty) process.stderr.write(color.dim(`${host}: ${what}\n`)); },
      };
      let results: HostResult[];
      if (opts.uninstall) {
        results = await uninstallAll(ctx, hosts, opts.purge === true);
      } else {
        ctx.inputs = await setupInputs(loaded, env);
        results = await setupAll(ctx, hosts);
      }
      const ok = results.every((r) => r.ok);
      if (json) {
        printJson({
          command: 'setup', ok, env: envName, dry_run: ctx.dryRun, uninstall: opts.uninstall === true, purge: opts.purge === true,
          changed: results.some((r) => r.ok && r.changed),
          hosts: results.map((r) => ({ host: r.host, ok: r.ok, changed: r.changed, steps: r.steps, output: r.output, ...(r.serving !== undefined ? { serving: r.serving } : {}), ...(r.error ? { error: r.error } : {}) })),
        });
      } else {
        process.stdout.write(report(results, { dryRun: ctx.dryRun, uninstall: opts.uninstall === true }));
      }
      return ok ? 0 : 1;
    }));
}
