// The data port: a release's bytes over a plain socket (TLS with the agent's
// certificate, a deployer certificate required, as on gRPC), authorised by a
// BeginUpload call. grpc-js's HTTP/2 path costs about a fifth of the upload's
// throughput on a small host (docs/benchmarks.md); this path costs none of it.
//
// BeginUpload checks the meta exactly as Upload's first message is checked
// (ReleaseStore.open: names, size, signature, disk space, dedupe) and parks
// the begun Upload under a random single-use token for upload_ticket_s. On a
// data connection the client sends the request line with the token, then
// exactly `size` bytes (common/upload-protocol.ts has the format); once they
// are in, the Upload is committed as gRPC's would be, the answer is one line,
// and the agent ends the connection. An unknown, used or expired token, or a
// certificate other than the one BeginUpload was called with, gets an
// ok:false answer. gRPC's Upload stays for clients and agents without the
// data port.
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { SlipwayError } from '../../common/errors.js';
import { rolesOf, type LoadedPair } from '../../common/credentials.js';
import { UPLOAD_PROTOCOL, MAX_REQUEST_LINE, parseRequest, formatAnswer, type UploadAnswer } from '../../common/upload-protocol.js';
import { hostOf, portOf } from '../config.js';
import type { Upload } from '../storage/store.js';
import type { Logger } from '../logger.js';

/** Tickets waiting for their data connection at once; BeginUpload beyond this is RESOURCE_EXHAUSTED. */
const MAX_TICKETS = 64;

interface Ticket {
  upload: Upload;
  /** The client certificate BeginUpload came with (sha256 fingerprint); none on an insecure agent. */
  fingerprint?: string;
  timer: NodeJS.Timeout;
}

export interface UploadPortOptions {
  /** The agent's certificate pair; none: plain TCP (tls: insecure, loopback only). */
  tls?: LoadedPair;
  ticketMs: number;
  /** A data connection with nothing arriving this long is dropped (and its upload aborted). */
  idleMs?: number;
}

export class UploadPort {
  private server?: net.Server;
  private readonly tickets = new Map<string, Ticket>();
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  address = '';

  constructor(private readonly log: Logger, private readonly opts: UploadPortOptions) {}

  get secure(): boolean {
    return this.opts.tls !== undefined;
  }

  /** Parks a begun upload; returns its token. */
  issue(upload: Upload, fingerprint: string | undefined): string {
    if (this.tickets.size >= MAX_TICKETS) {
      throw new SlipwayError('SLIPWAY_ERR_BUSY', `${MAX_TICKETS} uploads are already waiting for their data connection on this agent; try again shortly`);
    }
    const token = randomBytes(32).toString('hex');
    const timer = setTimeout(() => {
      if (!this.tickets.delete(token)) return;
      this.log.warn({ app: upload.app, version: upload.version }, 'upload ticket expired before its data connection; upload dropped');
      void upload.abort();
    }, this.opts.ticketMs);
    timer.unref();
    this.tickets.set(token, { upload, fingerprint, timer });
    return token;
  }

  /** Takes a ticket (single use). */
  private claim(token: string): Ticket | undefined {
    const t = this.tickets.get(token);
    if (!t) return undefined;
    this.tickets.delete(token);
    clearTimeout(t.timer);
    return t;
  }

  listen(addr: string): Promise<string> {
    const onSocket = (socket: net.Socket) => this.accept(socket);
    const pair = this.opts.tls;
    const server = pair
      ? tls.createServer({ cert: pair.cert, key: pair.key, ca: pair.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' }, onSocket)
      : net.createServer(onSocket);
    server.maxConnections = 2 * MAX_TICKETS;
    // Every connection, a TLS one before its handshake too, so that close() can end them all.
    server.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    // A failed handshake (no certificate, another CA) never reaches accept().
    server.on('tlsClientError', (err) => this.log.debug({ err: err.message }, 'upload data port: TLS handshake refused'));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(portOf(addr), hostOf(addr), () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.error({ err }, 'upload data port error'));
        const a = server.address() as net.AddressInfo;
        this.port = a.port;
        this.address = `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
        resolve(this.address);
      });
    });
  }

  /** A renewed certificate (the agent's reload): new connections get it. */
  setCertificate(pair: LoadedPair): void {
    if (this.server instanceof tls.Server) this.server.setSecureContext({ cert: pair.cert, key: pair.key, ca: pair.ca });
  }

  /** Stops listening, drops open data connections and every waiting ticket (their temp files go). */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    for (const s of this.sockets) s.destroy();
    for (const [token, t] of this.tickets) {
      clearTimeout(t.timer);
      this.tickets.delete(token);
      await t.upload.abort();
    }
    await closed;
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => { /* reported where it matters: the upload is aborted on close */ });
    socket.setNoDelay(true);
    let fingerprint: string | undefined;
    if (socket instanceof tls.TLSSocket) {
      const cert = socket.getPeerCertificate();
      fingerprint = cert.fingerprint256;
      const roles = rolesOf(cert.subjectaltname);
      if (!roles.includes('deployer')) {
        const cn = (Array.isArray(cert.subject?.CN) ? cert.subject.CN[0] : cert.subject?.CN) ?? '?';
        this.log.warn({ cn, roles }, 'upload data port: refused a client certificate without the deployer role');
        const has = roles.length ? `role ${roles.join(', ')}` : 'no slipway role';
        return this.answer(socket, { ok: false, code: 'PERMISSION_DENIED', message: `certificate "${cn}" has ${has}; only a deployer certificate may upload to this agent` });
      }
    }
    socket.setTimeout(this.opts.idleMs ?? 30_000, () => {
      this.log.warn('upload data port: connection idle, dropped');
      socket.destroy();
    });
    let head = Buffer.alloc(0);
    const onHead = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(0x0a);
      if (nl < 0) {
        if (head.length > MAX_REQUEST_LINE) {
          socket.off('data', onHead);
          this.answer(socket, { ok: false, code: 'INVALID_ARGUMENT', message: `expected "${UPLOAD_PROTOCOL} <token>" and a newline within ${MAX_REQUEST_LINE} bytes` });
        }
        return;
      }
      socket.off('data', onHead);
      const line = head.subarray(0, nl).toString('latin1');
      const rest = head.subarray(nl + 1);
      const token = parseRequest(line);
      if (!token) {
        return this.answer(socket, { ok: false, code: 'INVALID_ARGUMENT', message: `expected "${UPLOAD_PROTOCOL} <token>" as the first line` });
      }
      const ticket = this.claim(token);
      if (!ticket) {
        this.log.warn('upload data port: refused an unknown, used or expired upload token');
        return this.answer(socket, { ok: false, code: 'PERMISSION_DENIED', message: 'the upload token is unknown, used or expired; call BeginUpload again' });
      }
      if (ticket.fingerprint !== fingerprint) {
        void ticket.upload.abort();
        this.log.warn('upload data port: the token came with another certificate than its BeginUpload; upload dropped');
        return this.answer(socket, { ok: false, code: 'PERMISSION_DENIED', message: 'the upload token was issued to another client certificate' });
      }
      this.receive(socket, ticket.upload, rest);
    };
    socket.on('data', onHead);
  }

  /** The release's bytes, with backpressure from the store's file; commit when all `size` are in. */
  private receive(socket: net.Socket, upload: Upload, first: Buffer): void {
    const t0 = performance.now();
    let received = 0;
    let done = false;
    const fail = (err: unknown) => {
      if (done) return;
      done = true;
      socket.off('data', onData);
      void upload.abort();
      const e = err instanceof SlipwayError ? err : undefined;
      if (!e) this.log.error({ err, app: upload.app, version: upload.version }, 'upload data port: internal error');
      this.answer(socket, e
        ? { ok: false, code: e.spec.grpc, message: e.message, error_code: e.code }
        : { ok: false, code: 'INTERNAL', message: `internal error in the upload: ${err instanceof Error ? err.message : String(err)} (see the agent log)`, error_code: 'SLIPWAY_ERR_INTERNAL' });
    };
    const onData = (chunk: Buffer) => {
      if (done) return;
      try {
        received += chunk.length;
        const more = upload.write(chunk); // throws past the announced size
        if (received === upload.size) {
          done = true;
          socket.off('data', onData);
          socket.pause();
          upload.commit().then((stored) => {
            const ms = performance.now() - t0;
            this.log.info({ app: upload.app, version: upload.version, sha256: upload.sha256, bytes: received, ms: Math.round(ms) }, 'upload received on the data port');
            this.answer(socket, { ok: true, sha256: stored.sha256, bytes_received: stored.size });
          }, (err: unknown) => { done = false; fail(err); });
          return;
        }
        if (!more) {
          socket.pause();
          upload.onDrain(() => socket.resume());
        }
      } catch (err) {
        fail(err);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => {
      if (done) return;
      done = true;
      this.log.warn({ app: upload.app, version: upload.version, received, size: upload.size }, 'upload data connection closed before the release was complete; nothing was stored');
      void upload.abort();
    });
    if (first.length) onData(first);
  }

  /**
   * One answer line, then the end. Whatever the client still sends is read
   * and dropped for a moment, so that it gets the answer rather than a reset.
   */
  private answer(socket: net.Socket, a: UploadAnswer): void {
    socket.removeAllListeners('data');
    socket.on('data', () => { /* dropped */ });
    socket.setTimeout(5_000, () => socket.destroy());
    socket.resume();
    socket.end(formatAnswer(a));
  }
}
