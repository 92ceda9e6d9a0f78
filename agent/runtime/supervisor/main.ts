// Entry of the supervising process: `node supervisor/main.js --socket PATH`,
// and of its holder: the same with `--hold` (holder.ts). The agent starts the
// first supervising process in its own session; that one starts its holder;
// when the supervising process dies, the holder starts the next one, which
// adopts the running apps before it answers on the socket. A supervising
// process started by an agent while a holder lives leaves the work to the
// holder's; one that finds another answering on the socket exits.
import net from 'node:net';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SupervisorDaemon } from './daemon.js';
import { HolderLink } from './holder-link.js';
import { HandOverStore, liveHolder } from './handover.js';
import { ANOTHER_SERVES, runHolder } from './holder.js';
import { SLIPWAY_VERSION } from '../../../common/package-info.js';

const role = process.argv.includes('--hold') ? 'slipway-holder' : 'slipway-supervisor';

function log(msg: string, fields: object = {}): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), svc: role, pid: process.pid, msg, ...fields })}\n`);
}

const i = process.argv.indexOf('--socket');
const socketPath = i > 0 ? process.argv[i + 1] : undefined;
if (!socketPath) {
  process.stderr.write('usage: supervisor --socket PATH [--hold]\n');
  process.exit(2);
}
const socketDir = dirname(socketPath);

if (role === 'slipway-holder') {
  runHolder(socketPath, log);
} else {
  await supervise(socketPath);
}

async function supervise(path: string): Promise<void> {
  const byHolder = process.connected;
  if (!byHolder && liveHolder(socketDir, path) !== undefined) {
    log('a holder lives and starts the supervising process itself; exiting', { socket: path });
    process.exit(ANOTHER_SERVES);
  }
  const alive = await new Promise<boolean>((resolve) => {
    const c = net.connect(path, () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
  if (alive) {
    log('another supervisor answers on the socket; exiting', { socket: path });
    process.exit(ANOTHER_SERVES);
  }
  let store = new HandOverStore(false);
  if (byHolder) {
    try {
      store = await HolderLink.receive(10_000);
    } catch (err) {
      log('no usable hand-over from the holder; starting without the apps', { err: (err as Error).message });
    }
  }
  const holder = new HolderLink(path, log, store);
  const daemon = new SupervisorDaemon(SLIPWAY_VERSION, log, holder);
  daemon.adopt(store);

  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  chmodSync(socketDir, 0o700);
  rmSync(path, { force: true });
  const server = net.createServer();
  daemon.serve(server);
  server.listen(path, () => {
    chmodSync(path, 0o600);
    writeFileSync(join(socketDir, 'supervisor.pid'), `${process.pid}\n`, { mode: 0o600 });
    log('supervisor listening', { socket: path, version: SLIPWAY_VERSION, adopted: store.processes().length });
    if (byHolder) holder.useParent();
    else holder.spawnHolder();
  });
  server.on('error', (err) => {
    log('cannot listen', { err: err.message });
    process.exit(1);
  });
}

// The agent's terminal signals are not ours; only SIGTERM/SIGKILL end us, and
// ending us leaves the apps running (the holder starts our successor).
process.on('SIGHUP', () => undefined);
process.on('SIGINT', () => undefined);
process.on('SIGPIPE', () => undefined);
process.on('uncaughtException', (err) => log('uncaught exception', { err: err.stack ?? String(err) }));
