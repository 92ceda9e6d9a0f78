// One agent per state dir. Two agents on one state dir would both drive the
// same supervising process and write the same records, so the second one
// refuses to start, naming the first one's pid.
//
// The lock is a listening abstract Unix socket named after the state dir's
// device and inode: binding it is atomic, the kernel releases it when the
// holder dies (kill -9 included), and a bind mount of the same dir gives the
// same name. Abstract sockets belong to a network namespace, so the pid file
// beside it (state_dir/agent.pid: pid and start time) also catches a holder
// in another namespace that is still alive, and names the pid in both cases.
import { createServer, type Server } from 'node:net';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { SlipwayError } from '../common/errors.js';
import { isSameProcess, processStartTicks } from './runtime/process/proc.js';

export const PID_FILE = 'agent.pid';

interface PidRecord { pid: number; start_ticks: number }

/** The pid of another live agent recorded in the state dir, if any. */
export function recordedHolder(stateDir: string, self = process.pid): number | undefined {
  let rec: Partial<PidRecord>;
  try {
    rec = JSON.parse(readFileSync(join(stateDir, PID_FILE), 'utf8')) as Partial<PidRecord>;
  } catch {
    return undefined;
  }
  if (typeof rec.pid !== 'number' || typeof rec.start_ticks !== 'number' || rec.pid === self) return undefined;
  return isSameProcess(rec.pid, rec.start_ticks) ? rec.pid : undefined;
}

function refusal(stateDir: string, pid: number | undefined): SlipwayError {
  const who = pid === undefined ? 'another slipway-agent' : `another slipway-agent (pid ${pid})`;
  return new SlipwayError('SLIPWAY_ERR_HOST_SETUP',
    `${who} already runs on state_dir ${stateDir}; two agents on one state dir would drive the same apps. ` +
    'Stop the other one first (systemctl stop slipway-agent), or give this one its own state_dir.');
}

export class StateDirLock {
  private constructor(private readonly server: Server, private readonly stateDir: string) {}

  /** Takes the lock or throws SLIPWAY_ERR_HOST_SETUP naming the holder. Makes the state dir if missing. */
  static async acquire(stateDir: string): Promise<StateDirLock> {
    mkdirSync(stateDir, { recursive: true, mode: 0o750 });
    const st = statSync(stateDir);
    const name = `\0slipway-agent-state:${st.dev}:${st.ino}`;
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? refusal(stateDir, recordedHolder(stateDir)) : err));
      server.listen({ path: name }, () => resolve());
    });
    // A holder in another network namespace does not hold this socket: the pid file still names it.
    const other = recordedHolder(stateDir);
    if (other !== undefined) {
      server.close();
      throw refusal(stateDir, other);
    }
    server.unref();
    const start = processStartTicks(process.pid);
    try {
      await writeFileAtomic(join(stateDir, PID_FILE), `${JSON.stringify({ pid: process.pid, start_ticks: start ?? 0 })}\n`, 0o644);
    } catch {
      // A full disk must not keep the agent from starting (it is how the disk gets freed): the socket is the lock;
      // the pid file only names the holder, and a stale one names a process that is gone.
    }
    return new StateDirLock(server, stateDir);
  }

  /** Gives the lock up (a clean stop); a killed agent's lock goes with its process. */
  release(): void {
    if (recordedHolder(this.stateDir, -1) === process.pid) rmSync(join(this.stateDir, PID_FILE), { force: true });
    this.server.close();
  }
}
