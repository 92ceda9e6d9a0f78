// What every command shares: the global options, loading the config, and
// turning outcomes and errors into output and an exit code. Commands return
// their exit code; only cli.ts exits.
import type { Command } from 'commander';
import { SlipwayError } from '../../common/errors.js';
import { HostError } from '../client.js';
import { loadConfig, DEFAULT_CONFIG_FILE, type LoadedConfig } from '../config.js';
import { color } from '../output.js';

export const JSON_SCHEMA_VERSION = 1;

export interface GlobalOptions {
  config?: string;
  json?: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

export function load(cmd: Command): LoadedConfig {
  return loadConfig(globals(cmd).config ?? DEFAULT_CONFIG_FILE);
}

export function printJson(obj: object): void {
  process.stdout.write(`${JSON.stringify({ schema: JSON_SCHEMA_VERSION, ...obj }, null, 2)}\n`);
}

/** Any error as a catalogued one: ours keep their code; anything else is a bug (SLIPWAY_ERR_INTERNAL). */
export function catalogued(err: unknown): SlipwayError {
  if (err instanceof SlipwayError) return err;
  return new SlipwayError('SLIPWAY_ERR_INTERNAL', err instanceof Error ? err.message : String(err), { cause: err });
}

/**
 * Prints an error the way an operator can act on (the message, then its
 * catalogue code and what to do), or as `--json`'s error object; returns the
 * exit code the catalogue gives it.
 */
export function reportError(err: unknown, json: boolean, command?: string): number {
  const e = catalogued(err);
  const host = err instanceof HostError ? err.host : undefined;
  let message = host ? `${host}: ${e.message}` : e.message;
  if (e.code === 'SLIPWAY_ERR_INTERNAL' && process.env.SLIPWAY_DEBUG && err instanceof Error) message += `\n${err.stack}`;
  if (json) printJson({ ...(command ? { command } : {}), ok: false, error: { code: e.code, message, exit_code: e.exitCode, ...(host ? { host } : {}) } });
  else process.stderr.write(`${color.bad('error:')} ${message}\n${color.dim(`  ${e.code}: ${e.spec.action}`)}\n`);
  return e.exitCode;
}

/** The command's words as --json names it: "status", "lock status", "certs issue" (the program's own name left out). */
export function commandPath(cmd: Command): string {
  const words: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) words.unshift(c.name());
  return words.join(' ');
}

/** Wraps a command's action: its return value is the exit code; errors are reported. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    let code: number;
    try {
      code = await fn(...args);
    } catch (err) {
      code = reportError(err, globals(cmd).json === true, commandPath(cmd));
    }
    process.exitCode = code;
  };
}

/** The operator's own name, sent as claimed (the agent records the certificate's name beside it); '' when none is known. */
export function operatorName(): string {
  return process.env.SLIPWAY_OPERATOR ?? process.env.USER ?? process.env.LOGNAME ?? '';
}
