// The supervising process's side of its holder (holder.ts): every socket it
// binds and every process it starts is reported to the holder, with the
// handles; a holder that dies is replaced by a new one, given everything.
import { spawn, type ChildProcess } from 'node:child_process';
import { HandOverStore, HANDOVER_VERSION, type HandOver, type RawHandle } from './handover.js';
import { sendOver, type Log } from './holder.js';

export class HolderLink {
  private child?: ChildProcess;
  private closed = false;

  /** `store`: what a predecessor handed over (empty for a first supervising process). */
  constructor(private readonly socketPath: string, private readonly log: Log, readonly store = new HandOverStore(false)) {}

  get holderPid(): number | undefined {
    return this.child?.pid ?? (process.connected ? process.ppid : undefined);
  }

  /** Started by a holder: it is our parent; if it dies, start a new one as our child. */
  useParent(): void {
    process.once('disconnect', () => {
      if (this.closed) return;
      this.log('the holder is gone; starting a new one');
      this.spawnHolder();
    });
  }

  spawnHolder(): void {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1] as string, '--socket', this.socketPath, '--hold'], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: '/',
    });
    this.child = child;
    child.on('error', (err) => this.log('could not start the holder', { err: err.message }));
    for (const { msg, handle } of this.store.replay()) sendOver(child, msg, handle);
    this.log('started the holder', { pid: child.pid });
    child.once('exit', (code, signal) => {
      if (this.child !== child || this.closed) return;
      this.child = undefined;
      this.log('the holder is gone; starting a new one', { code, signal });
      setTimeout(() => this.spawnHolder(), 1000).unref();
    });
  }

  report(msg: HandOver, handle?: RawHandle): void {
    this.store.apply(msg, handle);
    if (this.child?.connected) sendOver(this.child, msg, handle);
    else if (!this.child && process.connected) sendOver(process, msg, handle);
  }

  /** Collects a predecessor's hand-over from the parent holder, until its `end`. */
  static receive(timeoutMs: number): Promise<HandOverStore> {
    const store = new HandOverStore(false);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no hand-over from the holder within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (m: HandOver, h?: RawHandle) => {
        if (m.v !== HANDOVER_VERSION) {
          clearTimeout(timer);
          process.off('message', onMessage);
          reject(new Error(`the holder speaks hand-over version ${m.v}, this supervising process ${HANDOVER_VERSION}`));
          return;
        }
        if (m.t !== 'end') {
          store.apply(m, h);
          return;
        }
        clearTimeout(timer);
        process.off('message', onMessage);
        resolve(store);
      };
      process.on('message', onMessage);
    });
  }
}
