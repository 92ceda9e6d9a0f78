// Tables that fit a terminal (pure): which columns to keep so that a table
// is no wider than the terminal, dropping the least important first, and
// lines cut at the width with "…" when even the kept ones are too wide.
// `--wide` and piped output use none of this: every column, every character.

const ANSI = /\x1b\[[0-9;]*m/g; // eslint-disable-line no-control-regex
export const visibleWidth = (s: string): number => [...s.replace(ANSI, '')].length;

export interface ColumnSpec {
  header: string;
  /**
   * When the table is too wide, columns with the highest `drop` go first
   * (the rightmost of equal ones first); 0: never dropped.
   */
  drop: number;
}

/** The gap between two columns (output.ts's table()). */
const GAP = 2;

/**
 * The indices of the columns to keep for a table no wider than `width`:
 * the widths are the widest cell of each column (header included). When
 * what is never dropped is still too wide, the lines are cut (cutLine).
 * undefined width: all.
 */
export function chooseColumns(specs: readonly ColumnSpec[], rows: readonly (readonly string[])[], width: number | undefined): number[] {
  const all = specs.map((_, i) => i);
  if (width === undefined || !Number.isFinite(width) || width <= 0) return all;
  const widths = specs.map((s, i) => Math.max(visibleWidth(s.header), ...rows.map((r) => visibleWidth(r[i] ?? ''))));
  const total = (kept: number[]) => kept.reduce((sum, i) => sum + widths[i], 0) + GAP * (kept.length - 1);
  const kept = [...all];
  while (total(kept) > width) {
    let victim = -1;
    for (const i of kept) if (specs[i].drop > 0 && (victim < 0 || specs[i].drop >= specs[victim].drop)) victim = i;
    if (victim < 0) break;
    kept.splice(kept.indexOf(victim), 1);
  }
  return kept;
}

/** The line cut to `width` visible characters, ending in "…" when cut (colour codes kept, then reset). */
export function cutLine(line: string, width: number | undefined): string {
  if (width === undefined || width <= 0 || visibleWidth(line) <= width) return line;
  let out = '';
  let seen = 0;
  let coloured = false;
  for (let i = 0; i < line.length;) {
    const m = /^\x1b\[[0-9;]*m/.exec(line.slice(i)); // eslint-disable-line no-control-regex
    if (m) {
      out += m[0];
      coloured = true;
      i += m[0].length;
      continue;
    }
    const ch = String.fromCodePoint(line.codePointAt(i) ?? 0);
    if (seen === width - 1) break;
    out += ch;
    seen++;
    i += ch.length;
  }
  return `${out}…${coloured ? '\x1b[0m' : ''}`;
}
