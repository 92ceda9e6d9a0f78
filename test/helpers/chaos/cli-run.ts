// The real CLI (dist/bin/slipway.cjs) as a child process whose output is
// watched as it streams: every line is kept, and the progress events it
// prints on stderr (uploading, unpacking, starting, ready, draining, done…)
// are reported the moment they arrive.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLI_BIN } from '../../../scripts/local-fleet.js';
import { cliEvent } from './triggers.js';

export interface CliExit {
  code: number;
  /** Every line, stdout and stderr interleaved as they came. */
  output: string;
}

export class CliRun {
  readonly lines: string[] = [];
  readonly exited: Promise<CliExit>;
  readonly events: string[] = [];
  private readonly child: ChildProcess;
  private listener: (event: string) => void = () => {};

  constructor(cwd: string, args: string[]) {
    this.child = spawn(process.execPath, [CLI_BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const closed = [this.child.stdout!, this.child.stderr!].map((stream) => new Promise<void>((resolve) => {
      const rl = createInterface({ input: stream });
      rl.on('line', (line) => {
        this.lines.push(line);
        const e = cliEvent(line);
        if (e) {
          this.events.push(e);
          this.listener(e);
        }
      });
      rl.on('close', resolve);
    }));
    const exit = new Promise<number>((resolve) => {
      this.child.on('error', (err) => { this.lines.push(`spawn failed: ${err.message}`); resolve(-1); });
      this.child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1)));
    });
    this.exited = Promise.all([exit, ...closed]).then(([code]) => ({ code, output: this.lines.join('\n') }));
  }

  onEvent(fn: (event: string) => void): void {
    this.listener = fn;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Ends a CLI that did not exit by its deadline. */
  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}

/** Runs the CLI to its end. */
export function runCli(cwd: string, ...args: string[]): Promise<CliExit> {
  return new CliRun(cwd, args).exited;
}
