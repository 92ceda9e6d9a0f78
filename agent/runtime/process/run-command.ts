// Runs a short-lived command (an upgrade command, a task such as a
// migration) in its own process group: its output goes to the app's log and,
// line by line, to whoever asked; the last lines are kept; a deadline or an
// abort kills the whole group.
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { AppLog, LineTail } from './app-log.js';
import { signalGroup } from './proc.js';

export interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  /** 0: no deadline. */
  timeoutMs: number;
  log: AppLog;
  user?: { uid: number; gid: number };
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
  signal?: AbortSignal;
  /** Its standard input: whole, or a stream as it comes (closed at its end); none: /dev/null. */
  stdin?: Buffer | Readable;
}

export interface RunResult {
  /** null when it was killed at the deadline or by an abort. */
  code: number | null;
  output: string[];
  timedOut: boolean;
}

export function runCommand(argv: string[], o: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    const tail = new LineTail(100);
    const child = spawn(argv[0], argv.slice(1), { cwd: o.cwd, env: o.env, detached: true, stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], uid: o.user?.uid, gid: o.user?.gid });
    if (o.stdin && child.stdin) {
      // A command that exits without reading all of it closes the pipe: not an error of ours.
      child.stdin.on('error', () => undefined);
      if (Buffer.isBuffer(o.stdin)) child.stdin.end(o.stdin);
      else o.stdin.pipe(child.stdin); // with backpressure: the sender waits while the command does not read
    }
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = '';
      child[stream]?.on('data', (d: Buffer) => {
        o.log.write(d);
        tail.push(d);
        if (!o.onLine) return;
        const parts = (partial + d.toString()).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) o.onLine(stream, line);
      });
      child[stream]?.on('end', () => { if (partial && o.onLine) o.onLine(stream, partial); });
    }
    let timedOut = false;
    const kill = () => { if (child.pid) signalGroup(child.pid, 'SIGKILL'); };
    const timer = o.timeoutMs > 0 ? setTimeout(() => { timedOut = true; kill(); }, o.timeoutMs) : undefined;
    o.signal?.addEventListener('abort', kill, { once: true });
    if (o.signal?.aborted) kill(); // cancelled before it was spawned: a listener added now would never run
    const done = (r: RunResult) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', kill);
      resolve(r);
    };
    child.on('error', (err) => done({ code: 127, output: [...tail.last(20), `could not run ${argv[0]}: ${err.message}`], timedOut: false }));
    child.on('close', (code) => done({ code: timedOut || o.signal?.aborted ? null : code, output: tail.last(20), timedOut }));
  });
}
