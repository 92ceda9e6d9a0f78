// What every command shares: the global options, loading the config, and
// turning outcomes and errors into output and an exit code. Commands return
// their exit code; only cli.ts exits.
import type { Command } from 'commander';
import { ConfigError } from '../../common/config-file.js';
import { BuildError } from '../build/errors.js';
import { HostError } from '../client.js';
import { loadConfig, DEFAULT_CONFIG_FILE, type LoadedConfig } from '../config.js';
import { UsageError, EXIT_FAILED, EXIT_USAGE } from '../errors.js';
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

/** Prints an error the way an operator can act on, and returns the exit code it means. */
export function reportError(err: unknown, json: boolean): number {
  let code = EXIT_FAILED;
  let message: string;
  if (err instanceof ConfigError || err instanceof UsageError) {
    code = EXIT_USAGE;
    message = err.message;
  } else if (err instanceof BuildError) {
    code = err.usage ? EXIT_USAGE : EXIT_FAILED;
    message = err.message;
  } else if (err instanceof HostError) {
    message = `${err.host}: ${err.message}`;
  } else {
    message = err instanceof Error ? err.message : String(err);
    if (process.env.SLIPWAY_DEBUG && err instanceof Error) message += `\n${err.stack}`;
  }
  if (json) printJson({ ok: false, error: { message, exit_code: code } });
  else process.stderr.write(`${color.bad('error:')} ${message}\n`);
  return code;
}

/** Wraps a command's action: its return value is the exit code; errors are reported. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    let code: number;
    try {
      code = await fn(...args);
    } catch (err) {
      code = reportError(err, globals(cmd).json === true);
    }
    process.exitCode = code;
  };
}

export function operatorName(): string {
  return process.env.SLIPWAY_OPERATOR ?? process.env.USER ?? process.env.LOGNAME ?? 'unknown';
}
