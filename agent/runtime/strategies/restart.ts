// `upgrade: restart`: stop the old version, then start the new one. For apps
// that cannot share a socket. If the new one fails, or the activation is
// cancelled, the old one is started again, so the host ends on the version
// it had. A cancel is honoured between the steps: before the old one is
// signalled (it never notices), once it has stopped (the new one is not
// started), and while the new one becomes ready; the old one's drain itself
// is waited out (stop.drain_timeout_s bounds it).
import { NotReadyError } from '../readiness.js';
import { ActivationFailed, cancelledMessage, type ActivationStrategy, type SwapContext, type SwapResult } from './strategy.js';

export const restartStrategy: ActivationStrategy = {
  name: 'restart',
  async activate(ctx: SwapContext): Promise<SwapResult> {
    const from = ctx.from;
    if (ctx.signal.aborted) throw new ActivationFailed(cancelledMessage(ctx.signal), [], from?.proc);
    if (from && from.proc.running()) {
      ctx.emit('draining', { message: `stopping ${from.release.version} (pid ${from.proc.pid})`, pid: from.proc.pid });
      await ctx.stop(from.proc, from.release);
    }
    if (ctx.signal.aborted) throw await failedAndRestored(ctx, cancelledMessage(ctx.signal), []);
    let proc;
    try {
      proc = await ctx.start(ctx.to);
    } catch (err) {
      throw await failedAndRestored(ctx, `could not start ${ctx.to.version}: ${(err as Error).message}`, []);
    }
    ctx.emit('starting', { message: `started ${ctx.to.version} (pid ${proc.pid})`, pid: proc.pid });
    try {
      await ctx.waitReady(proc, ctx.to, ctx.signal);
      if (ctx.signal.aborted) throw new Error(cancelledMessage(ctx.signal));
    } catch (err) {
      const output = err instanceof NotReadyError ? err.output : await proc.lastOutput(20);
      await ctx.stop(proc, ctx.to);
      throw await failedAndRestored(ctx, ctx.signal.aborted ? cancelledMessage(ctx.signal) : (err as Error).message, output);
    }
    ctx.emit('ready', { message: `${ctx.to.version} is ready (pid ${proc.pid})`, pid: proc.pid });
    return { proc };
  },
};

/**
 * The failure, once the old version has been started again (never itself
 * cancelled: it puts back what was there). When that fails too, the message
 * says why, so that "nothing serves" never comes without a reason.
 */
async function failedAndRestored(ctx: SwapContext, message: string, output: string[]): Promise<ActivationFailed> {
  const from = ctx.from;
  if (!from) return new ActivationFailed(message, output);
  try {
    const proc = await ctx.start(from.release);
    try {
      await ctx.waitReady(proc, from.release);
    } catch (err) {
      await ctx.stop(proc, from.release);
      throw err;
    }
    return new ActivationFailed(message, output, proc);
  } catch (err) {
    return new ActivationFailed(`${message}; starting ${from.release.version} again failed too: ${(err as Error).message}`, output);
  }
}
