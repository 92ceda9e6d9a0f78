// Human output: tables, colour (off when NO_COLOR is set or stdout is not a
// terminal), progress (bars on a terminal, plain lines elsewhere).
import pc from 'picocolors';
import cliProgress from 'cli-progress';

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

/** Per-host progress: bars on a terminal, one line per step elsewhere (and never with --json). */
export class Progress {
  private readonly multi?: cliProgress.MultiBar;
  private readonly bars = new Map<string, cliProgress.SingleBar>();

  constructor(private readonly enabled: boolean) {
    if (enabled && process.stderr.isTTY) {
      this.multi = new cliProgress.MultiBar({
        stream: process.stderr, clearOnComplete: false, hideCursor: true,
        format: '{host} [{bar}] {percentage}% {what}', barsize: 24,
      }, cliProgress.Presets.shades_classic);
    }
  }

  /** Starts or updates a host's bar (total in the unit of `value`). */
  update(host: string, value: number, total: number, what: string): void {
    if (!this.multi) return;
    let bar = this.bars.get(host);
    if (!bar) {
      bar = this.multi.create(total, 0, { host: host.padEnd(22), what });
      this.bars.set(host, bar);
    }
    bar.setTotal(total);
    bar.update(value, { what });
  }

  /** A line about a host: above the bars on a terminal, plain on stderr otherwise. */
  line(host: string, text: string): void {
    if (!this.enabled) return;
    const msg = `${color.dim(host)}  ${text}`;
    if (this.multi) this.multi.log(`${msg}\n`);
    else process.stderr.write(`${msg}\n`);
  }

  stop(): void {
    this.multi?.stop();
  }
}
