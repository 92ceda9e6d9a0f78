// Shell completion scripts for bash, zsh and fish, made from the CLI's own
// command tree (so a new command or option completes without editing this).
// Pure: the tree in, the script out. Environment names complete from the
// slipway.yaml of the directory the shell is in, through
// `slipway completion --environments` (hidden; prints one name per line).

export interface CommandNode {
  name: string;
  description: string;
  /** Long and short flags: --json, -c. */
  options: string[];
  /** Whether the first argument is an environment name (deploy ENV …). */
  takesEnv: boolean;
  subcommands: CommandNode[];
}

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const words = (list: string[]) => list.join(' ');
/** Text safe inside single quotes in all three shells. */
const quoted = (s: string) => s.replace(/'/g, '');

function bash(root: CommandNode): string {
  const cases = root.subcommands.map((c) => {
    const subs = c.subcommands.map((s) => s.name);
    const subCases = c.subcommands.map((s) => `        ${s.name}) opts="${words(s.options)}"; env=${s.takesEnv ? 1 : 0} ;;`).join('\n');
    return [
      `    ${c.name})`,
      subs.length
        ? `      if [ "$cword_in" -eq 1 ]; then opts="${words([...subs, ...c.options])}"; env=${c.takesEnv ? 1 : 0}; else\n      case "$sub" in\n${subCases}\n        *) opts="${words(c.options)}"; env=${c.takesEnv ? 1 : 0} ;;\n      esac; fi ;;`
        : `      opts="${words(c.options)}"; env=${c.takesEnv ? 1 : 0} ;;`,
    ].join('\n');
  }).join('\n');
  return `# slipway completion for bash: source <(slipway completion bash)
_slipway() {
  local cur cmd sub cword_in opts env i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd=""; sub=""; cword_in=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -c|--config) ((i++)) ;;
      -*) ;;
      *) if [ -z "$cmd" ]; then cmd="\${COMP_WORDS[i]}"; elif [ -z "$sub" ]; then sub="\${COMP_WORDS[i]}"; fi ;;
    esac
  done
  if [ -z "$cmd" ]; then
    COMPREPLY=($(compgen -W "${words([...root.subcommands.map((c) => c.name), ...root.options])}" -- "$cur"))
    return
  fi
  [ -z "$sub" ] && cword_in=1
  opts=""; env=0
  case "$cmd" in
${cases}
  esac
  if [ "$env" = 1 ] && [[ "$cur" != -* ]]; then
    opts="$opts $(slipway completion --environments 2>/dev/null)"
  fi
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o default -F _slipway slipway
`;
}

function zsh(root: CommandNode): string {
  // zsh runs bash completion functions through bashcompinit: one script to keep right.
  return `#compdef slipway
# slipway completion for zsh: source <(slipway completion zsh)
(( $+functions[compdef] )) || { autoload -U +X compinit && compinit -u }
autoload -U +X bashcompinit && bashcompinit
${bash(root).split('\n').filter((l) => !l.startsWith('# slipway completion for bash')).join('\n')}`;
}

function fish(root: CommandNode): string {
  const top = root.subcommands.map((c) => c.name);
  const lines = [
    '# slipway completion for fish: slipway completion fish | source',
    'complete -c slipway -f',
    `complete -c slipway -n 'not __fish_seen_subcommand_from ${words(top)}' -l json -d 'print JSON'`,
    `complete -c slipway -n 'not __fish_seen_subcommand_from ${words(top)}' -s c -l config -r -d 'the app\\'s slipway.yaml'`,
  ];
  for (const c of root.subcommands) {
    lines.push(`complete -c slipway -n 'not __fish_seen_subcommand_from ${words(top)}' -a ${c.name} -d '${quoted(c.description).slice(0, 80)}'`);
    for (const s of c.subcommands) {
      lines.push(`complete -c slipway -n '__fish_seen_subcommand_from ${c.name}; and not __fish_seen_subcommand_from ${words(c.subcommands.map((x) => x.name))}' -a ${s.name} -d '${quoted(s.description).slice(0, 80)}'`);
    }
    for (const o of c.options.filter((x) => x.startsWith('--'))) lines.push(`complete -c slipway -n '__fish_seen_subcommand_from ${c.name}' -l ${o.slice(2)}`);
    if (c.takesEnv || c.subcommands.some((s) => s.takesEnv)) {
      lines.push(`complete -c slipway -n '__fish_seen_subcommand_from ${c.name}' -a '(slipway completion --environments 2>/dev/null)'`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: Shell, root: CommandNode): string {
  return shell === 'bash' ? bash(root) : shell === 'zsh' ? zsh(root) : fish(root);
}
