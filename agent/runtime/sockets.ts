// The app's listening sockets, bound by the agent once and inherited by every
// version it starts (fds 3, 4, … with LISTEN_FDS/LISTEN_FDNAMES). The agent
// never accepts on them: a socket is bound without polling (Node's internal
// net._createServerHandle) and put into the listening state by a short-lived
// helper child, so connections queue in the kernel's backlog until an app
// version accepts them (zero-downtime.md, "Handing sockets").
import net from 'node:net';
import { spawn } from 'node:child_process';
import { getSystemErrorName } from 'node:util';
import { SlipwayError } from '../../common/errors.js';
import type { ListenSpec } from '../../common/manifest.js';
import type { RawHandle } from './supervisor/handover.js';

export interface BoundSocket {
  name: string;
  host: string;
  port: number;
  fd: number;
  /** The libuv handle holding it, for the hand-over to the holder (supervisor/handover.ts). */
  handle: RawHandle;
  close(): void;
}

/** Node's internal bind-only handle (used by its cluster module); typed here because it is not public. */
interface ServerHandle {
  fd: number;
  close(cb?: () => void): void;
  getsockname(out: { address?: string; port?: number }): number;
}
type CreateServerHandle = (address: string, port: number, addressType: number, fd?: number, flags?: number) => ServerHandle | number;

const createServerHandle = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;

export function bindAddressFor(spec: ListenSpec, appBind?: string): string {
  return appBind ?? spec.host;
}

/** Binds one socket and puts it into the listening state without accepting on it. */
export async function bindSocket(spec: ListenSpec, appBind?: string): Promise<BoundSocket> {
  const host = bindAddressFor(spec, appBind);
  const family = net.isIP(host);
  if (family === 0) throw new SlipwayError('SLIPWAY_ERR_BAD_RELEASE', `listen "${spec.name}": host "${host}" is not an IP address`);
  const refused = (code: string) => {
    const hint = code === 'EADDRINUSE' ? ' (another process holds it; stop it, or set app_bind to give this agent its own address)' : '';
    return new SlipwayError('SLIPWAY_ERR_HOST_SETUP', `cannot bind ${host}:${spec.port} for listen "${spec.name}": ${code}${hint}`);
  };
  const handle = createServerHandle(host, spec.port, family, undefined, 0);
  if (typeof handle === 'number') throw refused(errnoName(handle));
  // libuv keeps a bind's EADDRINUSE for listen() to report (a "delayed error"), and listen() is
  // called on this fd by another process (makeListening), where it never sees it: the socket
  // would stay unbound and listen() would bind it to a random port on every address. So the
  // bind is checked here, on the socket itself.
  const out: { address?: string; port?: number } = {};
  handle.getsockname(out);
  if (!out.port || (spec.port !== 0 && out.port !== spec.port)) {
    handle.close();
    throw refused('EADDRINUSE');
  }
  try {
    await makeListening(handle.fd, 511);
  } catch (err) {
    handle.close();
    throw err;
  }
  return { name: spec.name, host, port: out.port ?? spec.port, fd: handle.fd, handle, close: () => handle.close() };
}

/** A helper child calls listen() on the inherited fd and exits; the listening state stays on the shared socket. */
function makeListening(fd: number, backlog: number): Promise<void> {
  const script = `require('net').createServer().listen({fd:3,backlog:${backlog}},function(){process.exit(0)}).on('error',function(e){console.error(e.message);process.exit(1)})`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'pipe', fd] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new SlipwayError('SLIPWAY_ERR_HOST_SETUP', `could not put socket fd ${fd} into the listening state: ${err.trim() || `exit ${code}`}`))));
  });
}

function errnoName(code: number): string {
  try {
    return getSystemErrorName(code);
  } catch {
    return `error ${code}`;
  }
}

/** The sockets of one app, keyed by name, host and port; kept across activations. */
export class SocketSet {
  private readonly sockets = new Map<string, BoundSocket>();

  /** onBound: told of each socket bound here (the supervising process hands it to its holder). */
  constructor(private readonly appBind?: string, private readonly onBound?: (spec: ListenSpec, s: BoundSocket) => void) {}

  private key(spec: ListenSpec): string {
    return `${spec.name}|${bindAddressFor(spec, this.appBind)}|${spec.port}`;
  }

  /** Takes a socket a predecessor bound for `spec` (handed over by the holder), bound to `port`. */
  adopt(spec: ListenSpec, port: number, handle: RawHandle): void {
    const k = this.key(spec);
    if (!this.sockets.has(k)) this.sockets.set(k, { name: spec.name, host: bindAddressFor(spec, this.appBind), port, fd: handle.fd, handle, close: () => handle.close() });
  }

  /** The sockets for these specs, in their order, binding the ones not held yet. */
  async ensure(specs: readonly ListenSpec[]): Promise<BoundSocket[]> {
    const out: BoundSocket[] = [];
    for (const spec of specs) {
      const k = this.key(spec);
      let s = this.sockets.get(k);
      if (!s) {
        s = await bindSocket(spec, this.appBind);
        this.sockets.set(k, s);
        this.onBound?.(spec, s);
      }
      out.push(s);
    }
    return out;
  }
}
