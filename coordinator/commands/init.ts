// slipway init
import type { Command } from 'commander';
import { writeInitConfig } from '../init.js';
import { ensureGitignore } from '../git-safety.js';
import { action, globals, printJson } from './common.js';

export function register(program: Command): void {
  program.command('init')
    .description('write a commented slipway.yaml in the current directory, and .gitignore entries for built releases and private keys')
    .option('-f, --force', 'overwrite an existing slipway.yaml')
    .option('--app <name>', 'the app name (default: from package.json or the directory)')
    .action(action(async (opts: { force?: boolean; app?: string }, cmd: Command) => {
      const file = await writeInitConfig(process.cwd(), opts);
      // Built tarballs (.slipway/) and private keys (certs/*-key.pem, keys/*.key) never belong in git.
      const ignore = ensureGitignore(process.cwd());
      if (globals(cmd).json) printJson({ command: 'init', ok: true, file, gitignore: { file: ignore.file, added: ignore.added } });
      else {
        process.stdout.write(`wrote ${file}: set the hosts of each environment, then run slipway build VERSION\n`);
        if (ignore.added.length > 0) process.stdout.write(`added ${ignore.added.join(', ')} to ${ignore.file}: built releases and private keys stay out of git\n`);
      }
      return 0;
    }));
}
