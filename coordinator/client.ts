// A connection to one agent: typed calls with deadlines, and errors turned
// into messages an operator can act on. UNAVAILABLE and DEADLINE_EXCEEDED
// mean the host could not be reached; other codes mean the host said no.
import * as grpc from '@grpc/grpc-js';
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { AgentClientCtor } from '../proto/load.js';
import { clientCredentials, KEEPALIVE_OPTIONS, agentIdentityCheck, hostPart, loadPair, type TlsSettings } from '../common/credentials.js';
import { formatRequest, parseAnswer, MAX_ANSWER_LINE } from '../common/upload-protocol.js';
import type { AgentClient } from '../proto/gen/slipway/v1/Agent.js';
import type { StatusResponse__Output } from '../proto/gen/slipway/v1/StatusResponse.js';
import type { ReleaseInfo__Output } from '../proto/gen/slipway/v1/ReleaseInfo.js';
import type { PruneResponse__Output } from '../proto/gen/slipway/v1/PruneResponse.js';
import type { UploadResult__Output } from '../proto/gen/slipway/v1/UploadResult.js';
import type { UploadMeta } from '../proto/gen/slipway/v1/UploadMeta.js';
import type { UploadTicket__Output } from '../proto/gen/slipway/v1/UploadTicket.js';
import type { DeployEvent__Output } from '../proto/gen/slipway/v1/DeployEvent.js';
import type { ActivateRequest } from '../proto/gen/slipway/v1/ActivateRequest.js';
import type { LogLine__Output } from '../proto/gen/slipway/v1/LogLine.js';
import type { LockResponse__Output } from '../proto/gen/slipway/v1/LockResponse.js';
import type { TaskOutput__Output } from '../proto/gen/slipway/v1/TaskOutput.js';
import type { HistoryEntry__Output } from '../proto/gen/slipway/v1/HistoryEntry.js';

export class HostError extends Error {
  constructor(readonly host: string, message: string, readonly unreachable: boolean, readonly code?: grpc.status) {
    super(message);
    this.name = 'HostError';
  }
}

/** Turns a gRPC error into a HostError whose message says what happened. */
export function hostError(host: string, err: unknown): HostError {
  if (err instanceof HostError) return err;
  const e = err as Partial<grpc.ServiceError>;
  const details = e.details || e.message || String(err);
  switch (e.code) {
    case grpc.status.UNAVAILABLE:
      return new HostError(host, `unreachable: ${shortReason(details)}`, true, e.code);
    case grpc.status.DEADLINE_EXCEEDED:
      return new HostError(host, 'unreachable: no answer before the deadline', true, e.code);
    case undefined:
      return new HostError(host, details, false);
    default:
      return new HostError(host, details, false, e.code);
  }
}

function shortReason(details: string): string {
  const m = /(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|ECONNRESET)/.exec(details);
  if (m) {
    const words: Record<string, string> = {
      ECONNREFUSED: 'connection refused (is slipway-agent running there?)',
      EHOSTUNREACH: 'no route to host', ENETUNREACH: 'network unreachable', ETIMEDOUT: 'connection timed out',
      ENOTFOUND: 'host name not found', EAI_AGAIN: 'host name lookup failed', ECONNRESET: 'connection reset',
    };
    return words[m[1]];
  }
  return details.replace(/^No connection established\. Last error: /, '').replace(/\. Resolution note: ?$/, '');
}

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
/** A data connection with nothing moving this long is dead. */
const DATA_IDLE_MS = 60_000;

export class AgentConnection {
  private readonly client: AgentClient;

  constructor(readonly host: string, private readonly tls: TlsSettings, private readonly deadlineMs: number) {
    this.client = new AgentClientCtor(host, clientCredentials(tls, host), {
      ...KEEPALIVE_OPTIONS,
      // TLS to an IP: grpc-js would send the IP as SNI, which RFC 6066 forbids
      // (Node warns, DEP0123). The agent ignores SNI, and the identity check
      // uses the address dialled (common/credentials.ts), so a fixed name goes.
      ...(!('insecure' in tls) && isIP(host.replace(/^\[|\](:\d+)?$|:\d+$/g, '')) ? { 'grpc.ssl_target_name_override': 'slipway-agent' } : {}),
      'grpc.max_receive_message_length': 8 << 20,
      'grpc.initial_reconnect_backoff_ms': 200,
    }) as unknown as AgentClient;
  }

  private deadline(ms = this.deadlineMs): grpc.CallOptions {
    return { deadline: Date.now() + ms };
  }

  close(): void {
    this.client.close();
  }

  /**
   * A HostError with the real reason when the host was "unreachable" over
   * mTLS: grpc-js calls every TLS failure UNAVAILABLE, so one node:tls
   * connection finds out (coordinator/tls-probe.ts). Other errors pass as they are.
   */
  async explain(err: unknown): Promise<HostError> {
    const e = hostError(this.host, err);
    const details = String((err as Partial<grpc.ServiceError>)?.details ?? '');
    if (e.code !== grpc.status.UNAVAILABLE || 'insecure' in this.tls || /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN/.test(details)) return e;
    const { explainTlsFailure } = await import('./tls-probe.js');
    const why = await explainTlsFailure(this.host, this.tls);
    return why ? new HostError(this.host, why, false, grpc.status.UNAUTHENTICATED) : e;
  }

  // --- monitoring (issue 5): grpc.health.v1 over the same channel
  private healthClient?: grpc.Client & { check: (req: { service: string }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void) => void };

  /**
   * The standard grpc.health.v1 check on the agent's gRPC port, over this
   * connection's channel; resolves with the serving status and the round
   * trip in ms (the first call includes connecting). The health.proto
   * descriptor is loaded here, only by the commands that need it.
   */
  async health(service = ''): Promise<{ status: string; ms: number }> {
    if (!this.healthClient) {
      const { HealthClientCtor: Ctor } = await import('../proto/health.js');
      this.healthClient = new Ctor(this.host, grpc.credentials.createInsecure(), { channelOverride: this.client.getChannel() }) as unknown as NonNullable<typeof this.healthClient>;
    }
    const hc = this.healthClient;
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      hc.check({ service }, this.deadline(), (err, res) => (err || !res
        ? reject(hostError(this.host, err))
        : resolve({ status: res.status, ms: performance.now() - t0 })));
    });
  }
  // --- end monitoring

  status(app = ''): Promise<StatusResponse__Output> {
    return new Promise((resolve, reject) => {
      this.client.Status({ app }, this.deadline(), (err, res) => (err || !res ? reject(hostError(this.host, err)) : resolve(res)));
    });
  }

  listReleases(app = ''): Promise<ReleaseInfo__Output[]> {
    return new Promise((resolve, reject) => {
      this.client.ListReleases({ app }, this.deadline(), (err, res) => (err || !res ? reject(hostError(this.host, err)) : resolve(res.releases)));
    });
  }

  /** Prune (issue 7): removing many large directories can take a while, hence the longer deadline. */
  prune(app: string, keep: number, dryRun: boolean): Promise<PruneResponse__Output> {
    return new Promise((resolve, reject) => {
      this.client.Prune({ app, keep, dry_run: dryRun }, this.deadline(Math.max(this.deadlineMs, 120_000)), (err, res) => (err || !res ? reject(hostError(this.host, err)) : resolve(res)));
    });
  }

  /** How the last upload() went: over the data port, over gRPC's Upload (and why), or not at all (already stored). */
  lastUpload?: { channel: 'data-port' | 'grpc' | 'stored'; fallback?: string };

  /** The deadline of a whole upload: it grows with the size. */
  private uploadMs(size: number): number {
    return this.deadlineMs + Math.ceil(size / (1024 * 1024)) * 1000;
  }

  /**
   * Sends a tarball. BeginUpload first: the agent checks the meta (and
   * answers already_stored), then the bytes go over its data port
   * (agent/transport/data-port.ts), which skips grpc-js's HTTP/2 path. Falls back to
   * gRPC's Upload stream when the agent has no BeginUpload (an older agent,
   * or upload_listen: false) or its data port cannot be reached (a firewall).
   * channel 'grpc': Upload only (the bench compares the two).
   */
  async upload(file: string, meta: UploadMetaInput, onBytes?: (sent: number) => void, opts: { channel?: 'auto' | 'grpc' } = {}): Promise<UploadResult__Output> {
    if (opts.channel === 'grpc') {
      this.lastUpload = { channel: 'grpc', fallback: 'asked for' };
      return this.uploadOverGrpc(file, meta, onBytes);
    }
    let ticket: UploadTicket__Output;
    try {
      ticket = await new Promise<UploadTicket__Output>((resolve, reject) => {
        this.client.BeginUpload(uploadMeta(meta), this.deadline(), (err, res) => (err || !res ? reject(hostError(this.host, err)) : resolve(res)));
      });
    } catch (err) {
      if (err instanceof HostError && err.code === grpc.status.UNIMPLEMENTED) {
        this.lastUpload = { channel: 'grpc', fallback: err.message };
        return this.uploadOverGrpc(file, meta, onBytes);
      }
      throw err;
    }
    if (ticket.already_stored) {
      this.lastUpload = { channel: 'stored' };
      return { sha256: ticket.sha256 || meta.sha256, bytes_received: '0', already_stored: true };
    }
    let sock: Socket;
    try {
      sock = await this.dataConnection(ticket.port);
    } catch (err) {
      // Nothing was sent (the token neither): the agent drops the ticket when it expires.
      this.lastUpload = { channel: 'grpc', fallback: `data port ${ticket.port}: ${(err as Error).message}` };
      return this.uploadOverGrpc(file, meta, onBytes);
    }
    this.lastUpload = { channel: 'data-port' };
    return this.sendOverDataPort(sock, ticket.token, file, meta, onBytes);
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
  private sendOverDataPort(sock: Socket, token: string, file: string, meta: UploadMetaInput, onBytes?: (sent: number) => void): Promise<UploadResult__Output> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (err: HostError | undefined, res?: UploadResult__Output) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve(res!);
      };
      const timer = setTimeout(() => settle(new HostError(this.host, 'unreachable: no answer before the deadline', true, grpc.status.DEADLINE_EXCEEDED)), this.uploadMs(meta.size));
      // Nothing moving either way for this long: the connection is dead.
      sock.setTimeout(Math.max(this.deadlineMs, DATA_IDLE_MS), () => settle(new HostError(this.host, 'unreachable: the upload data connection stalled', true, grpc.status.UNAVAILABLE)));
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
        settle(new HostError(this.host, a.message, false, typeof code === 'number' ? code : undefined));
      });
      sock.on('error', (err) => settle(new HostError(this.host, `unreachable: the upload data connection failed: ${shortReason(err.message)}`, true, grpc.status.UNAVAILABLE)));
      sock.on('close', () => settle(new HostError(this.host, 'unreachable: the agent closed the upload data connection without an answer', true, grpc.status.UNAVAILABLE)));
      const closed = once(sock, 'close').then(() => 'closed' as const, () => 'closed' as const);
      void (async () => {
        sock.write(formatRequest(token));
        let sent = 0;
        for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
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
  uploadOverGrpc(file: string, meta: UploadMetaInput, onBytes?: (sent: number) => void): Promise<UploadResult__Output> {
    const ms = this.uploadMs(meta.size);
    return new Promise((resolve, reject) => {
      const call = this.client.Upload(this.deadline(ms), (err, res) => (err || !res ? reject(hostError(this.host, err)) : resolve(res)));
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
        }
        call.end();
      })().catch((err: unknown) => {
        call.cancel();
        reject(hostError(this.host, err));
      });
    });
  }

  /** start | stop | restart; events like an activation's. Resolves with the last event. */
  async control(app: string, action: string, requestedBy: string, onEvent: (e: DeployEvent__Output) => void, timeoutMs: number): Promise<DeployEvent__Output | undefined> {
    return this.drain(this.client.Control({ app, action, requested_by: requestedBy }, this.deadline(timeoutMs)), onEvent);
  }

  /** The app's last lines, then (follow) new ones until the signal aborts. */
  async logs(app: string, lines: number, followLog: boolean, onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
    const call = this.client.Logs({ app, lines, follow: followLog }, followLog ? {} : this.deadline());
    signal?.addEventListener('abort', () => call.cancel(), { once: true });
    try {
      for await (const l of call) onLine((l as LogLine__Output).line);
    } catch (err) {
      if (signal?.aborted) return;
      throw hostError(this.host, err);
    }
  }

  /** Runs a task; each output line goes to onLine; resolves with the exit code and the agent's summary. */
  async runTask(req: { app: string; task: string; requested_by: string; version?: string; sha256?: string }, onLine: (line: string, stream: string) => void, signal?: AbortSignal): Promise<{ exitCode: number; message: string }> {
    const call = this.client.RunTask(req, {});
    signal?.addEventListener('abort', () => call.cancel(), { once: true });
    let end = { exitCode: -1, message: 'the task ended without an exit code' };
    try {
      for await (const m of call) {
        const out = m as TaskOutput__Output;
        if (out.done) end = { exitCode: out.exit_code, message: out.message };
        else onLine(out.line, out.stream);
      }
    } catch (err) {
      throw hostError(this.host, err);
    }
    return end;
  }

  getEnv(app: string): Promise<Record<string, string>> {
    return new Promise((resolve, reject) => {
      this.client.GetEnv({ app }, this.deadline(), (err, res) => (err || !res ? reject(hostError(this.host, err)) : resolve(res.env)));
    });
  }

  setEnv(app: string, set: Record<string, string>, unset: string[], requestedBy: string): Promise<Record<string, string>> {
    return new Promise((resolve, reject) => {
      this.client.SetEnv({ app, set, unset, requested_by: requestedBy }, this.deadline(), (err, res) => (err || !res ? reject(hostError(this.host, err)) : resolve(res.env)));
    });
  }

  history(app: string, limit: number): Promise<HistoryEntry__Output[]> {
    return new Promise((resolve, reject) => {
      this.client.History({ app, limit }, this.deadline(), (err, res) => (err || !res ? reject(hostError(this.host, err)) : resolve(res.entries)));
    });
  }

  // --- security (issue 6): deploy leases (coordinator/locks.ts)
  lock(req: { app: string; reason: string; ttl_s: number; lease_id?: string; holder: string }): Promise<LockResponse__Output> {
    return new Promise((resolve, reject) => {
      this.client.Lock(req, this.deadline(), (err, res) => (err || !res ? reject(hostError(this.host, err)) : resolve(res)));
    });
  }

  unlock(req: { app: string; lease_id?: string; force?: boolean; requested_by: string }): Promise<LockResponse__Output> {
    return new Promise((resolve, reject) => {
      this.client.Unlock(req, this.deadline(), (err, res) => (err || !res ? reject(hostError(this.host, err)) : resolve(res)));
    });
  }
  // --- end security

  private async drain(call: AsyncIterable<unknown>, onEvent: (e: DeployEvent__Output) => void): Promise<DeployEvent__Output | undefined> {
    let last: DeployEvent__Output | undefined;
    try {
      for await (const ev of call) {
        last = ev as DeployEvent__Output;
        onEvent(last);
      }
    } catch (err) {
      throw hostError(this.host, err);
    }
    return last;
  }

  /** Runs an activation; each event goes to onEvent. Resolves with the last event. */
  async activate(req: ActivateRequest, onEvent: (e: DeployEvent__Output) => void, timeoutMs: number): Promise<DeployEvent__Output | undefined> {
    return this.drain(this.client.Activate(req, this.deadline(timeoutMs)), onEvent);
  }
}
