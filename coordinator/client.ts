// A connection to one agent: typed calls with deadlines, and errors turned
// into messages an operator can act on (call.ts: HostError). Uploads are in
// upload.ts.
import * as grpc from '@grpc/grpc-js';
import { AgentClientCtor } from '../proto/load.js';
import { KEEPALIVE_OPTIONS, type TlsSettings } from '../common/credentials.js';
import { agentCredentials } from './agent-tls.js';
import { HostError, hostError, unary } from './call.js';
import { Uploader, type UploadMetaInput, type UploadDone } from './upload.js';
import type { AgentClient } from '../proto/gen/slipway/v1/Agent.js';
import type { StatusResponse__Output } from '../proto/gen/slipway/v1/StatusResponse.js';
import type { ListReleasesResponse__Output } from '../proto/gen/slipway/v1/ListReleasesResponse.js';
import type { ReleaseInfo__Output } from '../proto/gen/slipway/v1/ReleaseInfo.js';
import type { PruneResponse__Output } from '../proto/gen/slipway/v1/PruneResponse.js';
import type { EnvResponse__Output } from '../proto/gen/slipway/v1/EnvResponse.js';
import type { HistoryResponse__Output } from '../proto/gen/slipway/v1/HistoryResponse.js';
import type { DeployEvent__Output } from '../proto/gen/slipway/v1/DeployEvent.js';
import type { ActivateRequest } from '../proto/gen/slipway/v1/ActivateRequest.js';
import type { LogLine__Output } from '../proto/gen/slipway/v1/LogLine.js';
import type { LockResponse__Output } from '../proto/gen/slipway/v1/LockResponse.js';
import type { TaskOutput__Output } from '../proto/gen/slipway/v1/TaskOutput.js';
import type { TaskInput } from '../proto/gen/slipway/v1/TaskInput.js';
import type { Readable } from 'node:stream';
import type { HistoryEntry__Output } from '../proto/gen/slipway/v1/HistoryEntry.js';

export { HostError, hostError } from './call.js';
export type { UploadMetaInput, UploadDone, UploadChannel } from './upload.js';

export class AgentConnection {
  private readonly client: AgentClient;
  private readonly uploader: Uploader;

  constructor(readonly host: string, private readonly tls: TlsSettings, private readonly deadlineMs: number) {
    // One TLS context for every channel, the agent's certificate judged once per certificate (agent-tls.ts).
    this.client = new AgentClientCtor(host, agentCredentials(tls, host), {
      ...KEEPALIVE_OPTIONS,
      'grpc.max_receive_message_length': 8 << 20,
      'grpc.initial_reconnect_backoff_ms': 200,
      // After a partition heals, a host whose outcome is unknown is asked again within the grace
      // period: the default 120 s ceiling on reconnect backoff would outlast it.
      'grpc.max_reconnect_backoff_ms': 5000,
      // channelz keeps a registry entry and call counters per channel and
      // subchannel: CPU and memory for nobody in a CLI talking to 1,000 hosts.
      'grpc.enable_channelz': 0,
      // A pool of its own: grpc-js's global subchannel pool walks every subchannel of the process
      // on each channel's close, O(hosts²) for a fan-out (~0.1 ms per host at 1,000, measured).
      'grpc.use_local_subchannel_pool': 1,
    }) as unknown as AgentClient;
    this.uploader = new Uploader(host, tls, deadlineMs, this.client);
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
    if (e.status !== grpc.status.UNAVAILABLE || 'insecure' in this.tls || /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN/.test(details)) return e;
    const { explainTlsFailure } = await import('./tls-probe.js');
    const why = await explainTlsFailure(this.host, this.tls);
    return why ? new HostError(this.host, why, false, grpc.status.UNAUTHENTICATED, 'SLIPWAY_ERR_CREDENTIALS') : e;
  }

  /** The grpc.health.v1 client over this connection's channel, made on first use. */
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
    const res = await unary<{ status: string }>(this.host, (cb) => hc.check({ service }, this.deadline(), cb));
    return { status: res.status, ms: performance.now() - t0 };
  }

  status(app = ''): Promise<StatusResponse__Output> {
    return unary<StatusResponse__Output>(this.host, (cb) => this.client.Status({ app }, this.deadline(), cb));
  }

  async listReleases(app = ''): Promise<ReleaseInfo__Output[]> {
    return (await unary<ListReleasesResponse__Output>(this.host, (cb) => this.client.ListReleases({ app }, this.deadline(), cb))).releases;
  }

  /** Removing many large directories can take a while, hence the longer deadline. */
  prune(app: string, keep: number, dryRun: boolean): Promise<PruneResponse__Output> {
    return unary<PruneResponse__Output>(this.host, (cb) => this.client.Prune({ app, keep, dry_run: dryRun }, this.deadline(Math.max(this.deadlineMs, 120_000)), cb));
  }

  /**
   * Sends a tarball: over the agent's data port, else over gRPC's Upload
   * (upload.ts). The result says which channel the bytes took, and why not
   * the data port; channel 'grpc' asks for gRPC's Upload only.
   */
  upload(file: string, meta: UploadMetaInput, onBytes?: (sent: number) => void, opts: { channel?: 'auto' | 'grpc' } = {}): Promise<UploadDone> {
    return this.uploader.upload(file, meta, onBytes, opts);
  }

  /** The agent pulls the release from the artifact store (upload.ts: fetchFromStore); UNIMPLEMENTED from an older agent. */
  fetchFromStore(url: string, meta: UploadMetaInput, onBytes?: (received: number) => void): Promise<UploadDone> {
    return this.uploader.fetchFromStore(url, meta, onBytes);
  }

  /** start | stop | restart; events like an activation's. Resolves with the last event. */
  async control(app: string, action: string, requestedBy: string, onEvent: (e: DeployEvent__Output) => void, timeoutMs: number): Promise<DeployEvent__Output | undefined> {
    return this.drain(this.client.Control({ app, action, requested_by: requestedBy }, this.deadline(timeoutMs)), onEvent);
  }

  /**
   * Every activation event on the agent as it happens (empty app: every
   * app's), until the signal aborts (resolves) or the stream ends: resolves
   * when the agent ended it (it drops a watcher that reads too slowly), throws
   * a HostError when the call failed (status UNIMPLEMENTED: an older agent).
   * onOpen: the agent has subscribed this call (it sends headers at once).
   */
  async watch(app: string, onEvent: (e: DeployEvent__Output) => void, signal?: AbortSignal, onOpen?: () => void): Promise<void> {
    const call = this.client.Watch({ app }, {});
    if (onOpen) call.once('metadata', onOpen);
    signal?.addEventListener('abort', () => call.cancel(), { once: true });
    try {
      for await (const ev of call) onEvent(ev as DeployEvent__Output);
    } catch (err) {
      if (signal?.aborted) return;
      throw hostError(this.host, err);
    }
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

  /**
   * Runs a task; each output line goes to onLine; resolves with the exit code and the agent's summary.
   * With `input`, the task's stdin streams from it as it comes (RunTaskStream), ended with it.
   */
  async runTask(req: { app: string; task: string; requested_by: string; version?: string; sha256?: string; args?: string[] }, onLine: (line: string, stream: string) => void, signal?: AbortSignal, input?: Readable): Promise<{ exitCode: number; message: string }> {
    let call: grpc.ClientReadableStream<TaskOutput__Output> | grpc.ClientDuplexStream<TaskInput, TaskOutput__Output>;
    if (input) {
      const duplex = this.client.RunTaskStream({});
      duplex.write({ start: req });
      void pumpInput(input, duplex);
      call = duplex;
    } else {
      call = this.client.RunTask(req, {});
    }
    signal?.addEventListener('abort', () => call.cancel(), { once: true });
    let end = { exitCode: -1, message: 'the task ended without an exit code' };
    try {
      for await (const m of call) {
        const out = m as TaskOutput__Output;
        if (out.done) end = { exitCode: out.exit_code, message: out.message };
        else onLine(out.line, out.stream);
      }
    } catch (err) {
      if (input && (err as grpc.ServiceError).code === grpc.status.UNIMPLEMENTED) {
        throw new HostError(this.host, 'this agent cannot stream a task\'s stdin (RunTaskStream): it is older than this slipway; upgrade it (slipway agent upgrade ENV)', false, grpc.status.UNIMPLEMENTED);
      }
      throw hostError(this.host, err);
    }
    return end;
  }

  async getEnv(app: string): Promise<Record<string, string>> {
    return (await unary<EnvResponse__Output>(this.host, (cb) => this.client.GetEnv({ app }, this.deadline(), cb))).env;
  }

  async setEnv(app: string, set: Record<string, string>, unset: string[], requestedBy: string): Promise<Record<string, string>> {
    return (await unary<EnvResponse__Output>(this.host, (cb) => this.client.SetEnv({ app, set, unset, requested_by: requestedBy }, this.deadline(), cb))).env;
  }

  async history(app: string, limit: number): Promise<HistoryEntry__Output[]> {
    return (await unary<HistoryResponse__Output>(this.host, (cb) => this.client.History({ app, limit }, this.deadline(), cb))).entries;
  }

  /** Takes or renews the app's deploy lease (coordinator/locks.ts). */
  lock(req: { app: string; reason: string; ttl_s: number; lease_id?: string; holder: string; inspect?: boolean; record?: boolean }): Promise<LockResponse__Output> {
    return unary<LockResponse__Output>(this.host, (cb) => this.client.Lock(req, this.deadline(), cb));
  }

  /** Releases the app's deploy lease (force: whoever holds it). */
  unlock(req: { app: string; lease_id?: string; force?: boolean; requested_by: string; record?: boolean }): Promise<LockResponse__Output> {
    return unary<LockResponse__Output>(this.host, (cb) => this.client.Unlock(req, this.deadline(), cb));
  }

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

/** Sends a readable's bytes as a task's stdin, waiting while the call's buffer is full; then ends the input. */
async function pumpInput(input: Readable, call: grpc.ClientDuplexStream<TaskInput, TaskOutput__Output>): Promise<void> {
  try {
    for await (const chunk of input) {
      if (call.destroyed) return;
      if (!call.write({ stdin: chunk as Buffer })) await new Promise((resolve) => call.once('drain', resolve));
    }
    if (!call.destroyed) {
      call.write({ stdin_end: true });
      call.end();
    }
  } catch {
    call.cancel(); // the input could not be read: the task is ended, its output says so
  }
}
