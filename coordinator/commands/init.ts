// slipway init
import type { Command } from 'commander';
import { parseLang, writeInitConfig } from '../init.js';
import { LANGS } from '../init-templates.js';
import { ensureGitignore } from '../git-safety.js';
import { action, globals, printJson } from './common.js';

export function register(program: Command): void {
  program.command('init')
    .description('write a commented slipway.yaml for the app\'s language in the current directory, and .gitignore entries for built releases and private keys')
    .option('-f, --force', 'overwrite an existing slipway.yaml')
    .option('--app <name>', 'the app name (default: from package.json, pyproject.toml, go.mod or mix.exs, else the directory)')
    .option('--lang <lang>', `the app's language: ${LANGS.join(', ')} (default: from the files here: mix.exs, go.mod, Gemfile, pyproject.toml or requirements.txt, package.json)`)
    .action(action(async (opts: { force?: boolean; app?: string; lang?: string }, cmd: Command) => {
      const lang = opts.lang === undefined ? undefined : parseLang(opts.lang);
      const r = await writeInitConfig(process.cwd(), { force: opts.force, app: opts.app, lang });
      // Built tarballs (.slipway/) and private keys (certs/*-key.pem, keys/*.key) never belong in git.
      const ignore = ensureGitignore(process.cwd());
      if (globals(cmd).json) {
        printJson({ command: 'init', ok: true, file: r.file, lang: r.lang, detected_by: r.by, other_markers: r.others, gitignore: { file: ignore.file, added: ignore.added } });
      } else {
        const why = r.by === 'option' ? '--lang' : r.by === 'none' ? 'no package.json, pyproject.toml, requirements.txt, Gemfile, go.mod or mix.exs here' : `found ${r.by}`;
        process.stdout.write(`wrote ${r.file} for a ${r.lang} app (${why}): set the hosts of each environment, then run slipway build VERSION\n`);
        if (r.others.length > 0) process.stdout.write(`also found ${r.others.join(', ')}: for another language, run slipway init --force --lang ${LANGS.filter((l) => l !== r.lang && l !== 'generic').join('|')}\n`);
        if (ignore.added.length > 0) process.stdout.write(`added ${ignore.added.join(', ')} to ${ignore.file}: built releases and private keys stay out of git\n`);
      }
      return 0;
    }));
}
