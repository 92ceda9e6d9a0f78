// slipway lock ENV --reason R [--ttl S] | slipway lock status ENV | slipway unlock ENV [--force]
// A lock held by hand: nobody (not even its holder) deploys, rolls back,
// starts, stops or runs a task on ENV until it is released or expires.
import type { Command } from 'commander';
import { environment } from '../config.js';
import { Fleet } from '../fleet.js';
import { UsageError } from '../errors.js';
import { color, table } from '../output.js';
import { action, load, globals, printJson, operatorName } from './common.js';
import { formatTime } from '../../common/time.js';


export function register(program: Command): void {
  const lock = program.command('lock')
    .description('hold the deploy lock on every host of ENV by hand: deploys, rollbacks, start/stop and tasks are refused until slipway unlock (or the TTL ends)')
    .argument('<env>', 'the environment');
  lock.command('status <env>')
    .description('who holds the deploy lock of ENV on each host, why, since and until when (takes nothing)')
    .option('--host <host>', 'only this host')
    .addHelpText('after', '\nExit codes: 0 every host answered (locked or not), 1 some host could not be reached, 2 bad usage.')
    .action(action(async (envName: string, opts: { host?: string }, cmd: Command) => {
      const json = globals(cmd).json === true;
      const loaded = load(cmd);
      const fleet = Fleet.forEnv(loaded, envName, environment(loaded, envName), opts.host);
      const app = loaded.config.app;
      const outcomes = await fleet.each((c) => c.lock({ app, reason: '', ttl_s: 0, holder: operatorName(), inspect: true })).finally(() => fleet.close());
      const ok = outcomes.every((o) => o.ok);
      if (json) {
        printJson({ command: 'lock status', ok, app, env: envName, hosts: outcomes.map((o) => (o.ok ? { host: o.host, ok: true, lease: o.value.held ? o.value : null } : { host: o.host, ok: false, error: { message: o.error.message, unreachable: o.error.unreachable } })) });
      } else {
        process.stdout.write(`${table(['HOST', 'LOCK', 'HOLDER', 'REASON', 'SINCE', 'UNTIL'], outcomes.map((o) => (o.ok
          ? (o.value.held ? [o.host, color.warn('locked'), o.value.holder, o.value.reason, formatTime(o.value.since), formatTime(o.value.expires_at)] : [o.host, 'free', '-', '-', '-', '-'])
          : [o.host, color.bad('unknown'), '-', o.error.message, '-', '-'])))}\n`);
      }
      return ok ? 0 : 1;
    }));
  // --reason is checked in the action, not as a required option: commander would ask for it before `lock status` too.
  lock
    .option('--reason <text>', 'why, shown to whoever is refused ("database migration"); required')
    .option('--ttl <duration>', 'how long the lock lasts: seconds, or with m, h or d', '1h')
    .option('--host <host>', 'only this host')
    .addHelpText('after', `
Under mTLS the holder is your certificate's name, with your operator name
($SLIPWAY_OPERATOR or $USER) marked as claimed: "ci-1 (claimed: alice)". Two
people sharing one certificate cannot release each other's lock without
--force. Taking and releasing a lock by hand goes into each host's history.
Exit codes: 0 locked on every host, 1 some host refused (already locked) or could not be reached, 2 bad usage.
Examples:
  slipway lock production --reason "database migration" --ttl 2h
  slipway lock status production`)
    .action(action(async (envName: string, opts: { reason?: string; ttl: string; host?: string }, cmd: Command) => {
      const reason = opts.reason?.trim() ?? '';
      if (!reason) throw new UsageError('slipway lock ENV needs --reason TEXT: why, shown to whoever is refused ("database migration")');
      const m = /^(\d+)([smhd]?)$/.exec(opts.ttl.trim());
      if (!m) throw new UsageError(`--ttl must be like 90, 30m, 2h or 1d, not "${opts.ttl}"`);
      const ttl = Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86_400 } as Record<string, number>)[m[2]];
      if (ttl < 1 || ttl > 7 * 86_400) throw new UsageError('--ttl must be between 1 second and 7 days');
      const json = globals(cmd).json === true;
      const loaded = load(cmd);
      const fleet = Fleet.forEnv(loaded, envName, environment(loaded, envName), opts.host);
      const app = loaded.config.app;
      const outcomes = await fleet.each((c) => c.lock({ app, reason, ttl_s: ttl, holder: operatorName(), record: true })).finally(() => fleet.close());
      const ok = outcomes.every((o) => o.ok);
      if (json) {
        printJson({ command: 'lock', ok, app, env: envName, hosts: outcomes.map((o) => (o.ok ? { host: o.host, ok: true, lease: o.value } : { host: o.host, ok: false, error: { message: o.error.message, unreachable: o.error.unreachable } })) });
      } else {
        process.stdout.write(`${table(['HOST', 'RESULT'], outcomes.map((o) => [o.host, o.ok ? color.ok(`locked by ${o.value.holder} until ${formatTime(o.value.expires_at)}`) : color.bad(o.error.message)]))}\n`);
        if (!ok && outcomes.some((o) => o.ok)) process.stdout.write(color.warn(`the lock is held on some hosts only; slipway unlock ${envName} releases them\n`));
      }
      return ok ? 0 : 1;
    }));

  program.command('unlock <env>')
    .description('release the deploy lock of ENV (yours; with --force anyone\'s)')
    .option('--force', 'release a lock someone else holds (it is logged in their agent\'s history)')
    .option('--host <host>', 'only this host')
    .action(action(async (envName: string, opts: { force?: boolean; host?: string }, cmd: Command) => {
      const json = globals(cmd).json === true;
      const loaded = load(cmd);
      const fleet = Fleet.forEnv(loaded, envName, environment(loaded, envName), opts.host);
      const app = loaded.config.app;
      const outcomes = await fleet.each((c) => c.unlock({ app, force: opts.force === true, requested_by: operatorName(), record: true })).finally(() => fleet.close());
      const ok = outcomes.every((o) => o.ok);
      if (json) {
        printJson({ command: 'unlock', ok, app, env: envName, hosts: outcomes.map((o) => (o.ok ? { host: o.host, ok: true, released: o.value.holder ? o.value : null } : { host: o.host, ok: false, error: { message: o.error.message, unreachable: o.error.unreachable } })) });
      } else {
        process.stdout.write(`${table(['HOST', 'RESULT'], outcomes.map((o) => [o.host, o.ok ? (o.value.holder ? color.ok(`released the lock of ${o.value.holder} (${o.value.reason})`) : 'was not locked') : color.bad(o.error.message)]))}\n`);
      }
      return ok ? 0 : 1;
    }));
}
