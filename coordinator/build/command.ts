// Runs `build.command` in the build directory with a timeout, passing its
// output on line by line and keeping the last lines for the error message.
import { spawn } from 'node:child_process';
import { BuildError } from './errors.js';

export interface CommandOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  log: (line: string) => void;
  /** Lines kept for the error message. */
  tail?: number;
  /** Time between SIGTERM and SIGKILL after the timeout. */
  killGraceMs?: number;
}

/** A string runs through `sh -c`; an array is spawned directly. */
export function commandArgv(command: string | string[]): [string, string[]] {
  if (typeof command === 'string') return ['sh', ['-c', command]];
  const [program, ...args] = command;
  return [program, args];
}

export function describeCommand(command: string | string[]): string {
  return typeof command === 'string' ? command : command.map((a) => (/^[\w./:=@%+-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** Splits a stream of chunks into lines; `flush()` hands on the last, unterminated one. */
export class LineSplitter {
  private rest = '';
  constructor(private readonly onLine: (line: string) => void) {}
  push(chunk: string): void {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    for (const p of parts) this.onLine(p.replace(/\r$/, ''));
  }
  flush(): void {
    if (this.rest !== '') this.onLine(this.rest.replace(/\r$/, ''));
    this.rest = '';
  }
}

export async function runBuildCommand(command: string | string[], opts: CommandOptions): Promise<void> {
  const [program, args] = commandArgv(command);
  const tailSize = opts.tail ?? 20;
  const tail: string[] = [];
  const onLine = (line: string): void => {
    opts.log(line);
    tail.push(line);
    if (tail.length > tailSize) tail.shift();
  };
  const out = new LineSplitter(onLine);
  const err = new LineSplitter(onLine);
  const what = describeCommand(command);

  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; timedOut: boolean }>((resolve, reject) => {
    // Its own process group, so a timeout stops everything the command started.
    const child = spawn(program, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs ?? 5000);
    }, opts.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (c: string) => out.push(c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => err.push(c));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new BuildError(`cannot start the build command (${what}): ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      resolve({ code, signal, timedOut });
    });
  });
  out.flush();
  err.flush();

  const shown = tail.length > 0 ? `; its last ${tail.length} lines of output:\n${tail.map((l) => `  | ${l}`).join('\n')}` : ' (it wrote no output)';
  if (result.timedOut) {
    throw new BuildError(`the build command (${what}) took longer than build.timeout_s (${opts.timeoutMs / 1000} s) and was stopped${shown}`);
  }
  if (result.code !== 0) {
    const how = result.code === null ? `was killed by ${result.signal ?? 'a signal'}` : `failed with exit code ${result.code}`;
    throw new BuildError(`the build command (${what}) ${how}${shown}`);
  }
}
