// slipway env ENV [--host H] set KEY=VALUE… | unset KEY… | list [--show]
// Each host's own settings for the app (its shared/env): node names,
// secrets, anything that must not live in a release.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { environment } from '../config.js';
import { Fleet } from '../fleet.js';
import { UsageError } from '../errors.js';
import { color, table } from '../output.js';
import { action, load, globals, printJson, operatorName } from './common.js';

export function parseAssignments(words: string[]): Record<string, string> {
  const set: Record<string, string> = {};
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new UsageError(`"${w}" is not KEY=VALUE`);
    set[w.slice(0, eq)] = w.slice(eq + 1);
  }
  return set;
}

/** A value shown without any of its characters (secrets live here): only whether it is empty, and its length. */
export function redact(value: string): string {
  return value.length === 0 ? '(empty)' : `•••••• (${value.length} chars)`;
}

/**
 * KEY=VALUE lines of an env file (as `docker --env-file` and systemd's
 * EnvironmentFile take them): blank lines and # comments skipped, a value
 * may be in single or double quotes (kept as written inside them), `export `
 * before a key is allowed. A value never goes on the command line this way,
 * so it stays out of the shell history and `ps`.
 */
export function parseEnvFile(text: string, source: string): Record<string, string> {
  const set: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new UsageError(`${source} line ${i + 1}: not KEY=VALUE (keys are letters, digits and _, not starting with a digit)`);
    const v = m[2];
    const q = /^(['"])(.*)\1$/.exec(v);
    set[m[1]] = q ? q[2] : v;
  });
  return set;
}

function readEnvSource(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file === '-' ? 'standard input' : file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const set = parseEnvFile(text, file === '-' ? 'standard input' : file);
  if (Object.keys(set).length === 0) throw new UsageError(`${file === '-' ? 'standard input' : file} has no KEY=VALUE line`);
  return set;
}

export function register(program: Command): void {
  program.command('env <env> <action> [args...]')
    .description('per-host settings of the app (shared/env): set KEY=VALUE…, unset KEY…, or list')
    .option('--host <host>', 'only this host (default: every host of ENV)')
    .option('--show', 'list: show the values instead of redacting them')
    .option('--from-file <file>', 'set: take KEY=VALUE lines from FILE (- for standard input), so that secrets stay out of the shell history')
    .addHelpText('after', `
Changes apply at the next start or activation; \`slipway restart ENV\` applies
them now with a hot swap. The file is owner-only on each host.
Examples:
  slipway env production --host app1.internal:7070 set NODE_NAME=app1@app1.internal
  slipway env production set --from-file secrets.env
  pass show shop/prod | slipway env production set --from-file -
  slipway env production unset DEBUG
  slipway env production list --show`)
    .action(action(async (envName: string, verb: string, args: string[], opts: { host?: string; show?: boolean; fromFile?: string }, cmd: Command) => {
      const json = globals(cmd).json === true;
      let set: Record<string, string> = {};
      let unset: string[] = [];
      if (opts.fromFile !== undefined && verb !== 'set') throw new UsageError('--from-file goes with env set');
      if (verb === 'set') {
        if (args.length === 0 && opts.fromFile === undefined) throw new UsageError('env set needs KEY=VALUE… or --from-file FILE');
        set = { ...(opts.fromFile !== undefined ? readEnvSource(opts.fromFile) : {}), ...parseAssignments(args) };
      } else if (verb === 'unset') {
        if (args.length === 0) throw new UsageError('env unset needs KEY…');
        unset = args;
      } else if (verb !== 'list') {
        throw new UsageError(`"${verb}" is not one of: set, unset, list`);
      } else if (args.length > 0) {
        throw new UsageError('env list takes no arguments');
      }
      const loaded = load(cmd);
      const fleet = Fleet.forEnv(loaded, envName, environment(loaded, envName), opts.host);
      const app = loaded.config.app;
      const outcomes = await fleet.each((c) => (verb === 'list' ? c.getEnv(app) : c.setEnv(app, set, unset, operatorName())))
        .finally(() => fleet.close());
      const ok = outcomes.every((o) => o.ok);
      const show = (v: string) => (opts.show ? v : redact(v));
      if (json) {
        printJson({
          command: 'env', ok, app, env: envName, action: verb, redacted: !opts.show,
          hosts: outcomes.map((o) => (o.ok
            ? { host: o.host, ok: true, env: Object.fromEntries(Object.entries(o.value).map(([k, v]) => [k, show(v)])) }
            : { host: o.host, ok: false, error: { message: o.error.message, unreachable: o.error.unreachable } })),
        });
        return ok ? 0 : 1;
      }
      const rows: string[][] = [];
      for (const o of outcomes) {
        if (!o.ok) { rows.push([o.host, '-', color.bad(`! ${o.error.message}`)]); continue; }
        const keys = Object.keys(o.value).sort();
        if (keys.length === 0) rows.push([o.host, '-', color.dim('(no settings)')]);
        for (const k of keys) rows.push([o.host, k, show(o.value[k])]);
      }
      process.stdout.write(`${table(['HOST', 'KEY', 'VALUE'], rows)}\n`);
      if (verb !== 'list' && ok) process.stdout.write('applies at the next start or activation; `slipway restart` applies it now\n');
      return ok ? 0 : 1;
    }));
}
