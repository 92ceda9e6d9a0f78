// Maps errors to gRPC statuses in one place, and wraps async handlers: grpc-js
// ignores the promise a handler returns, and a rejection would kill the agent
// (dependencies.md §2.4). Bugs become INTERNAL with the stack logged, never sent.
import * as grpc from '@grpc/grpc-js';
import { SlipwayError, ERROR_CODE_METADATA, type ErrorCode } from '../../common/errors.js';
import type { Logger } from '../logger.js';

/** The catalogue code rides in the trailers beside the gRPC status, for the CLI to print and put in --json. */
function withCode(code: ErrorCode): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set(ERROR_CODE_METADATA, code);
  return md;
}

export function toStatus(err: unknown, log: Logger, method: string): Partial<grpc.StatusObject> {
  if (err instanceof SlipwayError) {
    if (err.code === 'SLIPWAY_ERR_INTERNAL') log.error({ err, method }, 'internal error');
    return { code: grpc.status[err.spec.grpc], details: err.message, metadata: withCode(err.code) };
  }
  log.error({ err, method }, 'internal error');
  const msg = err instanceof Error ? err.message : String(err);
  return { code: grpc.status.INTERNAL, details: `internal error in ${method}: ${msg} (see the agent log)`, metadata: withCode('SLIPWAY_ERR_INTERNAL') };
}

export function unary<Req, Res>(log: Logger, method: string, fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, cb) => {
    fn(call.request, call).then(
      (res) => cb(null, res),
      (err: unknown) => cb(toStatus(err, log, method)),
    );
  };
}

export function serverStream<Req, Res>(log: Logger, method: string, fn: (req: Req, call: grpc.ServerWritableStream<Req, Res>) => Promise<void>): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    fn(call.request, call).then(
      () => call.end(),
      (err: unknown) => call.emit('error', toStatus(err, log, method)),
    );
  };
}
