// Runs a short command (an upgrade command, later a task) with a deadline,
// its output to the app's log and the last lines kept.
import { spawn } from 'node:child_process';
import { AppLog, LineTail } from './app-log.js';
import { signalGroup } from './proc.js';

export function runCommand(argv: string[], cwd: string, env: Record<string, string>, timeoutMs: number, log: AppLog, user?: { uid: number; gid: number }): Promise<{ code: number | null; output: string[] }> {
  return new Promise((resolve) => {
    const tail = new LineTail(100);
    const child = spawn(argv[0], argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'], uid: user?.uid, gid: user?.gid });
    const onData = (d: Buffer) => { log.write(d); tail.push(d); };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) signalGroup(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, output: [...tail.last(20), `could not run ${argv[0]}: ${err.message}`] });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? null : code, output: tail.last(20) });
    });
  });
}
