// `upgrade: [cmd, …]`: for platforms with their own hot code upgrade (Erlang
// relups). The command runs inside the running release's directory, with
// {version} replaced by the new version (on a rollback: the older version,
// so the same command performs the relup's downgrade); exit 0 means the
// running process now runs the new code, so the same process carries on and
// the records move it to the new release (inPlace). When the new release's
// manifest has run.version_probe, that command must then print the new
// version (its last line of output) before anything is recorded: an upgrade
// that claims success but left the node elsewhere is a failure. Nothing
// running yet: a plain start (recorded as restart). A cancel kills the
// command; the running process carries on.
import { ActivationFailed, cancelledMessage, type ActivationStrategy, type SwapContext, type SwapResult } from './strategy.js';
import { restartStrategy } from './restart.js';

export const commandStrategy: ActivationStrategy = {
  name: 'command',
  async activate(ctx: SwapContext): Promise<SwapResult> {
    const from = ctx.from;
    const upgrade = ctx.to.manifest.run.upgrade;
    if (!from || !from.proc.running() || !Array.isArray(upgrade)) return { ...(await restartStrategy.activate(ctx)), strategy: restartStrategy.name };
    if (ctx.signal.aborted) throw new ActivationFailed(cancelledMessage(ctx.signal), [], from.proc);
    const argv = upgrade.map((a) => a.replaceAll('{version}', ctx.to.version));
    ctx.emit('starting', { message: `running ${argv.join(' ')} in ${from.release.version} (pid ${from.proc.pid})`, pid: from.proc.pid });
    const res = await ctx.runCommand(argv, from.release, from.proc.pid, ctx.signal);
    if (res.code !== 0) {
      const what = ctx.signal.aborted ? `${cancelledMessage(ctx.signal)}: the upgrade command ${argv.join(' ')} was killed`
        : `upgrade command ${argv.join(' ')} ${res.code === null ? 'timed out' : `exited with code ${res.code}`}`;
      throw new ActivationFailed(`${what}; ${from.release.version} keeps running`, res.output.slice(-20), from.proc);
    }
    await checkVersion(ctx, from);
    ctx.emit('ready', { message: `${ctx.to.version} is running in pid ${from.proc.pid} after the upgrade command`, pid: from.proc.pid });
    return { proc: from.proc, inPlace: true };
  },
};

/** The app's own word on what it runs now (run.version_probe): its last line of output must be the new version. */
async function checkVersion(ctx: SwapContext, from: NonNullable<SwapContext['from']>): Promise<void> {
  const probe = ctx.to.manifest.run.version_probe;
  if (!probe) return;
  if (!from.proc.running()) {
    throw new ActivationFailed(`the upgrade command exited 0 but pid ${from.proc.pid} is gone; nothing is recorded`, await from.proc.lastOutput(20), undefined);
  }
  const res = await ctx.runCommand(probe, ctx.to, from.proc.pid, ctx.signal);
  const said = res.output.map((l) => l.trim()).filter(Boolean).at(-1) ?? '';
  if (res.code === 0 && said === ctx.to.version) return;
  const how = res.code !== 0 ? `run.version_probe ${probe.join(' ')} ${res.code === null ? 'timed out' : `exited with code ${res.code}`}`
    : `the app reports version "${said.slice(0, 80)}", not ${ctx.to.version} (run.version_probe)`;
  throw new ActivationFailed(`the upgrade command exited 0, but ${how}; the records keep ${from.release.version} in pid ${from.proc.pid}`, res.output.slice(-20), from.proc);
}
