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
  /** --unknown-grace: how long the revert asks a host whose outcome was unknown what it runs. */
  unknownGraceMs: number;
}

/** The option deploy and rollback share for hosts whose outcome was not seen. */
export const UNKNOWN_GRACE_OPTION = ['--unknown-grace <seconds>', 'when a host\'s outcome was not seen (cut off mid-activation), how long the revert keeps asking it what it runs', '60'] as const;

/** --batch (else the environment's rollout.batch, else 1), rollout.pause_s and rollout.revert, --timeout in ms; UsageError when one is not valid. */
export function rolloutSettings(env: EnvironmentConfig, opts: { batch?: string; timeout: string; unknownGrace?: string }): RolloutSettings {
  const timeout = Number(opts.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`--timeout must be a number of seconds, not "${opts.timeout}"`);
  const grace = Number(opts.unknownGrace ?? UNKNOWN_GRACE_OPTION[2]);
  if (!Number.isFinite(grace) || grace < 0 || grace > 3600) throw new UsageError(`--unknown-grace must be a number of seconds from 0 to 3600, not "${opts.unknownGrace}"`);
  const batch = opts.batch ?? env.rollout?.batch ?? 1;
  try {
    batchSize(batch, env.hosts.length);
  } catch (err) {
    throw new UsageError(`--batch: ${(err as Error).message}`);
  }
  return { batch, pauseS: env.rollout?.pause_s ?? 0, revert: env.rollout?.revert ?? 'all', timeoutMs: timeout * 1000, unknownGraceMs: grace * 1000 };
}

/**
 * The hosts whose outcome is unknown, said so after the summary: they may run
 * either version, and `slipway status` marks them until a later deploy or
 * rollback sees them. Empty when there are none.
 */
export function unknownLines(hosts: readonly { host: string; outcome: string; before: { version: string } | null }[], target: string, envName: string): string {
  const unknown = hosts.filter((h) => h.outcome === 'unknown');
  if (unknown.length === 0) return '';
  const lines = [`outcome unknown on ${unknown.length} host(s): the step was not seen to end and the host did not answer in time; each may run either version:`];
  for (const h of unknown) lines.push(`  ${h.host}: ${h.before?.version ?? 'nothing'} or ${target}`);
  lines.push(`check them with: slipway status ${envName} (it marks them), then deploy or roll back again`);
  return `${lines.join('\n')}\n`;
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
