// Sending a release to one agent: BeginUpload, then the bytes over the
// agent's data port (common/upload-protocol.ts), or over gRPC's Upload
// stream when the agent has no data port or it cannot be reached.
import * as grpc from '@grpc/grpc-js';
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { agentIdentityCheck, hostPart, loadPair, type TlsSettings } from '../common/credentials.js';
import { formatRequest, parseAnswer, MAX_ANSWER_LINE } from '../common/upload-protocol.js';
import { isErrorCode } from '../common/errors.js';
import { HostError, hostError, shortReason, unary } from './call.js';
import type { AgentClient } from '../proto/gen/slipway/v1/Agent.js';
import type { UploadResult__Output } from '../proto/gen/slipway/v1/UploadResult.js';
import type { UploadMeta } from '../proto/gen/slipway/v1/UploadMeta.js';
import type { UploadTicket__Output } from '../proto/gen/slipway/v1/UploadTicket.js';
import type { FetchProgress__Output } from '../proto/gen/slipway/v1/FetchProgress.js';

export interface UploadMetaInput {
  app: string;
  version: string;
  sha256: string;
  size: number;
  /** `<tarball>.sig` (common/signing.ts); none: unsigned. */
  signature?: { signature: string; key_id: string; manifest_sha256: string };
}

/** Upload's first message and BeginUpload's request: the release meta with its signature fields. */
function uploadMeta(meta: UploadMetaInput): UploadMeta {
  const sig = meta.signature;
  return {
    app: meta.app, version: meta.version, sha256: meta.sha256, size: meta.size,
    ...(sig ? { signature: Buffer.from(sig.signature, 'base64'), key_id: sig.key_id, manifest_sha256: sig.manifest_sha256 } : {}),
  };
}

/** How long connecting to the data port may take before the upload goes over gRPC instead. */
const DATA_CONNECT_MS = 10_000;
/**
 * An upload with nothing moving this long is dead (a stall timeout, not a
 * deadline on the whole upload: a slow link that moves is never cut off).
 */
const DATA_IDLE_MS = 60_000;
/** Resumes in a row that move no byte before a cut-off upload is given up. */
const UPLOAD_RESUMES = 3;

/** How the bytes went: the data port, gRPC's Upload (with why not the data port), or not at all (the agent had the release). */
export type UploadChannel = 'data-port' | 'grpc' | 'stored' | 'store';

export interface UploadDone extends UploadResult__Output {
  channel: UploadChannel;
  /** Why the bytes went over gRPC rather than the data port (or were pushed rather than fetched). */
  fallback?: string;
  /** channel 'store': dropped connections the agent resumed. */
  resumes?: number;
}

/** An agent fetching from the store says nothing for this long (no byte arrives, none of its resumes works): given up. */
const FETCH_SILENCE_MS = 5 * 60_000;

/** Uploads over one agent's gRPC client (AgentConnection's). */
export class Uploader {
  constructor(private readonly host: string, private readonly tls: TlsSettings, private readonly deadlineMs: number, private readonly client: AgentClient) {}

  private deadline(ms = this.deadlineMs): grpc.CallOptions {
    return { deadline: Date.now() + ms };
  }


  /**
   * Sends a tarball. BeginUpload first: the agent checks the meta (and
   * answers already_stored), then the bytes go over its data port
   * (agent/transport/data-port.ts), which skips grpc-js's HTTP/2 path. Falls back to
   * gRPC's Upload stream when the agent has no BeginUpload (an older agent,
   * or upload_listen: false) or its data port cannot be reached (a firewall).
   * channel 'grpc': Upload only (the bench compares the two). The result
   * says which channel the bytes took, and why not the data port.
   */
  async upload(file: string, meta: UploadMetaInput, onBytes?: (sent: number) => void, opts: { channel?: 'auto' | 'grpc' } = {}): Promise<UploadDone> {
    if (opts.channel === 'grpc') return { ...await this.overGrpc(file, meta, onBytes), channel: 'grpc', fallback: 'asked for' };
    // A data connection that drops or stalls is resumed: the agent keeps what it received (UploadTicket.offset).
    let fruitless = 0;
    let best = 0;
    for (;;) {
      let reached = 0;
      try {
        return await this.uploadOnce(file, meta, (sent) => { reached = sent; onBytes?.(sent); });
      } catch (err) {
        if (!(err instanceof HostError) || !err.unreachable || !/upload data connection/.test(err.message)) throw err;
        fruitless = reached > best ? 0 : fruitless + 1;
        best = Math.max(best, reached);
        if (fruitless >= UPLOAD_RESUMES) throw err;
        await new Promise((r) => setTimeout(r, 500 * 2 ** fruitless));
      }
    }
  }

  private async uploadOnce(file: string, meta: UploadMetaInput, onBytes?: (sent: number) => void): Promise<UploadDone> {
    const overGrpc = async (fallback: string): Promise<UploadDone> => ({ ...await this.overGrpc(file, meta, onBytes), channel: 'grpc', fallback });
    let ticket: UploadTicket__Output;
    try {
      ticket = await unary<UploadTicket__Output>(this.host, (cb) => this.client.BeginUpload(uploadMeta(meta), this.deadline(), cb));
    } catch (err) {
      if (err instanceof HostError && err.status === grpc.status.UNIMPLEMENTED) return overGrpc(err.message);
      throw err;
    }
    if (ticket.already_stored) return { sha256: ticket.sha256 || meta.sha256, bytes_received: '0', already_stored: true, channel: 'stored' };
    let sock: Socket;
    try {
      sock = await this.dataConnection(ticket.port);
    } catch (err) {
      // Nothing was sent (the token neither): the agent drops the ticket when it expires.
      return overGrpc(`data port ${ticket.port}: ${(err as Error).message}`);
    }
    return { ...await this.sendOverDataPort(sock, ticket.token, file, meta, onBytes, Number(ticket.offset ?? 0)), channel: 'data-port' };
  }

  /**
   * Has the agent pull the release from the artifact store (Fetch): only the
   * URL and the meta go from here. onBytes with the agent's bytes so far.
   * UNIMPLEMENTED (an older agent) rejects with that HostError: the caller pushes.
   */
  fetchFromStore(url: string, meta: UploadMetaInput, onBytes?: (received: number) => void): Promise<UploadDone> {
    return new Promise((resolve, reject) => {
      const call = this.client.Fetch({ meta: uploadMeta(meta), url });
      let last: FetchProgress__Output | undefined;
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          call.cancel();
          reject(new HostError(this.host, `the agent reported no progress fetching from the artifact store for ${FETCH_SILENCE_MS / 60_000} min`, true, grpc.status.DEADLINE_EXCEEDED));
        }, FETCH_SILENCE_MS);
      };
      arm();
      call.on('data', (p: FetchProgress__Output) => {
        arm();
        last = p;
        if (!p.done && !p.already_stored) onBytes?.(Number(p.bytes_received));
      });
      call.on('error', (err) => { clearTimeout(timer); reject(hostError(this.host, err)); });
      // The status, not 'end': on a failure 'end' can come before 'error'.
      call.on('status', (st: grpc.StatusObject) => {
        clearTimeout(timer);
        if (st.code !== grpc.status.OK) return;
        if (!last?.done) return reject(new HostError(this.host, 'the agent ended Fetch without saying the release is stored', false, grpc.status.INTERNAL));
        resolve({
          sha256: last.sha256, bytes_received: last.bytes_received, already_stored: last.already_stored,
          channel: last.already_stored ? 'stored' : 'store', resumes: last.resumes,
        });
      });
    });
  }

  /** A connection to the agent's data port: TLS with our certificate and the same agent check as gRPC's, unless insecure. */
  private dataConnection(port: number): Promise<Socket> {
    const host = hostPart(this.host);
    return new Promise((resolve, reject) => {
      let sock: Socket;
      const ready = () => { sock.setTimeout(0); sock.off('error', fail); resolve(sock); };
      const fail = (err: Error) => { sock.destroy(); reject(err); };
      if ('insecure' in this.tls) {
        sock = netConnect({ host, port }, ready);
      } else {
        const pair = loadPair(this.tls);
        // No SNI for an IP (RFC 6066), as for gRPC; the identity check uses the address dialled.
        sock = tlsConnect({
          host, port, ca: pair.ca, cert: pair.cert, key: pair.key, servername: isIP(host) ? undefined : host,
          checkServerIdentity: agentIdentityCheck(this.host), minVersion: 'TLSv1.2',
        }, ready);
      }
      sock.setTimeout(Math.min(this.deadlineMs, DATA_CONNECT_MS), () => fail(new Error('connection timed out')));
      sock.once('error', fail);
    });
  }

  /** The header line, the file's bytes with backpressure, then the agent's one-line answer. */
  private sendOverDataPort(sock: Socket, token: string, file: string, meta: UploadMetaInput, onBytes: ((sent: number) => void) | undefined, offset: number): Promise<UploadResult__Output> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (err: HostError | undefined, res?: UploadResult__Output) => {
        if (settled) return;
        settled = true;
        sock.destroy();
        if (err) reject(err);
        else resolve(res!);
      };
      // No deadline on the whole upload (a slow link is not a dead one): nothing moving either way for this long is.
      sock.setTimeout(Math.max(this.deadlineMs, DATA_IDLE_MS), () => settle(new HostError(this.host, `unreachable: the upload data connection stalled (nothing moved for ${Math.round(Math.max(this.deadlineMs, DATA_IDLE_MS) / 1000)} s)`, true, grpc.status.UNAVAILABLE)));
      let answer = '';
      sock.on('data', (d: Buffer) => {
        answer += d.toString('utf8');
        const nl = answer.indexOf('\n');
        if (nl < 0) {
          if (answer.length > MAX_ANSWER_LINE) settle(new HostError(this.host, 'the agent\'s data port answered something that is not an upload answer', false, grpc.status.INTERNAL));
          return;
        }
        const a = parseAnswer(answer.slice(0, nl));
        if (!a) return settle(new HostError(this.host, `the agent's data port answered ${JSON.stringify(answer.slice(0, 200))}`, false, grpc.status.INTERNAL));
        if (a.ok) return settle(undefined, { sha256: a.sha256, bytes_received: String(a.bytes_received), already_stored: false });
        const code = grpc.status[a.code as keyof typeof grpc.status] as grpc.status | undefined;
        settle(new HostError(this.host, a.message, false, typeof code === 'number' ? code : undefined, isErrorCode(a.error_code) ? a.error_code : undefined));
      });
      sock.on('error', (err) => settle(new HostError(this.host, `unreachable: the upload data connection failed: ${shortReason(err.message)}`, true, grpc.status.UNAVAILABLE)));
      sock.on('close', () => settle(new HostError(this.host, 'unreachable: the agent closed the upload data connection without an answer', true, grpc.status.UNAVAILABLE)));
      const closed = once(sock, 'close').then(() => 'closed' as const, () => 'closed' as const);
      void (async () => {
        sock.write(formatRequest(token));
        let sent = offset;
        for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20, start: offset })) {
          if (settled) return;
          const buf = chunk as Buffer;
          sent += buf.length;
          const ok = sock.write(buf);
          onBytes?.(sent);
          if (!ok && (await Promise.race([once(sock, 'drain').then(() => 'drain' as const, () => 'closed' as const), closed])) === 'closed') return;
        }
        // The agent answers once `size` bytes are in; the connection stays open for that answer.
        if (sent < meta.size) settle(new HostError(this.host, `${file} has ${sent} bytes, not the announced ${meta.size}; nothing was stored`, false, grpc.status.INVALID_ARGUMENT));
      })().catch((err: unknown) => settle(new HostError(this.host, `cannot read ${file}: ${(err as Error).message}`, false)));
    });
  }

  /**
   * gRPC's Upload: the tarball in 1 MiB chunks with backpressure. The
   * deadline covers the whole upload, so it grows with the size.
   */
  private overGrpc(file: string, meta: UploadMetaInput, onBytes?: (sent: number) => void): Promise<UploadResult__Output> {
    const stallMs = Math.max(this.deadlineMs, DATA_IDLE_MS);
    return new Promise((resolve, reject) => {
      let stalled = false;
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => { stalled = true; call.cancel(); }, stallMs);
      };
      const call = this.client.Upload({}, (err, res) => {
        clearTimeout(timer);
        if (stalled) reject(new HostError(this.host, `unreachable: the upload stalled (nothing moved for ${Math.round(stallMs / 1000)} s)`, true, grpc.status.DEADLINE_EXCEEDED));
        else if (err || !res) reject(hostError(this.host, err));
        else resolve(res);
      });
      arm();
      // A client stream reports failure only through the callback and 'status';
      // waiting for 'drain' alone could hang for ever (dependencies.md §2.5).
      const ended = new Promise<'ended'>((r) => call.once('status', () => r('ended')));
      void (async () => {
        call.write({ meta: uploadMeta(meta) });
        let sent = 0;
        for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
          const buf = chunk as Buffer;
          sent += buf.length;
          const ok = call.write({ data: buf });
          onBytes?.(sent);
          if (!ok && (await Promise.race([once(call, 'drain').then(() => 'drain' as const), ended])) === 'ended') return;
          arm();
        }
        call.end();
        // The agent commits (hash, fsync, rename) before it answers: that is not a stall.
        clearTimeout(timer);
        timer = setTimeout(() => { stalled = true; call.cancel(); }, Math.max(stallMs, 120_000));
      })().catch((err: unknown) => {
        call.cancel();
        reject(hostError(this.host, err));
      });
    });
  }
}
