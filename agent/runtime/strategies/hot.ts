// `upgrade: hot`: the new version starts on the same inherited sockets while
// the old one still serves; once the new one is ready, it is returned with
// the old one to retire: the activation swaps `current` and records the new
// release in state.json first, and only then lets the old one drain (its stop
// signal, SIGKILL at stop.drain_timeout_s), so that an agent killed in
// between finds the old one serving or the new one recorded, never a
// draining version named in state.json. If the new one fails, or the
// activation is cancelled, the new one is stopped and the old one never
// noticed.
import { NotReadyError } from '../readiness.js';
import { ActivationFailed, cancelledMessage, type ActivationStrategy, type SwapContext, type SwapResult } from './strategy.js';

export const hotStrategy: ActivationStrategy = {
  name: 'hot',
  async activate(ctx: SwapContext): Promise<SwapResult> {
    if (ctx.signal.aborted) throw new ActivationFailed(cancelledMessage(ctx.signal), [], ctx.from?.proc);
    let proc;
    try {
      proc = await ctx.start(ctx.to);
    } catch (err) {
      throw new ActivationFailed(`could not start ${ctx.to.version}: ${(err as Error).message}`, [], ctx.from?.proc);
    }
    // "Beside" only where something runs: a first deploy, or one after a stop, starts alone.
    const beside = ctx.from?.proc.running() ? ` beside the running ${ctx.from.release.version}` : '';
    ctx.emit('starting', { message: `started ${ctx.to.version} (pid ${proc.pid})${beside}`, pid: proc.pid });
    try {
      await ctx.waitReady(proc, ctx.to, ctx.signal);
      if (ctx.signal.aborted) throw new Error(cancelledMessage(ctx.signal));
    } catch (err) {
      const output = err instanceof NotReadyError ? err.output : await proc.lastOutput(20);
      await ctx.stop(proc, ctx.to);
      throw new ActivationFailed(ctx.signal.aborted ? cancelledMessage(ctx.signal) : (err as Error).message, output, ctx.from?.proc);
    }
    ctx.emit('ready', { message: `${ctx.to.version} is ready (pid ${proc.pid})`, pid: proc.pid });
    const from = ctx.from;
    return from && from.proc.running() ? { proc, retire: from } : { proc };
  },
};
