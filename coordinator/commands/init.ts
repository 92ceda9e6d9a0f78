// slipway init
import type { Command } from 'commander';
import { writeInitConfig } from '../init.js';
import { action, globals, printJson } from './common.js';

export function register(program: Command): void {
  program.command('init')
    .description('write a commented slipway.yaml in the current directory')
    .option('-f, --force', 'overwrite an existing slipway.yaml')
    .option('--app <name>', 'the app name (default: from package.json or the directory)')
    .action(action(async (opts: { force?: boolean; app?: string }, cmd: Command) => {
      const file = await writeInitConfig(process.cwd(), opts);
      if (globals(cmd).json) printJson({ command: 'init', ok: true, file });
      else process.stdout.write(`wrote ${file}: set the hosts of each environment, then run slipway build VERSION\n`);
      return 0;
    }));
}
