// The standard gRPC health service, grpc.health.v1.Health, served beside the
// agent's own service so stock probes (grpc_health_probe, load balancers,
// the grpc-health-check client) can ask whether it serves:
//   Check  the status of a service name ('' is the whole server); a name
//          never set fails with NOT_FOUND, as the standard says.
//   Watch  the current status at once (SERVICE_UNKNOWN for a name never set,
//          and the call stays open), then one message per change, until the
//          client cancels; the call's listener goes with it.
//   List   every name with its status.
// Ours rather than the grpc-health-check package's HealthImplementation: that
// package loads a second @grpc/proto-loader at import and reads its .proto
// relative to its own files, which breaks a bundled agent. The wire format is
// the same: proto/health.ts loads the same health.proto.
import * as grpc from '@grpc/grpc-js';
import { HealthService, type HealthCheckRequest, type HealthCheckResponse, type HealthListResponse, type ServingStatus } from '../../proto/health.js';

/** The statuses one sets; SERVICE_UNKNOWN is only what Watch says of a name never set. */
export type SettableStatus = Exclude<ServingStatus, 'SERVICE_UNKNOWN'>;

type Watcher = (status: ServingStatus) => void;

/** Listing more names than this fails with RESOURCE_EXHAUSTED, as the standard allows. */
const LIST_LIMIT = 100;

export class HealthStatus {
  private readonly statuses = new Map<string, SettableStatus>();
  private readonly watchers = new Map<string, Set<Watcher>>();

  constructor(initial: Record<string, SettableStatus> = {}) {
    for (const [service, status] of Object.entries(initial)) this.statuses.set(service, status);
  }

  /** Sets a service's status; open Watch calls on it hear of the change (not of a repeat). */
  setStatus(service: string, status: SettableStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const watcher of this.watchers.get(service) ?? []) watcher(status);
  }

  /** The status Check would answer, undefined for a name never set. */
  status(service: string): SettableStatus | undefined {
    return this.statuses.get(service);
  }

  /** Open Watch calls, all names together (tests check that cancelled calls leave none behind). */
  get watching(): number {
    let n = 0;
    for (const set of this.watchers.values()) n += set.size;
    return n;
  }

  /** Adds grpc.health.v1.Health to the server; call it before bindAsync. */
  addToServer(server: grpc.Server): void {
    server.addService(HealthService, {
      Check: (call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: grpc.sendUnaryData<HealthCheckResponse>) => {
        const status = this.statuses.get(call.request.service);
        if (status) callback(null, { status });
        else callback({ code: grpc.status.NOT_FOUND, details: `no health status for service "${call.request.service}"` });
      },
      Watch: (call: grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => this.watch(call),
      List: (_call: grpc.ServerUnaryCall<unknown, HealthListResponse>, callback: grpc.sendUnaryData<HealthListResponse>) => {
        if (this.statuses.size > LIST_LIMIT) {
          callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: `more than ${LIST_LIMIT} services` });
          return;
        }
        const statuses: Record<string, HealthCheckResponse> = {};
        for (const [service, status] of this.statuses) statuses[service] = { status };
        callback(null, { statuses });
      },
    });
  }

  private watch(call: grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse>): void {
    const service = call.request.service;
    const watcher: Watcher = (status) => { call.write({ status }); };
    let set = this.watchers.get(service);
    if (!set) this.watchers.set(service, (set = new Set()));
    set.add(watcher);
    // 'cancelled' comes when the client cancels, the connection drops or the
    // server is shut down by force: every way a Watch call ends.
    call.once('cancelled', () => {
      set.delete(watcher);
      if (set.size === 0 && this.watchers.get(service) === set) this.watchers.delete(service);
    });
    call.write({ status: this.statuses.get(service) ?? 'SERVICE_UNKNOWN' });
  }
}
