// The agent logs JSON lines to stdout (journald collects them); --pretty
// renders them for people. sync: true, so nothing is lost on SIGTERM or kill.
// Pretty mode formats in this thread (pino-pretty as a stream, loaded only
// then) rather than through a transport worker: no thread for a terminal's
// logs, and nothing that resolves a worker file at run time (the agent runs
// as a bundle, scripts/bundle.mjs).
//
// Under systemd (JOURNAL_STREAM names our stdout) each line starts with its
// syslog priority, `<3>{...}` for an error: journald strips the prefix and
// files the line under that priority, so `journalctl -p err -u slipway-agent`
// shows the agent's errors. LOG_LEVEL (trace, debug, info, warn, error, fatal)
// sets the lowest level logged; info by default.
import { fstatSync } from 'node:fs';
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** pino's level number as a syslog priority: fatal 2 (crit), error 3, warn 4, info 6, debug and trace 7. */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/** Whether stdout is the journal's stream: JOURNAL_STREAM is "DEV:INO" of it (systemd.exec(5)). */
export function stdoutIsJournal(journalStream: string | undefined, stdout: { dev: number; ino: number } | undefined): boolean {
  if (!journalStream || !stdout) return false;
  const [dev, ino] = journalStream.split(':');
  return dev === String(stdout.dev) && ino === String(stdout.ino);
}

/** Each JSON line prefixed with `<N>`, its syslog priority, for journald. */
function journalDestination(inner: DestinationStream): DestinationStream {
  return {
    write(line: string) {
      const m = /"level":(\d+)/.exec(line);
      inner.write(`<${syslogPriority(m ? Number(m[1]) : 30)}>${line}`);
    },
  };
}

function stdoutStat(): { dev: number; ino: number } | undefined {
  try {
    return fstatSync(1);
  } catch {
    return undefined;
  }
}

export async function createLogger(opts: { pretty?: boolean; level?: string } = {}): Promise<Logger> {
  const level = opts.level ?? process.env.LOG_LEVEL ?? 'info';
  const base = { svc: 'slipway-agent' };
  const redact = { paths: ['token', '*.token', 'env', '*.env', 'headers.authorization'], censor: '[REDACTED]' };
  if (opts.pretty) {
    const { default: pretty } = await import('pino-pretty');
    return pino({ level, base, redact }, pretty({ colorize: !process.env.NO_COLOR, translateTime: 'SYS:HH:MM:ss.l', ignore: 'svc', sync: true, destination: 1 }));
  }
  const out = pino.destination({ fd: 1, sync: true });
  const journal = stdoutIsJournal(process.env.JOURNAL_STREAM, stdoutStat());
  return pino({ level, base, redact, timestamp: pino.stdTimeFunctions.isoTime }, journal ? journalDestination(out) : out);
}
