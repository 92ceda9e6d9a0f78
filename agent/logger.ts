// The agent logs JSON lines to stdout (journald collects them); --pretty
// renders them for people. sync: true, so nothing is lost on SIGTERM or kill.
// Pretty mode formats in this thread (pino-pretty as a stream, loaded only
// then) rather than through a transport worker: no thread for a terminal's
// logs, and nothing that resolves a worker file at run time (the agent runs
// as a bundle, scripts/bundle.mjs).
import { pino, type Logger } from 'pino';

export type { Logger };

export async function createLogger(opts: { pretty?: boolean; level?: string } = {}): Promise<Logger> {
  const level = opts.level ?? process.env.LOG_LEVEL ?? 'info';
  const base = { svc: 'slipway-agent' };
  const redact = { paths: ['token', '*.token', 'env', '*.env', 'headers.authorization'], censor: '[REDACTED]' };
  if (opts.pretty) {
    const { default: pretty } = await import('pino-pretty');
    return pino({ level, base, redact }, pretty({ colorize: !process.env.NO_COLOR, translateTime: 'SYS:HH:MM:ss.l', ignore: 'svc', sync: true, destination: 1 }));
  }
  return pino({ level, base, redact, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 1, sync: true }));
}
