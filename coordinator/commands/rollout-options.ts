// What deploy and rollback share on the command line: the rollout settings
// (--batch over the environment's rollout block, --timeout), checked before
// any host is asked, and Ctrl-C that stops after the current batch.
import type { EnvironmentConfig } from '../config.js';
import { batchSize, type Batch } from '../plans.js';
import { UsageError } from '../errors.js';

export interface RolloutSettings {
  batch: Batch;
  pauseS: number;
  revert: 'all' | 'batch';
  timeoutMs: number;
}

/** --batch (else the environment's rollout.batch, else 1), rollout.pause_s and rollout.revert, --timeout in ms; UsageError when one is not valid. */
export function rolloutSettings(env: EnvironmentConfig, opts: { batch?: string; timeout: string }): RolloutSettings {
  const timeout = Number(opts.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`--timeout must be a number of seconds, not "${opts.timeout}"`);
  const batch = opts.batch ?? env.rollout?.batch ?? 1;
  try {
    batchSize(batch, env.hosts.length);
  } catch (err) {
    throw new UsageError(`--batch: ${(err as Error).message}`);
  }
  return { batch, pauseS: env.rollout?.pause_s ?? 0, revert: env.rollout?.revert ?? 'all', timeoutMs: timeout * 1000 };
}

export interface Interrupt {
  /** True once the operator pressed Ctrl-C. */
  readonly interrupted: () => boolean;
  /** Stops listening for Ctrl-C; safe to call twice. */
  dispose(): void;
}

/** The first Ctrl-C asks the rollout to stop after the current batch; the second quits at once (exit 130). */
export function stopAfterBatchOnCtrlC(say: (text: string) => void = (t) => process.stderr.write(t)): Interrupt {
  let interrupted = false;
  const onInt = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say('\nCtrl-C: stopping after the current batch (again to quit now)\n');
  };
  process.on('SIGINT', onInt);
  return { interrupted: () => interrupted, dispose: () => { process.off('SIGINT', onInt); } };
}
