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
// ok:false answer. A data connection cut before the end keeps its upload
// (temp file and running hash) for upload_ticket_s: the same client's next
// BeginUpload of that release resumes it (UploadTicket.offset). gRPC's Upload stays for clients and agents without the
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

/** Cut-off uploads kept for a resume at once; past this the oldest is dropped. */
const MAX_SUSPENDED = 64;

interface Ticket {
  upload: Upload;
  /** Bytes already in the upload (a resumed one): the client sends from here. */
  offset: number;
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
  /**
   * Uploads whose data connection was cut before the end, by sha256 and client
   * certificate: their temp file and running hash are kept for ticketMs, so
   * that the client's next BeginUpload resumes at the bytes already received
   * (UploadTicket.offset) instead of sending everything again.
   */
  private readonly suspended = new Map<string, { upload: Upload; received: number; timer: NodeJS.Timeout }>();
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  address = '';

  constructor(private readonly log: Logger, private readonly opts: UploadPortOptions) {}

  get secure(): boolean {
    return this.opts.tls !== undefined;
  }

  /**
   * A ticket for the rest of a cut-off upload of this release from this
   * client, if one is kept (the same app, version, size and sha256); else undefined.
   */
  resume(meta: { app: string; version: string; sha256: string; size: number }, fingerprint: string | undefined): { token: string; offset: number } | undefined {
    const key = `${meta.sha256}/${fingerprint ?? ''}`;
    const s = this.suspended.get(key);
    if (!s) return undefined;
    const u = s.upload;
    if (u.app !== meta.app || u.version !== meta.version || u.size !== meta.size) return undefined;
    this.suspended.delete(key);
    clearTimeout(s.timer);
    this.log.info({ app: u.app, version: u.version, offset: s.received, size: u.size }, 'upload resumed from the bytes already received');
    return { token: this.issue(u, fingerprint, s.received), offset: s.received };
  }

  /** Keeps a cut-off upload for a resume (resume()), dropped after ticketMs. */
  private suspend(upload: Upload, received: number, fingerprint: string | undefined): void {
    const key = `${upload.sha256}/${fingerprint ?? ''}`;
    const old = this.suspended.get(key);
    if (old) { clearTimeout(old.timer); void old.upload.abort(); }
    if (this.suspended.size >= MAX_SUSPENDED) {
      const [k, oldest] = this.suspended.entries().next().value as [string, { upload: Upload; timer: NodeJS.Timeout }];
      clearTimeout(oldest.timer);
      this.suspended.delete(k);
      void oldest.upload.abort();
    }
    const timer = setTimeout(() => {
      if (this.suspended.get(key)?.upload !== upload) return;
      this.suspended.delete(key);
      this.log.warn({ app: upload.app, version: upload.version, received }, 'cut-off upload not resumed in time; its partial file is removed');
      void upload.abort();
    }, this.opts.ticketMs);
    timer.unref();
    this.suspended.set(key, { upload, received, timer });
  }

  /** Parks a begun upload; returns its token. offset: bytes it already holds (a resume). */
  issue(upload: Upload, fingerprint: string | undefined, offset = 0): string {
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
    this.tickets.set(token, { upload, fingerprint, timer, offset });
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
    for (const [key, s] of this.suspended) {
      clearTimeout(s.timer);
      this.suspended.delete(key);
      await s.upload.abort();
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
      this.receive(socket, ticket.upload, rest, ticket.offset, fingerprint);
    };
    socket.on('data', onHead);
  }

  /** The release's bytes (from offset on), with backpressure from the store's file; commit when all `size` are in. */
  private receive(socket: net.Socket, upload: Upload, first: Buffer, offset: number, fingerprint: string | undefined): void {
    const t0 = performance.now();
    let received = offset;
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
      // Kept for a resume: the client's next BeginUpload gets the offset (the bytes hashed and written so far).
      this.log.warn({ app: upload.app, version: upload.version, received, size: upload.size }, 'upload data connection closed before the release was complete; kept for a resume');
      this.suspend(upload, received, fingerprint);
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
