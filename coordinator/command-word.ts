// The command a `slipway` command line names: which module cli.ts loads, and
// which code cache the launcher uses (coordinator/launcher.ts).

/** The first word that is not an option (nor the value of -c/--config). */
export function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-c' || a === '--config') { i++; continue; }
    if (!a.startsWith('-')) return a;
  }
  return undefined;
}
