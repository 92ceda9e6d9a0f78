// slipway completion bash|zsh|fish: the completion script, from the command tree.
import { Option, type Command } from 'commander';
import { completionScript, SHELLS, type CommandNode, type Shell } from '../completion.js';
import { loadConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { action, globals, printJson } from './common.js';

function node(cmd: Command): CommandNode {
  const args = (cmd as Command & { registeredArguments?: readonly { name(): string }[] }).registeredArguments ?? [];
  return {
    name: cmd.name(),
    description: cmd.description(),
    options: [...cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => typeof f === 'string' && !o.hidden)), '--help'],
    takesEnv: args[0]?.name() === 'env',
    subcommands: cmd.commands.map(node),
  };
}

export function register(program: Command): void {
  program.command('completion')
    .description('print a shell completion script: commands, options and the environments of ./slipway.yaml')
    .argument('[shell]', `one of ${SHELLS.join(', ')}`)
    .addOption(new Option('--environments', 'print the environment names of slipway.yaml, one per line (used by the scripts)').hideHelp())
    .addHelpText('after', `
Install:
  bash:  echo 'source <(slipway completion bash)' >> ~/.bashrc
  zsh:   echo 'source <(slipway completion zsh)' >> ~/.zshrc
  fish:  slipway completion fish > ~/.config/fish/completions/slipway.fish`)
    .action(action(async (shell: string | undefined, opts: { environments?: boolean }, cmd: Command) => {
      if (opts.environments) {
        // Quiet on purpose: a shell asking for completions in a directory without slipway.yaml gets nothing.
        try {
          process.stdout.write(Object.keys(loadConfig(globals(cmd).config).config.environments).map((e) => `${e}\n`).join(''));
        } catch { /* no or invalid slipway.yaml: no names */ }
        return 0;
      }
      if (!shell || !(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`name the shell: slipway completion ${SHELLS.join('|')}${shell ? ` ("${shell}" is not one of them)` : ''}`);
      const script = completionScript(shell as Shell, node(program));
      if (globals(cmd).json) printJson({ command: 'completion', ok: true, shell, script });
      else process.stdout.write(script);
      return 0;
    }));
}
