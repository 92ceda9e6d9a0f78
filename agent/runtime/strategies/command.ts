// `upgrade: [cmd, …]`: for platforms with their own hot code upgrade (Erlang
// relups). The command runs inside the running release's directory, with
// {version} replaced by the new version; exit 0 means the running process now
// runs the new code, so the same process carries on. Nothing running yet:
// a plain start. A cancel kills the command; the running process carries on.
import { ActivationFailed, cancelledMessage, type ActivationStrategy, type SwapContext, type SwapResult } from './strategy.js';
import { restartStrategy } from './restart.js';

export const commandStrategy: ActivationStrategy = {
  name: 'command',
  async activate(ctx: SwapContext): Promise<SwapResult> {
    const from = ctx.from;
    const upgrade = ctx.to.manifest.run.upgrade;
    if (!from || !from.proc.running() || !Array.isArray(upgrade)) return restartStrategy.activate(ctx);
    if (ctx.signal.aborted) throw new ActivationFailed(cancelledMessage(ctx.signal), [], from.proc);
    const argv = upgrade.map((a) => a.replaceAll('{version}', ctx.to.version));
    ctx.emit('starting', { message: `running ${argv.join(' ')} in ${from.release.version} (pid ${from.proc.pid})`, pid: from.proc.pid });
    const res = await ctx.runCommand(argv, from.release, from.proc.pid, ctx.signal);
    if (res.code !== 0) {
      const what = ctx.signal.aborted ? `${cancelledMessage(ctx.signal)}: the upgrade command ${argv.join(' ')} was killed`
        : `upgrade command ${argv.join(' ')} ${res.code === null ? 'timed out' : `exited with code ${res.code}`}`;
      throw new ActivationFailed(`${what}; ${from.release.version} keeps running`, res.output.slice(-20), from.proc);
    }
    ctx.emit('ready', { message: `${ctx.to.version} is running in pid ${from.proc.pid} after the upgrade command`, pid: from.proc.pid });
    return { proc: from.proc };
  },
};
