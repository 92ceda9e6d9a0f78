// The agent logs JSON lines to stdout (journald collects them); --pretty
// renders them for people. sync: true, so nothing is lost on SIGTERM or kill.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(opts: { pretty?: boolean; level?: string } = {}): Logger {
  const level = opts.level ?? process.env.LOG_LEVEL ?? 'info';
  const base = { svc: 'slipway-agent' };
  const redact = { paths: ['token', '*.token', 'env', '*.env', 'headers.authorization'], censor: '[REDACTED]' };
  if (opts.pretty) {
    return pino({
      level, base, redact,
      transport: { target: 'pino-pretty', options: { colorize: !process.env.NO_COLOR, translateTime: 'SYS:HH:MM:ss.l', ignore: 'svc' } },
    });
  }
  return pino({ level, base, redact, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 1, sync: true }));
}
