// Entry of the supervising process: `node supervisor/main.js --socket PATH`.
// Started by the agent in its own session; lives until killed. It refuses to
// start when another supervisor answers on the socket.
import net from 'node:net';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SupervisorDaemon } from './daemon.js';
import { SLIPWAY_VERSION } from '../../../common/package-info.js';

function log(msg: string, fields: object = {}): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), svc: 'slipway-supervisor', pid: process.pid, msg, ...fields })}\n`);
}

const i = process.argv.indexOf('--socket');
const socketPath = i > 0 ? process.argv[i + 1] : undefined;
if (!socketPath) {
  process.stderr.write('usage: supervisor --socket PATH\n');
  process.exit(2);
}

const alive = await new Promise<boolean>((resolve) => {
  const c = net.connect(socketPath, () => { c.destroy(); resolve(true); });
  c.on('error', () => resolve(false));
});
if (alive) {
  log('another supervisor answers on the socket; exiting', { socket: socketPath });
  process.exit(3);
}

mkdirSync(dirname(socketPath), { recursive: true, mode: 0o700 });
chmodSync(dirname(socketPath), 0o700);
rmSync(socketPath, { force: true });
const daemon = new SupervisorDaemon(SLIPWAY_VERSION, log);
const server = net.createServer();
daemon.serve(server);
server.listen(socketPath, () => {
  chmodSync(socketPath, 0o600);
  writeFileSync(join(dirname(socketPath), 'supervisor.pid'), `${process.pid}\n`, { mode: 0o600 });
  log('supervisor listening', { socket: socketPath, version: SLIPWAY_VERSION });
});
server.on('error', (err) => {
  log('cannot listen', { err: err.message });
  process.exit(1);
});
// The agent's terminal signals are not ours; only SIGTERM/SIGKILL end us, and
// ending us leaves the apps running (the next agent deals with them).
process.on('SIGHUP', () => undefined);
process.on('SIGINT', () => undefined);
process.on('SIGPIPE', () => undefined);
process.on('uncaughtException', (err) => log('uncaught exception', { err: err.stack ?? String(err) }));
