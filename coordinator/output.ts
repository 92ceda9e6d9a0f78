// Human output: tables, colour (off when NO_COLOR is set or stdout is not a
// terminal), sizes and durations. A rollout's progress is rollout/render.ts.
import pc from 'picocolors';

export const useColor = (): boolean => !process.env.NO_COLOR && process.stdout.isTTY === true && process.env.TERM !== 'dumb';

export const color = {
  ok: (s: string) => (useColor() ? pc.green(s) : s),
  bad: (s: string) => (useColor() ? pc.red(s) : s),
  warn: (s: string) => (useColor() ? pc.yellow(s) : s),
  dim: (s: string) => (useColor() ? pc.dim(s) : s),
  bold: (s: string) => (useColor() ? pc.bold(s) : s),
};

const ANSI = /\x1b\[[0-9;]*m/g; // eslint-disable-line no-control-regex
const visible = (s: string) => s.replace(ANSI, '').length;

/** A plain text table: a header row and aligned columns. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i] - visible(c)))).join('  ').trimEnd();
  return [line(header.map((h) => color.bold(h))), ...rows.map(line)].join('\n');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${Math.floor(seconds % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}
