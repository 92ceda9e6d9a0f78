// The holder: a small process beside the supervising process whose only job
// is to keep copies of what the apps need across a death of the supervising
// process — the listening sockets, the read ends of each app process's pipes
// (so an app writing its output never meets a closed pipe) and the record of
// each process — and to start the next supervising process and hand it all
// over. The two watch each other through their IPC channel: the supervising
// process starts a holder when it has none, the holder starts a supervising
// process when its own is gone. Both are in one process group, so one kill of
// the group ends both (an operator's or a test's full stop).
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { HANDOVER_VERSION, HandOverStore, writeHolderPid, type HandOver, type RawHandle } from './handover.js';

export type Log = (msg: string, fields?: object) => void;

/** Sends a message with an optional libuv handle over an IPC channel (Node types only allow its public wrappers). */
export function sendOver(target: ChildProcess | NodeJS.Process, msg: HandOver, handle?: RawHandle): void {
  try {
    (target.send as (m: unknown, h?: unknown) => boolean)?.call(target, msg, handle);
  } catch { /* the channel is closing; its peer is replaced */ }
}

/** How long a new build's first supervising process must stay up before the build before it is forgotten. */
const NEW_BUILD_PROOF_MS = 10_000;

/** Exit code of a supervising process that found another one serving (main.ts). */
export const ANOTHER_SERVES = 3;

/** Runs the holder; the supervising process that started it is its parent. */
export function runHolder(socketPath: string, log: Log): void {
  writeHolderPid(dirname(socketPath));
  const store = new HandOverStore(true);
  /** The successor's command line: this holder's own build, or the one a `replace` named (protocol 3). */
  let command: string[] = [process.execPath, ...process.execArgv, process.argv[1] as string, '--socket', socketPath];
  /** The command line before a `replace`, while its first successor has not proved itself (stayed up NEW_BUILD_PROOF_MS). */
  let fallback: string[] | undefined;
  let failures = 0;
  const onMessage = (m: HandOver, h?: RawHandle) => {
    if (m.t === 'successor' && Array.isArray(m.argv) && m.argv.length > 0) {
      fallback = command;
      command = m.argv;
      log('the next supervising process will be a new build', { argv: m.argv });
      return;
    }
    store.apply(m, h);
  };

  process.on('message', onMessage);
  process.once('disconnect', () => {
    log('the supervising process is gone; starting its successor', { processes: store.processes().length });
    startSupervisor();
  });
  for (const s of ['SIGHUP', 'SIGINT', 'SIGPIPE'] as const) process.on(s, () => undefined);

  function startSupervisor(): void {
    const [program, ...args] = command;
    const child = spawn(program as string, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: '/' });
    const startedAt = Date.now();
    // On trial: a new build's successor while the build before is kept to go back to. Only its own exit
    // decides (the exit of the process it replaces, up for days, must not count as the new build's proof).
    const trial = fallback !== undefined;
    child.on('error', (err) => log('could not start a supervising process', { err: err.message }));
    child.on('message', onMessage);
    for (const { msg, handle } of store.replay()) sendOver(child, msg, handle);
    sendOver(child, { t: 'end', v: HANDOVER_VERSION });
    log('started a supervising process to adopt the apps', { pid: child.pid, processes: store.processes().length });
    child.once('exit', (code, signal) => {
      if (code === ANOTHER_SERVES) {
        log('another supervising process serves; the holder is no longer needed');
        process.exit(0);
      }
      // A new build's first successor that fails by itself at once: back to the build before (a bad build never stays).
      if (trial && fallback && !signal && Date.now() - startedAt < NEW_BUILD_PROOF_MS) {
        log('the new build of the supervising process failed at its start; starting the one before', { code });
        command = fallback;
        fallback = undefined;
      } else if (trial && fallback && Date.now() - startedAt >= NEW_BUILD_PROOF_MS) {
        fallback = undefined;
      }
      // Killed: start the next at once. Failed by itself: back off, and give up after a few (the agent then starts afresh).
      failures = signal ? 0 : failures + 1;
      if (failures > 5) {
        log('the supervising process keeps failing; the holder gives up', { code });
        process.exit(1);
      }
      log('the supervising process is gone; starting its successor', { code, signal, processes: store.processes().length });
      setTimeout(startSupervisor, failures ? Math.min(100 * 2 ** failures, 5000) : 0);
    });
  }
}
